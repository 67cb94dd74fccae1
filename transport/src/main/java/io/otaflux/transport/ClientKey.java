package io.otaflux.transport;

import java.io.IOException;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;

import javax.net.ssl.KeyManager;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;

import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * This device's TLS client certificate and its private key, for servers that require mutual TLS
 * ({@link HttpsFirmwareSource#clientKey(ClientKey)}, {@link #keyManagers()} for a JDK
 * {@code SSLContext}). The certificate is presented whenever a server asks for one, whatever CAs
 * the server names (as curl does), so a certificate the server does not accept is refused by the
 * server with its own failure rather than silently left out.
 *
 * <p>Immutable; {@link #toString()} names the certificate, never the key.
 */
public final class ClientKey {

  private final PrivateKey key;
  private final List<X509Certificate> chain;

  private ClientKey(PrivateKey key, List<X509Certificate> chain) {
    this.key = key;
    this.chain = chain;
  }

  /**
   * The certificate chain (leaf first; intermediates may follow) and the unencrypted private key
   * in PEM files, as {@code openssl} writes them (PKCS#8 {@code PRIVATE KEY}, or
   * {@code EC PRIVATE KEY} / {@code RSA PRIVATE KEY}). The two may be one file.
   *
   * @param certificateChain the PEM file with the certificate, leaf first
   * @param privateKey the PEM file with the private key
   * @return the client key
   * @throws OtaException {@link Detail#INVALID_REQUEST} when a file cannot be read, holds no
   *     certificate or no key, the key is encrypted, or the key does not belong to the certificate
   */
  public static ClientKey fromPemFiles(Path certificateChain, Path privateKey) {
    Objects.requireNonNull(certificateChain, "certificateChain");
    Objects.requireNonNull(privateKey, "privateKey");
    String text = read(certificateChain, "client certificate");
    List<X509Certificate> chain;
    try {
      chain = Pem.certificates(text, "the client certificate file " + certificateChain);
    } catch (OtaException e) {
      throw OtaException.of(Detail.INVALID_REQUEST, "There is no valid certificate in the client certificate file "
          + certificateChain + "; give this device's certificate as -----BEGIN CERTIFICATE----- ... text, leaf first.", e);
    }
    return of(readKey(privateKey), chain, "the key in " + privateKey + " does not belong to the certificate in "
        + certificateChain);
  }

  /**
   * A key and its certificate chain from elsewhere (a key store, say).
   *
   * @param key the private key
   * @param chain the certificate chain, leaf first
   * @return the client key
   * @throws OtaException {@link Detail#INVALID_REQUEST} when the chain is empty or the key does not
   *     belong to its first certificate
   */
  public static ClientKey of(PrivateKey key, List<X509Certificate> chain) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(chain, "chain");
    if (chain.isEmpty()) {
      throw OtaException.of(Detail.INVALID_REQUEST, "A client key needs its certificate.");
    }
    return of(key, chain, "the private key does not belong to the client certificate");
  }

  private static ClientKey of(PrivateKey key, List<X509Certificate> chain, String mismatch) {
    List<X509Certificate> copy = List.copyOf(chain);
    if (!belongs(key, copy.get(0))) {
      throw OtaException.of(Detail.INVALID_REQUEST, "The client certificate and key do not match: " + mismatch
          + " (" + subject(copy.get(0)) + "). Give the key the certificate was issued for.");
    }
    return new ClientKey(key, copy);
  }

  /**
   * Key managers that present this certificate, for a JDK {@link javax.net.ssl.SSLContext} (see
   * {@link JdkTls#sslContext}).
   *
   * @return one key manager
   */
  public KeyManager[] keyManagers() {
    return new KeyManager[] {new ClientKeyManager(this)};
  }

  PrivateKey key() {
    return key;
  }

  X509Certificate[] chain() {
    return chain.toArray(new X509Certificate[0]);
  }

  /** "CN=gw-0042,O=Fleet issued by CN=Fleet CA", for sentences. */
  String describe() {
    X509Certificate leaf = chain.get(0);
    return subject(leaf) + " issued by " + leaf.getIssuerX500Principal().getName();
  }

  @Override
  public String toString() {
    return "ClientKey[" + describe() + "]";
  }

  private static String subject(X509Certificate certificate) {
    return certificate.getSubjectX500Principal().getName();
  }

  private static String read(Path file, String what) {
    try {
      return Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException | RuntimeException e) {
      throw OtaException.of(Detail.INVALID_REQUEST, "The " + what + " file " + file + " cannot be read ("
          + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ").", e);
    }
  }

  /** The first private key in the file; never shows the file's content. */
  private static PrivateKey readKey(Path file) {
    String text = read(file, "client key");
    JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
    try (PEMParser parser = new PEMParser(new StringReader(text))) {
      Object item;
      while ((item = parser.readObject()) != null) {
        if (item instanceof PrivateKeyInfo) {
          return converter.getPrivateKey((PrivateKeyInfo) item);
        }
        if (item instanceof PEMKeyPair) {
          return converter.getKeyPair((PEMKeyPair) item).getPrivate();
        }
        if (item instanceof PKCS8EncryptedPrivateKeyInfo || item instanceof PEMEncryptedKeyPair) {
          throw OtaException.of(Detail.INVALID_REQUEST, "The client key in " + file + " is encrypted; give it "
              + "unencrypted (openssl pkey -in KEY -out PLAIN), readable by this service only.");
        }
      }
    } catch (IOException | RuntimeException e) {
      if (e instanceof OtaException) {
        throw (OtaException) e;
      }
      throw OtaException.of(Detail.INVALID_REQUEST, "The client key file " + file + " is not a valid PEM key ("
          + e.getClass().getSimpleName() + ").", e);
    }
    throw OtaException.of(Detail.INVALID_REQUEST, "There is no private key in " + file + "; give the key as "
        + "-----BEGIN PRIVATE KEY----- ... text.");
  }

  /** Whether {@code key} signs what the certificate's public key verifies. */
  private static boolean belongs(PrivateKey key, X509Certificate certificate) {
    String algorithm;
    switch (key.getAlgorithm()) {
      case "EC":
      case "ECDSA":
        algorithm = "SHA256withECDSA";
        break;
      case "RSA":
        algorithm = "SHA256withRSA";
        break;
      case "Ed25519":
      case "Ed448":
      case "EdDSA":
        algorithm = key.getAlgorithm();
        break;
      default:
        algorithm = null;
    }
    if (algorithm == null) {
      throw OtaException.of(Detail.INVALID_REQUEST, "The client key's algorithm " + key.getAlgorithm()
          + " is not supported; give an EC, RSA or Ed25519 key.");
    }
    byte[] probe = "otaflux client key check".getBytes(StandardCharsets.US_ASCII);
    try {
      Signature signer = Signature.getInstance(algorithm);
      signer.initSign(key);
      signer.update(probe);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(algorithm);
      verifier.initVerify(certificate.getPublicKey());
      verifier.update(probe);
      return verifier.verify(signature);
    } catch (GeneralSecurityException | RuntimeException e) {
      // a key of another kind than the certificate's (an RSA key for an EC certificate): no match
      return false;
    }
  }
}
