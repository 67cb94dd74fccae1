package io.otaflux.manifest;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Objects;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;

import org.bouncycastle.asn1.DEROctetString;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.crypto.AsymmetricCipherKeyPair;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.ECKeyPairGenerator;
import org.bouncycastle.crypto.generators.Ed25519KeyPairGenerator;
import org.bouncycastle.crypto.params.AsymmetricKeyParameter;
import org.bouncycastle.crypto.params.ECKeyGenerationParameters;
import org.bouncycastle.crypto.params.ECPrivateKeyParameters;
import org.bouncycastle.crypto.params.ECPublicKeyParameters;
import org.bouncycastle.crypto.params.Ed25519KeyGenerationParameters;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.signers.ECDSASigner;
import org.bouncycastle.crypto.signers.Ed25519Signer;
import org.bouncycastle.crypto.signers.HMacDSAKCalculator;
import org.bouncycastle.crypto.signers.StandardDSAEncoding;
import org.bouncycastle.crypto.util.PrivateKeyFactory;
import org.bouncycastle.crypto.util.PrivateKeyInfoFactory;

/**
 * A publisher's private key that signs manifests, with its public half: Ed25519 (the default) or
 * ECDSA P-256. Read from and written as a PEM {@code PRIVATE KEY} block (unencrypted PKCS#8, as
 * {@code openssl genpkey} writes).
 *
 * <p>Signatures are deterministic: Ed25519 by design, ECDSA with RFC 6979 nonces, so signing the
 * same manifest twice gives the same bytes and no weak random number can leak the key.
 *
 * <p>{@link #toString()} never shows the private key; {@link #pem()} does, so keep it out of logs.
 */
public final class SigningKey {

  private final AsymmetricKeyParameter privateKey;
  private final VerificationKey publicKey;

  private SigningKey(AsymmetricKeyParameter privateKey, VerificationKey publicKey) {
    this.privateKey = privateKey;
    this.publicKey = publicKey;
  }

  /**
   * A new Ed25519 key pair (what {@code ota keygen} writes).
   *
   * @return the key
   */
  public static SigningKey generate() {
    return generate(SignatureAlgorithm.ED25519);
  }

  /**
   * A new key pair for {@code algorithm}.
   *
   * @param algorithm Ed25519 or ECDSA P-256
   * @return the key
   */
  public static SigningKey generate(SignatureAlgorithm algorithm) {
    Objects.requireNonNull(algorithm, "algorithm");
    SecureRandom random = new SecureRandom();
    AsymmetricCipherKeyPair pair;
    if (algorithm == SignatureAlgorithm.ED25519) {
      Ed25519KeyPairGenerator generator = new Ed25519KeyPairGenerator();
      generator.init(new Ed25519KeyGenerationParameters(random));
      pair = generator.generateKeyPair();
    } else {
      ECKeyPairGenerator generator = new ECKeyPairGenerator();
      generator.init(new ECKeyGenerationParameters(VerificationKey.P256_DOMAIN, random));
      pair = generator.generateKeyPair();
    }
    return new SigningKey(pair.getPrivate(), VerificationKey.of(pair.getPublic()));
  }

  /**
   * Reads a private key from PEM text holding one {@code PRIVATE KEY} block (PKCS#8).
   *
   * @param pem the PEM text
   * @return the key
   * @throws OtaException reason {@code USAGE} when there is no such block, the key is encrypted
   *     or in another form, or it is neither Ed25519 nor EC P-256
   */
  public static SigningKey fromPem(String pem) {
    Objects.requireNonNull(pem, "pem");
    byte[] der = Pem.single(pem, "PRIVATE KEY", "private key");
    AsymmetricKeyParameter parsed = Pem.key(der, PrivateKeyFactory::createKey, "private key",
        "an unencrypted PKCS#8 Ed25519 or EC P-256 key");
    if (parsed instanceof Ed25519PrivateKeyParameters) {
      return new SigningKey(parsed, VerificationKey.of(((Ed25519PrivateKeyParameters) parsed).generatePublicKey()));
    }
    if (parsed instanceof ECPrivateKeyParameters) {
      ECPrivateKeyParameters ec = (ECPrivateKeyParameters) parsed;
      VerificationKey pub = VerificationKey.of(new ECPublicKeyParameters(
          ec.getParameters().getG().multiply(ec.getD()).normalize(), ec.getParameters()));
      return new SigningKey(new ECPrivateKeyParameters(ec.getD(), VerificationKey.P256_DOMAIN), pub);
    }
    throw OtaException.of(Reason.USAGE, "The private key is a " + parsed.getClass().getSimpleName()
        .replace("PrivateKeyParameters", "") + " key; manifests are signed with Ed25519 or ECDSA P-256 only.");
  }

