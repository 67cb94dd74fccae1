package io.otaflux.manifest;

import static io.otaflux.manifest.Fixtures.assertReason;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;

import io.otaflux.OtaException.Reason;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SigningKeyTest {

  @Test
  void generatesEd25519PairsByDefault() {
    SigningKey key = SigningKey.generate();
    assertThat(key.algorithm()).isEqualTo(SignatureAlgorithm.ED25519);
    assertThat(key.pem()).startsWith("-----BEGIN PRIVATE KEY-----\n").endsWith("-----END PRIVATE KEY-----\n");
    assertThat(key.publicKey().pem()).startsWith("-----BEGIN PUBLIC KEY-----\n");
    assertThat(key.publicKey().keyId()).matches("[0-9a-f]{64}");
    assertThat(key.toString()).doesNotContain(key.pem().split("\n")[1]);
  }

  @Test
  void privateAndPublicPemRoundTripForBothAlgorithms() {
    for (SigningKey key : new SigningKey[] {Fixtures.ED25519, Fixtures.P256}) {
      SigningKey again = SigningKey.fromPem(key.pem());
      assertThat(again.publicKey()).isEqualTo(key.publicKey());
      assertThat(again.pem()).isEqualTo(key.pem());
      VerificationKey pub = VerificationKey.fromPem(key.publicKey().pem());
      assertThat(pub.keyId()).isEqualTo(key.publicKey().keyId());
      assertThat(pub.algorithm()).isEqualTo(key.algorithm());
    }
  }

  @Test
  void readsTheRfc8032KeyAsOpensslWritesItWithTheSameKeyId() {
    SigningKey key = SigningKey.fromPem(Fixtures.RFC8032_PRIVATE_PEM);
    assertThat(key.pem()).isEqualTo(Fixtures.RFC8032_PRIVATE_PEM);
    assertThat(key.publicKey().pem()).isEqualTo(Fixtures.RFC8032_PUBLIC_PEM);
    assertThat(key.publicKey().keyId()).isEqualTo(Fixtures.RFC8032_KEY_ID);
    assertThat(VerificationKey.fromPem(Fixtures.RFC8032_PUBLIC_PEM).keyId()).isEqualTo(Fixtures.RFC8032_KEY_ID);
  }

  @Test
  void readsP256KeysTheJdkEncodes() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    var pair = generator.generateKeyPair();
    SigningKey key = SigningKey.fromPem(pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
    VerificationKey pub = VerificationKey.fromPem(pem("PUBLIC KEY", pair.getPublic().getEncoded()));
    assertThat(key.publicKey()).isEqualTo(pub);
    assertThat(pub.algorithm()).isEqualTo(SignatureAlgorithm.ECDSA_P256_SHA256);
    assertThat(pub.pem()).isEqualTo(pem("PUBLIC KEY", pair.getPublic().getEncoded()));
  }

  @Test
  void refusesKeysOfOtherCurvesWithUsage() throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp384r1"));
    var pair = generator.generateKeyPair();
    assertThatThrownBy(() -> VerificationKey.fromPem(pem("PUBLIC KEY", pair.getPublic().getEncoded())))
        .satisfies(e -> assertReason(e, Reason.USAGE))
        .hasMessageContaining("P-256");
  }

  @Test
  void explainsWhichKeyWasExpectedWhenGivenTheWrongPem() {
    assertThatThrownBy(() -> VerificationKey.fromPem(Fixtures.RFC8032_PRIVATE_PEM))
        .satisfies(e -> assertReason(e, Reason.USAGE))
        .hasMessageContaining("that is a private key");
    assertThatThrownBy(() -> SigningKey.fromPem(Fixtures.RFC8032_PUBLIC_PEM))
        .satisfies(e -> assertReason(e, Reason.USAGE))
        .hasMessageContaining("signing needs the private key");
    assertThatThrownBy(() -> SigningKey.fromPem("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"))
        .satisfies(e -> assertReason(e, Reason.USAGE))
        .hasMessageContaining("openssl pkcs8 -topk8");
    assertThatThrownBy(() -> VerificationKey.fromPem("not a key"))
        .satisfies(e -> assertReason(e, Reason.USAGE))
        .hasMessageContaining("No PEM block");
    assertThatThrownBy(() -> VerificationKey.fromPem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"))
        .satisfies(e -> assertReason(e, Reason.USAGE))
        .hasMessageContaining("cannot be decoded");
  }

  @Test
  void readsKeyFilesAndNamesAMissingOne(@TempDir Path dir) throws Exception {
    Path pub = dir.resolve("ota-key.pub.pem");
    Files.writeString(pub, "# comment before the block\n" + Fixtures.ED25519.publicKey().pem());
    assertThat(VerificationKey.read(pub)).isEqualTo(Fixtures.ED25519.publicKey());
    assertThatThrownBy(() -> VerificationKey.read(dir.resolve("missing.pem")))
        .satisfies(e -> assertReason(e, Reason.USAGE))
        .hasMessageContaining("missing.pem")
        .hasMessageContaining("does not exist");
    Path wrong = dir.resolve("wrong.pem");
    Files.writeString(wrong, Fixtures.ED25519.pem());
    assertThatThrownBy(() -> TrustedKeys.read(java.util.List.of(pub, wrong)))
        .satisfies(e -> assertReason(e, Reason.USAGE))
        .hasMessageContaining("wrong.pem");
  }

  @Test
  void writesThePrivateKeyForItsOwnerOnlyAndNeverOverwrites(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("ota-key.pem");
    SigningKey key = SigningKey.generate();
    key.write(file);
    assertThat(SigningKey.read(file).publicKey()).isEqualTo(key.publicKey());
    if (dir.getFileSystem().supportedFileAttributeViews().contains("posix")) {
      assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file)))
          .isEqualTo("rw-------");
    }
    assertThatThrownBy(() -> SigningKey.generate().write(file))
        .satisfies(e -> assertReason(e, Reason.USAGE))
        .hasMessageContaining("exists already");
    assertThat(SigningKey.read(file).publicKey()).isEqualTo(key.publicKey());
  }

  private static String pem(String label, byte[] der) {
    return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END " + label + "-----\n";
  }
}
