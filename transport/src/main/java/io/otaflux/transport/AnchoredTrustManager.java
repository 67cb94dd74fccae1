package io.otaflux.transport;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PublicKey;
import java.security.cert.CertPathBuilder;
import java.security.cert.CertStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CertificateParsingException;
import java.security.cert.CollectionCertStoreParameters;
import java.security.cert.PKIXBuilderParameters;
import java.security.cert.PKIXCertPathBuilderResult;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.HashMap;
import java.util.Set;
import java.util.StringJoiner;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

import io.otaflux.OtaException.Detail;

import org.jspecify.annotations.Nullable;

/**
 * The JDK's PKIX trust manager on our anchors (hostname, dates, chain, key usage), followed by the
 * pin check on the chain PKIX builds. Every refusal is a {@link TrustFailure} naming its cause.
 * Only the {@code SSLEngine} form checks the host name, so the two-argument form refuses outright.
 */
final class AnchoredTrustManager extends ServerTrustManager {

  private final X509ExtendedTrustManager pkix;
  private final List<X509Certificate> anchorCertificates;
  /** By name and key, not certificate: the JDK's builder would skip an anchor past its dates. */
  private final Set<TrustAnchor> anchors;
  private final Map<PublicKey, X509Certificate> anchorsByKey;
  private final String anchorsDescription;
  private final @Nullable Set<SpkiPin> pins;

  private AnchoredTrustManager(X509ExtendedTrustManager pkix, List<X509Certificate> anchorCertificates,
      String anchorsDescription, @Nullable Set<SpkiPin> pins) {
    this.pkix = pkix;
    this.anchorCertificates = anchorCertificates;
    Set<TrustAnchor> byName = new HashSet<>();
    Map<PublicKey, X509Certificate> byKey = new HashMap<>();
    for (X509Certificate c : anchorCertificates) {
      byName.add(new TrustAnchor(c.getSubjectX500Principal(), c.getPublicKey(), null));
      byKey.putIfAbsent(c.getPublicKey(), c);
    }
    this.anchors = byName;
    this.anchorsByKey = byKey;
    this.anchorsDescription = anchorsDescription;
    this.pins = pins;
  }

  static AnchoredTrustManager create(TrustAnchors trust, @Nullable Set<SpkiPin> pins) throws GeneralSecurityException {
    TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
    if (trust.isJdkDefault()) {
      factory.init((KeyStore) null);
    } else {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      try {
        store.load(null, null);
      } catch (java.io.IOException e) {
        throw new GeneralSecurityException("cannot create an empty key store", e);
      }
      int i = 0;
      for (X509Certificate c : trust.certificates()) {
        store.setCertificateEntry("anchor-" + i++, c);
      }
      factory.init(store);
    }
    X509ExtendedTrustManager pkix = null;
    for (TrustManager tm : factory.getTrustManagers()) {
      if (tm instanceof X509ExtendedTrustManager) {
        pkix = (X509ExtendedTrustManager) tm;
      }
    }
    if (pkix == null) {
      throw new GeneralSecurityException("the PKIX trust manager factory made no X509ExtendedTrustManager");
    }
    Collection<X509Certificate> certs = trust.isJdkDefault() ? Arrays.asList(pkix.getAcceptedIssuers())
        : trust.certificates();
    return new AnchoredTrustManager(pkix, List.copyOf(certs), trust.description(),
        pins == null ? null : Set.copyOf(pins));
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    String host = engine.getPeerHost() == null ? "the server" : engine.getPeerHost();
    try {
      pkix.checkServerTrusted(chain, authType, engine);
    } catch (CertificateException e) {
      throw diagnose(chain, host, e);
    }
    checkPins(chain, host);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    String host = socket.getInetAddress() == null ? "the server" : socket.getInetAddress().getHostName();
    try {
      pkix.checkServerTrusted(chain, authType, socket);
    } catch (CertificateException e) {
      throw diagnose(chain, host, e);
    }
    checkPins(chain, host);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    throw new TrustFailure(Detail.HOST_MISMATCH, "The connection offered no host name to verify the certificate against; refused.", null);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return pkix.getAcceptedIssuers();
  }

