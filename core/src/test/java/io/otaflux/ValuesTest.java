package io.otaflux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import java.util.Arrays;

import io.otaflux.OtaException.Reason;
import io.otaflux.UpdateEvent.Progress;
import io.otaflux.internal.Sizes;

import org.junit.jupiter.api.Test;

class ValuesTest {

  @Test
  void userInfoInTheUrlBecomesBasicCredentialsAndNeverShows() {
    UpdateRequest request = UpdateRequest.of("https://alice:s3cr%40t@fw.example:8443/gw.bin?x=1");
    assertThat(request.uri()).isEqualTo(URI.create("https://fw.example:8443/gw.bin?x=1"));
    assertThat(request.credentials()).contains(Credentials.basic("alice", "s3cr@t"));
    assertThat(request.toString()).doesNotContain("s3cr").doesNotContain("alice").contains("<redacted>");
  }

  @Test
  void credentialsNeverShowTheirSecretInToString() {
    assertThat(Credentials.basic("bob", "hunter2").toString()).doesNotContain("hunter2");
    assertThat(Credentials.bearer("tok-123").toString()).doesNotContain("tok-123");
    assertThat(Credentials.basic("bob", "hunter2").authorization()).isEqualTo("Basic Ym9iOmh1bnRlcjI=");
    assertThat(Credentials.bearer("tok-123").authorization()).isEqualTo("Bearer tok-123");
  }

  @Test
  void anUnparsableUrlIsAUsageErrorThatDoesNotEchoItsPassword() {
    assertThatThrownBy(() -> UpdateRequest.of("https://carol:pw0rd@bad host/x"))
        .isInstanceOfSatisfying(OtaException.class, e -> {
          assertThat(e.reason()).isEqualTo(Reason.USAGE);
          assertThat(e.getMessage()).doesNotContain("pw0rd");
        });
    assertThatThrownBy(() -> UpdateRequest.of("firmware.bin"))
        .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.reason()).isEqualTo(Reason.USAGE));
  }

  @Test
  void requestsAreImmutable() {
    UpdateRequest base = UpdateRequest.of("https://fw.example/a.bin");
    UpdateRequest sized = base.withSize(10).withVersion("1.2.3").withActivation(false);
    assertThat(base.size()).isEmpty();
    assertThat(base.isActivating()).isTrue();
    assertThat(sized.size()).hasValue(10);
    assertThat(sized.version()).contains("1.2.3");
    assertThatThrownBy(() -> base.withSize(-1)).isInstanceOf(OtaException.class);
  }

  @Test
  void sha256ParsesHexInEitherCaseAndRejectsAnythingElse() {
    String hex = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08";
    assertThat(Sha256.ofHex(hex).hex()).isEqualTo(hex.toLowerCase(java.util.Locale.ROOT));
    assertThat(Sha256.ofHex(hex)).isEqualTo(Sha256.digest("test".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    for (String bad : new String[] {"", "abc", hex + "0", hex.replace('F', 'G')}) {
      assertThatThrownBy(() -> Sha256.ofHex(bad))
          .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.reason()).isEqualTo(Reason.USAGE));
    }
    byte[] bytes = new byte[32];
    Sha256 digest = Sha256.of(bytes);
    bytes[0] = 1;
    assertThat(digest.bytes()[0]).isZero();
  }

  @Test
  void reasonsMapToTheExitCodesOfTheContract() {
    assertThat(Arrays.stream(Reason.values()).mapToInt(Reason::exitCode))
        .containsExactly(2, 3, 4, 5, 6, 7, 8, 9);
  }

  @Test
  void retryAfterMakesAFailureTransientAndAsFinalEndsIt() {
    OtaException busy = OtaException.of(Reason.SERVER, "503").withRetryAfter(Duration.ofSeconds(7));
    assertThat(busy.isTransient()).isTrue();
    assertThat(busy.retryAfter()).contains(Duration.ofSeconds(7));
    OtaException last = busy.asFinal("gave up");
    assertThat(last.isTransient()).isFalse();
    assertThat(last.reason()).isEqualTo(Reason.SERVER);
    assertThat(last.getCause()).isSameAs(busy);
  }

  @Test
  void wrapKeepsAnOtaExceptionAndGivesOthersAReasonAndAContext() {
    OtaException trust = OtaException.of(Reason.TRUST, "untrusted");
    assertThat(OtaException.wrap(trust, Reason.STORAGE, "x")).isSameAs(trust);
    OtaException wrapped = OtaException.wrap(new java.io.IOException("disk gone"), Reason.STORAGE, "Writing failed");
    assertThat(wrapped.reason()).isEqualTo(Reason.STORAGE);
    assertThat(wrapped.getMessage()).isEqualTo("Writing failed: disk gone");
  }

  @Test
  void progressFractionsHoldForImagesOverTwoGibibytes() {
    long total = 5L * 1024 * 1024 * 1024 + 17;
    Progress p = new Progress(total - 1, total, 1.0);
    assertThat(p.fraction().getAsDouble()).isLessThan(1.0).isGreaterThan(0.999);
    assertThat(new Progress(3L << 31, UpdateEvent.UNKNOWN_SIZE, 0).fraction()).isEmpty();
    assertThat(new Progress(0, 0, 0).fraction()).hasValue(1.0);
  }

  @Test
  void sizesReadLikeAPersonWritesThem() {
    assertThat(Sizes.human(512)).isEqualTo("512 B");
    assertThat(Sizes.human(1536)).isEqualTo("1.5 KiB");
    assertThat(Sizes.human(3L * 1024 * 1024 * 1024)).isEqualTo("3.0 GiB");
  }

  @Test
  void slotsAndStatesHaveTheContractsLabels() {
    assertThat(SlotId.ofLabel("B")).isEqualTo(SlotId.B);
    assertThat(SlotId.A.other()).isEqualTo(SlotId.B);
    assertThat(SlotState.TRIAL.label()).isEqualTo("trial");
    assertThat(SlotState.WRITING.isBootable()).isFalse();
    assertThatThrownBy(() -> SlotId.ofLabel("c")).isInstanceOf(OtaException.class);
  }
}
