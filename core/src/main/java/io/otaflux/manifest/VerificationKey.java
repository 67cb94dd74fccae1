package io.otaflux.manifest;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.Objects;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.Sha256;

import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.sec.SECObjectIdentifiers;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.asn1.x509.SubjectPublicKeyInfo;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.asn1.x9.X9ObjectIdentifiers;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.ECDomainParameters;
import org.bouncycastle.crypto.params.ECNamedDomainParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.crypto.signers.StandardDSAEncoding;
import org.bouncycastle.crypto.util.PublicKeyFactory;
import org.bouncycastle.math.ec.ECPoint;

/**
 * A public key that verifies manifest signatures: Ed25519 or ECDSA P-256, read from a PEM
 * {@code PUBLIC KEY} block (X.509 SubjectPublicKeyInfo, as {@code openssl pkey -pubout} writes).
 *
 * <p>Its {@link #keyId() key id} is the SHA-256 of its DER SubjectPublicKeyInfo (for P-256: named
 * curve, uncompressed point), as 64 lowercase hex digits: the same as
 * {@code openssl pkey -pubin -in key.pub.pem -outform DER | sha256sum}. Two keys are equal when
 * their ids are.
 */
public final class VerificationKey {

  /** id-Ed25519 (RFC 8410). */
  static final ASN1ObjectIdentifier ID_ED25519 = new ASN1ObjectIdentifier("1.3.101.112");
  static final X9ECParameters P256 = ECNamedCurveTable.getByName("P-256");
  static final ECNamedDomainParameters P256_DOMAIN = new ECNamedDomainParameters(SECObjectIdentifiers.secp256r1,
      P256.getCurve(), P256.getG(), P256.getN(), P256.getH(), P256.getSeed());

  private final SignatureAlgorithm algorithm;
  private final AsymmetricKeyParameter key;
  private final byte[] spki;
  private final String keyId;

  private VerificationKey(SignatureAlgorithm algorithm, AsymmetricKeyParameter key, byte[] spki) {
    this.algorithm = algorithm;
    this.key = key;
    this.spki = spki;
    this.keyId = Sha256.digest(spki).hex();
  }

  /**
   * Reads a public key from PEM text holding one {@code PUBLIC KEY} block.
   *
   * @param pem the PEM text
   * @return the key
   * @throws OtaException reason {@code USAGE} when the text holds no such block, or a key that is
   *     neither Ed25519 nor EC P-256
   */
  public static VerificationKey fromPem(String pem) {
    Objects.requireNonNull(pem, "pem");
    return fromSpki(Pem.single(pem, "PUBLIC KEY", "public key"));
  }

  /**
   * Reads a public key from a PEM file (a {@code --trusted-key FILE}).
   *
   * @param file the PEM file
   * @return the key
   * @throws OtaException reason {@code USAGE} when the file cannot be read or holds no usable key
   */
  public static VerificationKey read(Path file) {
    Objects.requireNonNull(file, "file");
    return Pem.parse(file, "public key", VerificationKey::fromPem);
  }

  static VerificationKey fromSpki(byte[] der) {
    return of(Pem.key(der, PublicKeyFactory::createKey, "public key", "an Ed25519 or EC P-256 key"));
  }

  static VerificationKey of(AsymmetricKeyParameter parsed) {
    if (parsed instanceof Ed25519PublicKeyParameters) {
      Ed25519PublicKeyParameters ed = (Ed25519PublicKeyParameters) parsed;
      return new VerificationKey(SignatureAlgorithm.ED25519, ed, encode(
          new SubjectPublicKeyInfo(new AlgorithmIdentifier(VerificationKey.ID_ED25519), ed.getEncoded())));
    }
    if (parsed instanceof ECPublicKeyParameters) {
      ECPublicKeyParameters ec = (ECPublicKeyParameters) parsed;
      ECDomainParameters d = ec.getParameters();
      if (!d.getCurve().equals(P256.getCurve()) || !d.getG().equals(P256.getG()) || !d.getN().equals(P256.getN())) {
        throw OtaException.of(Reason.USAGE, "The EC public key is not on the P-256 curve; manifests are signed "
            + "with Ed25519 or ECDSA P-256 only.");
      }
      ECPoint q;
      try {
        q = P256_DOMAIN.validatePublicPoint(ec.getQ());
      } catch (IllegalArgumentException e) {
        throw OtaException.of(Reason.USAGE, "The EC public key is not a valid P-256 point.", e);
      }
      ECPublicKeyParameters canonical = new ECPublicKeyParameters(q, P256_DOMAIN);
      return new VerificationKey(SignatureAlgorithm.ECDSA_P256_SHA256, canonical, encode(new SubjectPublicKeyInfo(
          new AlgorithmIdentifier(X9ObjectIdentifiers.id_ecPublicKey, SECObjectIdentifiers.secp256r1),
          q.getEncoded(false))));
    }
    throw OtaException.of(Reason.USAGE, "The key is a " + parsed.getClass().getSimpleName().replace("PublicKeyParameters", "")
        + " key; manifests are signed with Ed25519 or ECDSA P-256 only.");
  }

  private static byte[] encode(SubjectPublicKeyInfo info) {
    try {
      return info.getEncoded("DER");
    } catch (IOException e) {
      throw new IllegalStateException("DER encoding in memory cannot fail", e);
    }
  }

  /**
   * Whether {@code signature} is this key's valid signature of {@code message}. Any malformed
   * signature (wrong length, bad DER, {@code r} or {@code s} zero or out of range) is simply
   * invalid: every failure to check is a {@code false}, never a pass.
   */
  boolean verifies(byte[] message, byte[] signature) {
    try {
      if (algorithm == SignatureAlgorithm.ED25519) {
        if (signature.length != Ed25519PublicKeyParameters.KEY_SIZE * 2) {
          return false;
        }
        Ed25519Signer signer = new Ed25519Signer();
        signer.init(false, key);
        signer.update(message, 0, message.length);
        return signer.verifySignature(signature);
      }
      BigInteger n = P256.getN();
      BigInteger[] rs = StandardDSAEncoding.INSTANCE.decode(n, signature);
      if (rs[0].signum() <= 0 || rs[1].signum() <= 0 || rs[0].compareTo(n) >= 0 || rs[1].compareTo(n) >= 0) {
        return false;
      }
      ECDSASigner signer = new ECDSASigner();
      signer.init(false, key);
      return signer.verifySignature(sha256(message), rs[0], rs[1]);
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  static byte[] sha256(byte[] message) {
    SHA256Digest digest = new SHA256Digest();
    digest.update(message, 0, message.length);
    byte[] out = new byte[digest.getDigestSize()];
    digest.doFinal(out, 0);
    return out;
  }

  /**
   * The algorithm this key signs with.
   *
   * @return Ed25519 or ECDSA P-256 with SHA-256
   */
  public SignatureAlgorithm algorithm() {
    return algorithm;
  }

  /**
   * The key id that manifests name: SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex.
   *
   * @return 64 hex digits
   */
  public String keyId() {
    return keyId;
  }

  /**
   * The key as PEM text ({@code -----BEGIN PUBLIC KEY-----}), to write to a file.
   *
   * @return the PEM text, ending with a newline
   */
  public String pem() {
    return Pem.encode("PUBLIC KEY", spki);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof VerificationKey && keyId.equals(((VerificationKey) o).keyId);
  }

  @Override
  public int hashCode() {
    return keyId.hashCode();
  }

  @Override
  public String toString() {
    return "VerificationKey[" + algorithm.label() + ", keyId=" + keyId + "]";
  }
}