  /** What a person should know of a chain that passed: an anchor past its dates. */
  List<String> warnings(X509Certificate[] chain) {
    PKIXCertPathBuilderResult path = build(chain);
    if (path == null) {
      return List.of();
    }
    X509Certificate anchor = anchorsByKey.get(path.getTrustAnchor().getCAPublicKey());
    if (anchor != null && anchor.getNotAfter().before(new Date())) {
      return List.of("The trust anchor \"" + anchor.getSubjectX500Principal().getName() + "\" expired on "
          + anchor.getNotAfter().toInstant() + "; it is still used, but replace it (ota get-cert fetches the"
          + " current one) before the server's chain moves on.");
    }
    return List.of();
  }

  private void checkPins(X509Certificate[] chain, String host) throws TrustFailure {
    Set<SpkiPin> wanted = pins;
    if (wanted == null) {
      return;
    }
    if (wanted.isEmpty()) {
      throw new TrustFailure(Detail.PIN_MISMATCH, "Pinning is on but no pin was given, so no chain can pass; give at least one"
          + " sha256/BASE64 pin or turn pinning off.", null);
    }
    PKIXCertPathBuilderResult path = build(chain);
    if (path == null) {
      throw new TrustFailure(Detail.PIN_MISMATCH, "The validated chain of " + host + " could not be rebuilt to check its pins; refused.",
          null);
    }
    List<X509Certificate> validated = validatedChain(path);
    for (X509Certificate c : validated) {
      if (wanted.contains(SpkiPin.of(c))) {
        return;
      }
    }
    StringJoiner found = new StringJoiner(", ");
    for (X509Certificate c : validated) {
      found.add(SpkiPin.of(c) + " (" + c.getSubjectX500Principal().getName() + ")");
    }
    StringJoiner expected = new StringJoiner(", ");
    wanted.forEach(p -> expected.add(p.toString()));
    throw new TrustFailure(Detail.PIN_MISMATCH, "None of the pinned keys (" + expected + ") is in the validated chain of " + host
        + ", whose keys are: " + found + ". Someone may be intercepting the connection, or the server's keys"
        + " changed: check, then update the pins.", null);
  }

  /** The chain PKIX builds from the leaf to one of our anchors, anchor included. */
  private List<X509Certificate> validatedChain(PKIXCertPathBuilderResult path) {
    List<X509Certificate> chain = new ArrayList<>();
    for (java.security.cert.Certificate c : path.getCertPath().getCertificates()) {
      chain.add((X509Certificate) c);
    }
    X509Certificate anchor = anchorsByKey.get(path.getTrustAnchor().getCAPublicKey());
    if (anchor != null && !chain.contains(anchor)) {
      chain.add(anchor);
    }
    return chain;
  }

  private @Nullable PKIXCertPathBuilderResult build(X509Certificate[] chain) {
    if (chain.length == 0 || anchors.isEmpty()) {
      return null;
    }
    try {
      X509CertSelector target = new X509CertSelector();
      target.setCertificate(chain[0]);
      PKIXBuilderParameters parameters = new PKIXBuilderParameters(anchors, target);
      parameters.setRevocationEnabled(false);
      parameters.addCertStore(CertStore.getInstance("Collection", new CollectionCertStoreParameters(Arrays.asList(chain))));
      return (PKIXCertPathBuilderResult) CertPathBuilder.getInstance("PKIX").build(parameters);
    } catch (GeneralSecurityException | RuntimeException e) {
      return null;
    }
  }

