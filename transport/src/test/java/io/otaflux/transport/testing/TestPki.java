package io.otaflux.transport.testing;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A test PKI built with BouncyCastle (EC P-256, so it is quick): a root, an intermediate under
 * it, and server identities for {@code localhost}/{@code 127.0.0.1} and for the cases a
 * transport must refuse or warn about. Built once per JVM ({@link #shared()}); reusable by other
 * modules' tests through the transport test-jar.
 */
public final class TestPki {

  /** The subject of the test root; the MITM root has the same one with another key. */
  public static final String ROOT_NAME = "CN=OtaFlux Test Root,O=OtaFlux Tests";
  /** The subject of the test intermediate; the MITM intermediate has the same one. */
  public static final String INTERMEDIATE_NAME = "CN=OtaFlux Test Intermediate,O=OtaFlux Tests";

  private static final AtomicLong SERIAL = new AtomicLong(System.nanoTime() & 0xffffff);
  private static volatile TestPki shared;

  private final Ca root;
  private final Ca intermediate;
  private final Ca unrelatedRoot;
  private final Ca mitmRoot;
  private final Ca mitmIntermediate;
  private final Ca expiredRoot;
  private final Ca underExpiredRoot;
  private final Ca expiringRoot;
  private final Ca underExpiringRoot;

  private TestPki() {
    Instant now = Instant.now();
    Duration day = Duration.ofDays(1);
    root = Ca.selfSigned(ROOT_NAME, now.minus(day), now.plus(Duration.ofDays(3650)));
    intermediate = root.issueCa(INTERMEDIATE_NAME, now.minus(day), now.plus(Duration.ofDays(1825)));
    unrelatedRoot = Ca.selfSigned("CN=Unrelated Test Root,O=Elsewhere", now.minus(day), now.plus(Duration.ofDays(3650)));
    mitmRoot = Ca.selfSigned(ROOT_NAME, now.minus(day), now.plus(Duration.ofDays(3650)));
    mitmIntermediate = mitmRoot.issueCa(INTERMEDIATE_NAME, now.minus(day), now.plus(Duration.ofDays(1825)));
    expiredRoot = Ca.selfSigned("CN=Expired Test Root,O=OtaFlux Tests", now.minus(Duration.ofDays(800)),
        now.minus(Duration.ofDays(2)));
    underExpiredRoot = expiredRoot.issueCa("CN=Intermediate Under Expired Root,O=OtaFlux Tests", now.minus(day),
        now.plus(Duration.ofDays(365)));
    expiringRoot = Ca.selfSigned("CN=Expiring Test Root,O=OtaFlux Tests", now.minus(Duration.ofDays(300)),
        now.plus(Duration.ofDays(30)));
    underExpiringRoot = expiringRoot.issueCa("CN=Intermediate Under Expiring Root,O=OtaFlux Tests", now.minus(day),
        now.plus(Duration.ofDays(29)));
  }

  /**
   * The PKI of this JVM, built on first use.
   *
   * @return the PKI
   */
  public static TestPki shared() {
    TestPki p = shared;
    if (p == null) {
      synchronized (TestPki.class) {
        p = shared;
        if (p == null) {
          p = new TestPki();
          shared = p;
        }
      }
    }
    return p;
  }

  /** @return the root CA */
  public Ca root() {
    return root;
  }

  /** @return the intermediate CA under {@link #root()} */
  public Ca intermediate() {
    return intermediate;
  }

  /** @return a root that issued nothing the servers use */
  public Ca unrelatedRoot() {
    return unrelatedRoot;
  }

  /** @return a root with {@link #ROOT_NAME} but its own key */
  public Ca mitmRoot() {
    return mitmRoot;
  }

  /** @return a root past its notAfter */
  public Ca expiredRoot() {
    return expiredRoot;
  }

  /** @return a root expiring in 30 days */
  public Ca expiringRoot() {
    return expiringRoot;
  }

  /**
   * {@code localhost} and {@code 127.0.0.1}, chain leaf + intermediate (no root, as most servers).
   *
   * @return the identity
   */
  public Identity localhost() {
    return intermediate.serve("localhost");
  }

  /**
   * As {@link #localhost()}, sending the root too.
   *
   * @return the identity
   */
  public Identity localhostWithRoot() {
    Identity id = localhost();
    List<X509Certificate> chain = new ArrayList<>(id.chain());
    chain.add(root.certificate());
    return new Identity(id.key(), chain);
  }

  /**
   * As {@link #localhost()}, plus a certificate of the unrelated root the server sends for
   * nothing (a pin of it must not pass).
   *
   * @return the identity
   */
  public Identity localhostWithStrayCertificate() {
    Identity id = localhost();
    List<X509Certificate> chain = new ArrayList<>(id.chain());
    chain.add(unrelatedRoot.certificate());
    return new Identity(id.key(), chain);
  }

  /** @return a leaf for localhost whose dates have passed */
  public Identity expiredLocalhost() {
    Instant now = Instant.now();
    return intermediate.serve(now.minus(Duration.ofDays(60)), now.minus(Duration.ofDays(1)), "localhost");
  }

  /** @return a leaf for localhost valid only from tomorrow */
  public Identity notYetValidLocalhost() {
    Instant now = Instant.now();
    return intermediate.serve(now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(60)), "localhost");
  }

  /** @return a valid leaf from the intermediate for {@code other.example} only */
  public Identity otherHost() {
    return intermediate.serve("other.example");
  }

  /**
   * A self-signed leaf for {@code localhost} (not a CA): what a device gets from a server
   * someone set up with {@code openssl req -x509}.
   *
   * @return the identity
   */
  public Identity selfSignedLocalhost() {
    KeyPair keys = keyPair();
    Instant now = Instant.now();
    X509Certificate leaf = certificate("CN=localhost,O=Self Signed", keys, x500("CN=localhost,O=Self Signed"), keys,
        now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(365)), false, "localhost");
    return new Identity(keys.getPrivate(), List.of(leaf));
  }

  /**
   * A new root with this subject (any characters, {@code CN=Zürich Wurzel-CA} say), valid from
   * yesterday for ten years.
   *
   * @param name the subject, RFC 2253
   * @return the root
   */
  public Ca newRoot(String name) {
    Instant now = Instant.now();
    return Ca.selfSigned(name, now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(3650)));
  }

  /**
   * {@code localhost} under an intermediate of {@code root}, sending leaf, intermediate and root.
   *
   * @param root the root
   * @return the identity
   */
  public Identity localhostUnderWithRoot(Ca root) {
    Instant now = Instant.now();
    Ca between = root.issueCa("CN=Intermediate of " + root.certificate().getSubjectX500Principal().getName()
        .replace(",", " ").replace("=", " "), now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(1825)));
    Identity id = between.serve("localhost");
    List<X509Certificate> chain = new ArrayList<>(id.chain());
    chain.add(root.certificate());
    return new Identity(id.key(), chain);
  }

  /** @return localhost under the unrelated root */
  public Identity unrelatedLocalhost() {
    return unrelatedRoot.serve("localhost");
  }

  /** @return localhost under a same-name intermediate and root with other keys */
  public Identity mitmLocalhost() {
    return mitmIntermediate.serve("localhost");
  }

  /** @return localhost under an intermediate of the expired root */
  public Identity localhostUnderExpiredRoot() {
    return underExpiredRoot.serve("localhost");
  }

  /** @return localhost under an intermediate of the root expiring in 30 days, root sent too */
  public Identity localhostUnderExpiringRootWithRoot() {
    Identity id = underExpiringRoot.serve("localhost");
    List<X509Certificate> chain = new ArrayList<>(id.chain());
    chain.add(expiringRoot.certificate());
    return new Identity(id.key(), chain);
  }

  /**
   * A certificate authority: its key and certificate, and the certificates it issued above it.
   *
   * @param keys the key pair
   * @param certificate its certificate
   * @param above the chain above it, up to the root (empty for a root)
   */
  public record Ca(KeyPair keys, X509Certificate certificate, List<X509Certificate> above) {

    static Ca selfSigned(String name, Instant from, Instant to) {
      KeyPair keys = keyPair();
      X509Certificate cert = TestPki.certificate(name, keys, x500(name), keys, from, to, true);
      return new Ca(keys, cert, List.of());
    }

    /**
     * A CA under this one.
     *
     * @param name its subject
     * @param from notBefore
     * @param to notAfter
     * @return the CA
     */
    public Ca issueCa(String name, Instant from, Instant to) {
      KeyPair keys = keyPair();
      X509Certificate cert = TestPki.certificate(name, keys, nameOf(certificate), this.keys, from, to, true);
      List<X509Certificate> chain = new ArrayList<>();
      chain.add(certificate);
      chain.addAll(above);
      return new Ca(keys, cert, List.copyOf(chain));
    }

    /**
     * A server identity for {@code names}, valid from yesterday for a year; the chain holds the
     * CAs up to, but not including, the root.
     *
     * @param names DNS names; {@code localhost} also gets {@code 127.0.0.1}
     * @return the identity
     */
    public Identity serve(String... names) {
      Instant now = Instant.now();
      return serve(now.minus(Duration.ofDays(1)), now.plus(Duration.ofDays(365)), names);
    }

    /**
     * A server identity with chosen dates.
     *
     * @param from notBefore
     * @param to notAfter
     * @param names DNS names
     * @return the identity
     */
    public Identity serve(Instant from, Instant to, String... names) {
      return issue("CN=" + names[0] + ",O=OtaFlux Tests", from, to, KeyPurposeId.id_kp_serverAuth, names);
    }

    private Identity issue(String subject, Instant from, Instant to, KeyPurposeId purpose, String... names) {
      KeyPair keys = keyPair();
      X509Certificate leaf = TestPki.certificate(subject, keys, nameOf(certificate), this.keys, from, to, false,
          purpose, names);
      List<X509Certificate> chain = new ArrayList<>();
      chain.add(leaf);
      if (!above.isEmpty()) {
        chain.add(certificate);
        chain.addAll(above.subList(0, above.size() - 1));
      }
      return new Identity(keys.getPrivate(), List.copyOf(chain));
    }

    /**
     * A TLS client identity (extended key usage clientAuth) named {@code CN=name}, valid from
     * yesterday for a year; the chain holds the CAs up to, but not including, the root.
     *
     * @param name the common name, a device id say
     * @return the identity
     */
    public Identity client(String name) {
      Instant now = Instant.now();
      return issue("CN=" + name + ",O=OtaFlux Test Devices", now.minus(Duration.ofDays(1)),
          now.plus(Duration.ofDays(365)), KeyPurposeId.id_kp_clientAuth);
    }

    /** @return the certificate as PEM */
    public String pem() {
      return Pems.of(certificate);
    }
  }

  /**
   * What a TLS server presents: its key and its chain, leaf first.
   *
   * @param key the leaf's private key
   * @param chain the certificates sent, leaf first
   */
  public record Identity(PrivateKey key, List<X509Certificate> chain) {

    /** @return the leaf certificate */
    public X509Certificate leaf() {
      return chain.get(0);
    }

    /**
     * A Netty server context presenting this identity that requires a client certificate issued
     * under {@code clientCa} (mutual TLS).
     *
     * @param clientCa the CA client certificates must lead to
     * @param protocols the TLS versions; none: 1.3 and 1.2
     * @return the context
     */
    public SslContext serverContextRequiringClients(X509Certificate clientCa, String... protocols) {
      try {
        return SslContextBuilder.forServer(new PresentingKeyManager(key, chain))
            .protocols(protocols.length == 0 ? new String[] {"TLSv1.3", "TLSv1.2"} : protocols)
            .trustManager(clientCa)
            .clientAuth(io.netty.handler.ssl.ClientAuth.REQUIRE)
            .build();
      } catch (javax.net.ssl.SSLException e) {
        throw new IllegalStateException(e);
      }
    }

    /**
     * Writes the chain and the key as PEM files (what {@code openssl} writes: certificates, then a
     * PKCS#8 {@code PRIVATE KEY}).
     *
     * @param certificateFile where the chain goes
     * @param keyFile where the key goes
     */
    public void writePem(java.nio.file.Path certificateFile, java.nio.file.Path keyFile) {
      try {
        java.nio.file.Files.writeString(certificateFile, Pems.of(chain.toArray(new X509Certificate[0])));
        java.nio.file.Files.writeString(keyFile, Pems.of(key));
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }

    /** @return a Netty server context presenting this identity with TLS 1.2 and 1.3 */
    public SslContext serverContext() {
      return serverContext("TLSv1.3", "TLSv1.2");
    }

    /**
     * A Netty server context presenting this identity with these TLS versions.
     *
     * @param protocols the versions
     * @return the context
     */
    public SslContext serverContext(String... protocols) {
      try {
        return SslContextBuilder.forServer(new PresentingKeyManager(key, chain)).protocols(protocols).build();
      } catch (javax.net.ssl.SSLException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  static KeyPair keyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  static X500Name x500(String rfc2253) {
    return X500Name.getInstance(new javax.security.auth.x500.X500Principal(rfc2253).getEncoded());
  }

  static X500Name nameOf(X509Certificate certificate) {
    return X500Name.getInstance(certificate.getSubjectX500Principal().getEncoded());
  }

  static X509Certificate certificate(String subject, KeyPair subjectKeys, X500Name issuer, KeyPair issuerKeys,
      Instant from, Instant to, boolean ca, String... dnsNames) {
    return certificate(subject, subjectKeys, issuer, issuerKeys, from, to, ca, KeyPurposeId.id_kp_serverAuth, dnsNames);
  }

  static X509Certificate certificate(String subject, KeyPair subjectKeys, X500Name issuer, KeyPair issuerKeys,
      Instant from, Instant to, boolean ca, KeyPurposeId purpose, String... dnsNames) {
    try {
      JcaX509ExtensionUtils utils = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer,
          BigInteger.valueOf(SERIAL.incrementAndGet()), Date.from(from), Date.from(to), x500(subject),
          subjectKeys.getPublic());
      builder.addExtension(Extension.basicConstraints, true, ca ? new BasicConstraints(1) : new BasicConstraints(false));
      builder.addExtension(Extension.keyUsage, true, ca ? new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign)
          : new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
      builder.addExtension(Extension.subjectKeyIdentifier, false,
          utils.createSubjectKeyIdentifier(subjectKeys.getPublic()));
      builder.addExtension(Extension.authorityKeyIdentifier, false,
          utils.createAuthorityKeyIdentifier(issuerKeys.getPublic()));
      if (!ca) {
        List<GeneralName> names = new ArrayList<>();
        for (String n : dnsNames) {
          names.add(new GeneralName(GeneralName.dNSName, n));
          if ("localhost".equals(n)) {
            names.add(new GeneralName(GeneralName.iPAddress, "127.0.0.1"));
          }
        }
        if (!names.isEmpty()) {
          builder.addExtension(Extension.subjectAlternativeName, false,
              new GeneralNames(names.toArray(new GeneralName[0])));
        }
        builder.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
      }
      return new JcaX509CertificateConverter().getCertificate(
          builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKeys.getPrivate())));
    } catch (Exception e) {
      throw new IllegalStateException("cannot build a test certificate for " + subject, e);
    }
  }
}