  /**
   * Reads a private key from a PEM file (a {@code --key FILE}).
   *
   * @param file the PEM file
   * @return the key
   * @throws OtaException reason {@code USAGE} when the file cannot be read or holds no usable key
   */
  public static SigningKey read(Path file) {
    Objects.requireNonNull(file, "file");
    return Pem.parse(file, "private key", SigningKey::fromPem);
  }

  byte[] sign(byte[] message) {
    if (privateKey instanceof Ed25519PrivateKeyParameters) {
      Ed25519Signer signer = new Ed25519Signer();
      signer.init(true, privateKey);
      signer.update(message, 0, message.length);
      return signer.generateSignature();
    }
    ECDSASigner signer = new ECDSASigner(new HMacDSAKCalculator(new SHA256Digest()));
    signer.init(true, privateKey);
    BigInteger[] rs = signer.generateSignature(VerificationKey.sha256(message));
    try {
      return StandardDSAEncoding.INSTANCE.encode(VerificationKey.P256.getN(), rs[0], rs[1]);
    } catch (IOException e) {
      throw new IllegalStateException("DER encoding in memory cannot fail", e);
    }
  }

  /**
   * The public half, to hand to devices ({@code --trusted-key}).
   *
   * @return the verification key
   */
  public VerificationKey publicKey() {
    return publicKey;
  }

  /**
   * The algorithm this key signs with.
   *
   * @return Ed25519 or ECDSA P-256 with SHA-256
   */
  public SignatureAlgorithm algorithm() {
    return publicKey.algorithm();
  }

  /**
   * The private key as PEM text ({@code -----BEGIN PRIVATE KEY-----}, unencrypted PKCS#8). Write it
   * to a file only the publisher can read.
   *
   * @return the PEM text, ending with a newline
   */
  public String pem() {
    try {
      PrivateKeyInfo info = privateKey instanceof Ed25519PrivateKeyParameters
          // version 1 with the seed only, as `openssl genpkey -algorithm ed25519` writes it
          ? new PrivateKeyInfo(new AlgorithmIdentifier(VerificationKey.ID_ED25519),
              new DEROctetString(((Ed25519PrivateKeyParameters) privateKey).getEncoded()))
          : PrivateKeyInfoFactory.createPrivateKeyInfo(privateKey);
      return Pem.encode("PRIVATE KEY", info.getEncoded("DER"));
    } catch (IOException e) {
      throw new IllegalStateException("DER encoding in memory cannot fail", e);
    }
  }

  /**
   * Writes {@link #pem()} to a new file that only its owner may read and write (mode 600 where the
   * file system has POSIX permissions), never replacing an existing file: what {@code ota keygen}
   * needs. The public half is not secret: write {@code publicKey().pem()} as any file.
   *
   * @param file the private key file to create
   * @throws OtaException reason {@code USAGE} when the file exists already, {@code STORAGE} when it
   *     cannot be written
   */
  public void write(Path file) {
    Objects.requireNonNull(file, "file");
    try {
      boolean posix = file.toAbsolutePath().getFileSystem().supportedFileAttributeViews().contains("posix");
      Path created = posix
          ? Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
          : Files.createFile(file);
      Files.writeString(created, pem(), StandardCharsets.US_ASCII);
    } catch (FileAlreadyExistsException e) {
      throw OtaException.of(Reason.USAGE, "The key file " + file + " exists already; it was not replaced. "
          + "Move it away or choose another place.", e);
    } catch (IOException e) {
      throw OtaException.of(Reason.STORAGE, "The key file " + file + " cannot be written: " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return "SigningKey[" + publicKey.algorithm().label() + ", keyId=" + publicKey.keyId() + "]";
  }
}