  private TrustFailure diagnose(X509Certificate[] chain, String host, CertificateException e) {
    if (chain.length == 0) {
      return new TrustFailure(Detail.UNTRUSTED_CHAIN, host + " presented no certificate; refused.", e);
    }
    X509Certificate leaf = chain[0];
    Instant now = Instant.now();
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof CertificateExpiredException || c instanceof CertificateNotYetValidException) {
        return dates(chain, host, now, e);
      }
    }
    // the JDK checks the chain before the name: a chain that leads to an anchor was refused for its name
    // (decided from the certificate itself, never from the JDK's wording)
    if (!HostNames.matches(leaf, host) && build(chain) != null) {
      return new TrustFailure(Detail.HOST_MISMATCH, "The certificate of " + host + " is for " + names(leaf) + ", not for " + host
          + "; hostname verification refused it. Use a URL with one of those names, or fix the server's certificate.", e);
    }
    if (outOfDate(leaf, now)) {
      return dates(chain, host, now, e);
    }
    X509Certificate top = topmost(chain);
    String issuer = top.getIssuerX500Principal().getName();
    for (X509Certificate a : anchorCertificates) {
      String impostor = null;
      if (a.getSubjectX500Principal().equals(top.getIssuerX500Principal()) && !signedBy(top, a)) {
        impostor = issuer;
      }
      for (X509Certificate c : chain) {
        if (c.getSubjectX500Principal().equals(a.getSubjectX500Principal()) && !c.getPublicKey().equals(a.getPublicKey())) {
          impostor = c.getSubjectX500Principal().getName();
        }
      }
      if (impostor != null) {
        return new TrustFailure(Detail.UNTRUSTED_CHAIN, "The chain of " + host + " holds a CA named \"" + impostor + "\", but not with"
            + " the key of the trust anchor of that name: someone may be intercepting the connection, or the CA was"
            + " re-keyed. Nothing was sent to the server.", e);
      }
    }
    return new TrustFailure(Detail.UNTRUSTED_CHAIN, "The certificate of " + host + " was issued by \"" + issuer + "\", which is not among"
        + " the trust anchors (" + anchorsDescription + "). If you trust that CA, give its certificate as a trust"
        + " anchor (ota get-cert fetches it).", e);
  }

  private static TrustFailure dates(X509Certificate[] chain, String host, Instant now, CertificateException e) {
    for (X509Certificate c : chain) {
      if (c.getNotAfter().toInstant().isBefore(now)) {
        return new TrustFailure(Detail.CERTIFICATE_DATES, "The certificate \"" + c.getSubjectX500Principal().getName() + "\" of " + host
            + " expired on " + c.getNotAfter().toInstant() + "; refused. Renew it on the server (or check the"
            + " device clock).", e);
      }
      if (c.getNotBefore().toInstant().isAfter(now)) {
        return new TrustFailure(Detail.CERTIFICATE_DATES, "The certificate \"" + c.getSubjectX500Principal().getName() + "\" of " + host
            + " is not valid before " + c.getNotBefore().toInstant() + "; refused. Check the device clock.", e);
      }
    }
    return new TrustFailure(Detail.CERTIFICATE_DATES, "A certificate in the chain of " + host + " is outside its validity dates ("
        + e.getMessage() + "); refused. Check the server's certificates and the device clock.", e);
  }

  private static boolean outOfDate(X509Certificate c, Instant now) {
    return c.getNotAfter().toInstant().isBefore(now) || c.getNotBefore().toInstant().isAfter(now);
  }

  /** The last certificate reached from the leaf by following issuers among those presented. */
  static X509Certificate topmost(X509Certificate[] chain) {
    X509Certificate current = chain[0];
    Set<X509Certificate> seen = new LinkedHashSet<>();
    seen.add(current);
    boolean moved = true;
    while (moved && !isSelfIssued(current)) {
      moved = false;
      for (X509Certificate c : chain) {
        if (!seen.contains(c) && c.getSubjectX500Principal().equals(current.getIssuerX500Principal())
            && signedBy(current, c)) {
          current = c;
          seen.add(c);
          moved = true;
          break;
        }
      }
    }
    return current;
  }

  static boolean isSelfIssued(X509Certificate c) {
    return c.getSubjectX500Principal().equals(c.getIssuerX500Principal());
  }

  static boolean signedBy(X509Certificate c, X509Certificate issuer) {
    try {
      c.verify(issuer.getPublicKey());
      return true;
    } catch (GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }

  static String names(X509Certificate leaf) {
    List<String> names = new ArrayList<>();
    try {
      Collection<List<?>> alt = leaf.getSubjectAlternativeNames();
      if (alt != null) {
        for (List<?> entry : alt) {
          Object type = entry.get(0);
          if (Integer.valueOf(2).equals(type) || Integer.valueOf(7).equals(type)) {
            names.add(String.valueOf(entry.get(1)));
          }
        }
      }
    } catch (CertificateParsingException e) {
      // fall back to the subject
    }
    if (names.isEmpty()) {
      return "\"" + leaf.getSubjectX500Principal().getName() + "\" (no subject alternative names)";
    }
    return String.join(", ", names);
  }
}
