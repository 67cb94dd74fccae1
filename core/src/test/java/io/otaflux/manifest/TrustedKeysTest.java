package io.otaflux.manifest;

import static io.otaflux.manifest.Fixtures.assertReason;
import static io.otaflux.manifest.Fixtures.replace;
import static io.otaflux.manifest.Fixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.net.URI;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.Sha256;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TrustedKeysTest {

  private static final URI LOCATION = URI.create("https://fw.example/gw/manifest.json");
  private static final String P256_ORDER_HEX = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";

  private static String manifest(SigningKey key) {
    return Manifest.builder().version("2.0.0").url("gw-2.0.0.bin").image(utf8("the image")).sign(key).json();
  }

  @Test
  void acceptsAManifestSignedByATrustedKey() {
    Manifest m = TrustedKeys.of(Fixtures.ED25519.publicKey()).verify(utf8(manifest(Fixtures.ED25519)), LOCATION);
    assertThat(m.verifiedBy()).contains(Fixtures.ED25519.publicKey());
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "version | \"2.0.1\"",
      "version | \"1.0.0\"",
      "size    | 10",
      "sha256  | \"0000000000000000000000000000000000000000000000000000000000000000\"",
      "url     | \"https://evil.example/gw-2.0.0.bin\"",
      "url     | \"gw-1.0.0.bin\"",
      "created | \"2030-01-01T00:00:00Z\""})
  void aTamperedFieldBreaksTheSignature(String field, String value) {
    String tampered = replace(manifest(Fixtures.ED25519), field, value);
    assertThatThrownBy(() -> TrustedKeys.of(Fixtures.ED25519.publicKey()).verify(utf8(tampered), LOCATION))
        .satisfies(e -> assertReason(e, Reason.INTEGRITY))
        .hasMessageContaining("signature that does not verify with trusted key " + Fixtures.ED25519.publicKey().keyId())
        .hasMessageContaining("Nothing was downloaded");
  }

  @Test
  void aTamperedEcdsaManifestFailsToo() {
    String tampered = replace(manifest(Fixtures.P256), "size", "10");
    assertThatThrownBy(() -> TrustedKeys.of(Fixtures.P256.publicKey()).verify(utf8(tampered), LOCATION))
        .satisfies(e -> assertReason(e, Reason.INTEGRITY)).hasMessageContaining("does not verify");
  }

  @Test
  void aManifestSignedByAnUnknownKeyIsRefused() {
    assertThatThrownBy(() -> TrustedKeys.of(Fixtures.ED25519.publicKey()).verify(utf8(manifest(Fixtures.OTHER_ED25519)),
        LOCATION))
        .satisfies(e -> assertReason(e, Reason.INTEGRITY))
        .hasMessageContaining("signed by key " + Fixtures.OTHER_ED25519.publicKey().keyId() + ", which is not trusted")
        .hasMessageContaining("--trusted-key");
  }

  @Test
  void aManifestClaimingATrustedKeyIdButSignedByAnotherKeyIsRefused() {
    String forged = replace(manifest(Fixtures.OTHER_ED25519), "keyId", "\"" + Fixtures.ED25519.publicKey().keyId() + "\"");
    assertThatThrownBy(() -> TrustedKeys.of(Fixtures.ED25519.publicKey()).verify(utf8(forged), LOCATION))
        .satisfies(e -> assertReason(e, Reason.INTEGRITY)).hasMessageContaining("does not verify");
  }

  @Test
  void keyRotationAcceptsOldAndNewKeysUntilTheOldOneIsDropped() {
    SigningKey oldKey = Fixtures.ED25519;
    SigningKey newKey = Fixtures.OTHER_ED25519;
    TrustedKeys both = TrustedKeys.of(oldKey.publicKey()).with(newKey.publicKey());
    assertThat(both.keys()).containsExactly(oldKey.publicKey(), newKey.publicKey());
    assertThat(both.verify(utf8(manifest(oldKey)), LOCATION).verifiedBy()).contains(oldKey.publicKey());
    assertThat(both.verify(utf8(manifest(newKey)), LOCATION).verifiedBy()).contains(newKey.publicKey());

    TrustedKeys rotated = both.without(oldKey.publicKey());
    assertThat(rotated.verify(utf8(manifest(newKey)), LOCATION).verifiedBy()).contains(newKey.publicKey());
    assertThatThrownBy(() -> rotated.verify(utf8(manifest(oldKey)), LOCATION))
        .satisfies(e -> assertReason(e, Reason.INTEGRITY)).hasMessageContaining("not trusted");
  }

  @Test
  void acceptsEcdsaP256ManifestsAmongEd25519Keys() {
    TrustedKeys keys = TrustedKeys.of(Fixtures.ED25519.publicKey(), Fixtures.P256.publicKey());
    Manifest m = keys.verify(utf8(manifest(Fixtures.P256)), LOCATION);
    assertThat(m.algorithm()).isEqualTo(SignatureAlgorithm.ECDSA_P256_SHA256);
    assertThat(m.verifiedBy()).contains(Fixtures.P256.publicKey());
  }

  @Test
  void ecdsaSignaturesAreDeterministic() {
    Manifest.Builder b = Manifest.builder().version("1.0.0").url("x.bin").image(new byte[3])
        .created(java.time.Instant.EPOCH);
    assertThat(b.sign(Fixtures.P256).signature()).isEqualTo(b.sign(Fixtures.P256).signature());
  }

  @ParameterizedTest
  @CsvSource({
      "raw 64 zero bytes,                 " + "00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
      "DER r = 0 and s = 0,               3006020100020100",
      "DER r = 0 and s = 1,               3006020100020101",
      "DER r = n and s = n,               "
          + "3046022100" + P256_ORDER_HEX + "022100" + P256_ORDER_HEX,
      "DER with a negative r,             30060201ff020101",
      "an empty signature,                ''",
      "DER with trailing garbage,         300602010102010100"})
  void invalidEcdsaSignaturesAreRejectedNotAccepted(String what, String hex) {
    // CVE-2022-21449: Java 15-18 accepted r = s = 0 for any message and any key
    String json = manifest(Fixtures.P256);
    String forged = replace(json, "signature", "\"" + Base64.getEncoder().encodeToString(HexFormat.of().parseHex(hex)) + "\"");
    assertThatThrownBy(() -> TrustedKeys.of(Fixtures.P256.publicKey()).verify(utf8(forged), LOCATION))
        .as(what)
        .satisfies(e -> assertReason(e, Reason.INTEGRITY)).hasMessageContaining("does not verify");
  }

  @Test
  void anAllZeroEd25519SignatureIsRejected() {
    String forged = replace(manifest(Fixtures.ED25519), "signature",
        "\"" + Base64.getEncoder().encodeToString(new byte[64]) + "\"");
    assertThatThrownBy(() -> TrustedKeys.of(Fixtures.ED25519.publicKey()).verify(utf8(forged), LOCATION))
        .satisfies(e -> assertReason(e, Reason.INTEGRITY)).hasMessageContaining("does not verify");
  }

  @Test
  void aManifestNamingAnotherAlgorithmThanItsKeysIsRefused() {
    String lying = replace(manifest(Fixtures.P256), "algorithm", "\"ed25519\"");
    assertThatThrownBy(() -> TrustedKeys.of(Fixtures.P256.publicKey()).verify(utf8(lying), LOCATION))
        .satisfies(e -> assertReason(e, Reason.INTEGRITY)).hasMessageContaining("signed with ed25519");
  }

  @Test
  void anEmptySetFailsClosedAndSaysAKeyIsNeeded() {
    assertThatThrownBy(() -> TrustedKeys.of().verify(utf8(manifest(Fixtures.ED25519)), LOCATION))
        .isInstanceOfSatisfying(OtaException.class,
            e -> assertThat(e.detail()).isEqualTo(OtaException.Detail.SIGNATURE_CHECK_REQUIRED))
        .hasMessageContaining("no key is trusted").hasMessageContaining("--trusted-key")
        .hasMessageContaining("skipSignatureCheck()");
    assertThatThrownBy(() -> TrustedKeys.of(Fixtures.ED25519.publicKey()).without(Fixtures.ED25519.publicKey())
        .verify(utf8(manifest(Fixtures.ED25519)), LOCATION))
        .isInstanceOfSatisfying(OtaException.class,
            e -> assertThat(e.detail()).isEqualTo(OtaException.Detail.SIGNATURE_CHECK_REQUIRED));
  }

  @Test
  void aManifestSignedByAnotherKeyIsAnUntrustedSigner() {
    assertThatThrownBy(() -> TrustedKeys.of(Fixtures.ED25519.publicKey()).verify(utf8(manifest(Fixtures.OTHER_ED25519)),
        LOCATION)).isInstanceOfSatisfying(OtaException.class,
            e -> assertThat(e.detail()).isEqualTo(OtaException.Detail.UNTRUSTED_SIGNER));
  }

  @Test
  void skippingTheSignatureCheckIsExplicitAndVisible() {
    String tampered = replace(manifest(Fixtures.ED25519), "size", "10");
    Manifest m = TrustedKeys.skipSignatureCheck().verify(utf8(tampered), LOCATION);
    assertThat(m.size()).isEqualTo(10);
    assertThat(m.verifiedBy()).isEmpty();
    assertThat(m.toString()).contains("signature not checked");
    assertThat(TrustedKeys.skipSignatureCheck().isChecking()).isFalse();
    assertThatThrownBy(() -> TrustedKeys.skipSignatureCheck().verify(utf8("{}"), LOCATION))
        .satisfies(e -> assertReason(e, Reason.INTEGRITY));
  }

  @Test
  void theJdkVerifiesOurSignatures() throws Exception {
    for (SigningKey key : new SigningKey[] {Fixtures.ED25519, Fixtures.P256}) {
      Manifest m = Manifest.builder().version("3.1.4").url("gw.bin").image(utf8("x")).sign(key);
      boolean ed = key.algorithm() == SignatureAlgorithm.ED25519;
      String der = key.publicKey().pem().replaceAll("-----[A-Z ]+-----|\\s", "");
      PublicKey jdkKey = KeyFactory.getInstance(ed ? "Ed25519" : "EC")
          .generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(der)));
      Signature verifier = Signature.getInstance(ed ? "Ed25519" : "SHA256withECDSA");
      verifier.initVerify(jdkKey);
      verifier.update(m.signedBytes());
      assertThat(verifier.verify(m.signature())).as(key.toString()).isTrue();
      assertThat(Sha256.digest(jdkKey.getEncoded()).hex()).isEqualTo(key.publicKey().keyId());
    }
  }

  @Test
  void acceptsManifestsSignedByTheJdk() throws Exception {
    for (String algorithm : new String[] {"ed25519", "ecdsa-p256-sha256"}) {
      boolean ed = algorithm.equals("ed25519");
      KeyPairGenerator generator = KeyPairGenerator.getInstance(ed ? "Ed25519" : "EC");
      if (!ed) {
        generator.initialize(new ECGenParameterSpec("secp256r1"));
      }
      KeyPair pair = generator.generateKeyPair();
      String keyId = Sha256.digest(pair.getPublic().getEncoded()).hex();
      String sha = Sha256.digest(utf8("image")).hex();
      String canonical = "{\"algorithm\":\"" + algorithm + "\",\"created\":\"2026-11-25T12:00:00Z\","
          + "\"format\":\"otaflux-manifest/1\",\"keyId\":\"" + keyId + "\",\"sha256\":\"" + sha + "\","
          + "\"size\":5,\"url\":\"gw.bin\",\"version\":\"1.2.3\"}";
      Signature signer = Signature.getInstance(ed ? "Ed25519" : "SHA256withECDSA");
      signer.initSign(pair.getPrivate());
      signer.update(utf8(canonical));
      String json = canonical.substring(0, canonical.length() - 1) + ",\"signature\":\""
          + Base64.getEncoder().encodeToString(signer.sign()) + "\"}";
      VerificationKey pub = VerificationKey.fromPem("-----BEGIN PUBLIC KEY-----\n"
          + Base64.getEncoder().encodeToString(pair.getPublic().getEncoded()) + "\n-----END PUBLIC KEY-----\n");
      Manifest m = TrustedKeys.of(pub).verify(utf8(json), LOCATION);
      assertThat(m.version()).hasToString("1.2.3");
      assertThat(m.keyId()).isEqualTo(pub.keyId());
    }
  }

  @Test
  void theP256OrderConstantIsTheCurves() {
    assertThat(new BigInteger(P256_ORDER_HEX, 16)).isEqualTo(VerificationKey.P256.getN());
  }
}
