package io.otaflux.samples.server;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throwaway certificate authority for the demo: a root, an intermediate, and a leaf for
 * {@code localhost} and {@code 127.0.0.1}, made fresh on every run with BouncyCastle.
 *
 * @param root the self-signed root (the trust anchor a device pins)
 * @param intermediate the intermediate the root signed
 * @param leaf the server certificate the intermediate signed
 * @param leafKey the server's private key
 */
public record DemoPki(X509Certificate root, X509Certificate intermediate, X509Certificate leaf, PrivateKey leafKey) {

  /**
   * Generates a new chain (EC P-256 keys, valid from an hour ago for 30 days).
   *
   * @return the chain
   */
  public static DemoPki generate() {
    try {
      KeyPair rootKeys = keys();
      KeyPair intermediateKeys = keys();
      KeyPair leafKeys = keys();
      Instant now = Instant.now();
      X500Name rootName = new X500Name("CN=OtaFlux Demo Root CA,O=OtaFlux Demo");
      X500Name intermediateName = new X500Name("CN=OtaFlux Demo Intermediate CA,O=OtaFlux Demo");
      X509Certificate root = ca(rootName, rootKeys, rootName, rootKeys, now, 1);
      X509Certificate intermediate = ca(intermediateName, intermediateKeys, rootName, rootKeys, now, 0);
      X509Certificate leaf = leaf(leafKeys, intermediateName, intermediateKeys, now);
      return new DemoPki(root, intermediate, leaf, leafKeys.getPrivate());
    } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
      throw new IllegalStateException("cannot generate the demo certificates: " + e.getMessage(), e);
    }
  }

  /**
   * A certificate in PEM.
   *
   * @param certificate the certificate
   * @return its PEM text
   */
  public static String pem(Object certificate) {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
      writer.writeObject(certificate);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString();
  }

  private static KeyPair keys() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"), new SecureRandom());
    return generator.generateKeyPair();
  }

  private static X509Certificate ca(X500Name subject, KeyPair keys, X500Name issuer, KeyPair issuerKeys, Instant now,
      int pathLength) throws GeneralSecurityException, OperatorCreationException, IOException {
    JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
    X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer, serial(),
        Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(3650))), subject, keys.getPublic())
        .addExtension(Extension.basicConstraints, true, new BasicConstraints(pathLength))
        .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
        .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()))
        .addExtension(Extension.authorityKeyIdentifier, false,
            ext.createAuthorityKeyIdentifier(issuerKeys.getPublic()));
    return sign(builder, issuerKeys.getPrivate());
  }

  private static X509Certificate leaf(KeyPair keys, X500Name issuer, KeyPair issuerKeys, Instant now)
      throws GeneralSecurityException, OperatorCreationException, IOException {
    JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
    GeneralNames names = new GeneralNames(new GeneralName[] {
        new GeneralName(GeneralName.dNSName, "localhost"),
        new GeneralName(GeneralName.iPAddress, "127.0.0.1")});
    X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuer, serial(),
        Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(30))),
        new X500Name("CN=localhost,O=OtaFlux Demo"), keys.getPublic())
        .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
        .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
        .addExtension(Extension.subjectAlternativeName, false, names)
        .addExtension(Extension.authorityKeyIdentifier, false,
            ext.createAuthorityKeyIdentifier(issuerKeys.getPublic()));
    return sign(builder, issuerKeys.getPrivate());
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey key)
      throws OperatorCreationException, GeneralSecurityException {
    ContentSigner signer = new JcaContentSignerBuilder("SHA256withECDSA").build(key);
    return new JcaX509CertificateConverter().getCertificate(builder.build(signer));
  }

  private static BigInteger serial() {
    return new BigInteger(64, new SecureRandom()).add(BigInteger.ONE);
  }
}
