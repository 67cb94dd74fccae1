package io.otaflux.delta;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/** Decompression keeps memory flat: a 1 GiB zstd image streams through the pipeline in a 48 MiB heap. */
class LargeCompressedImageTest {

  private static final Pattern RESULT = Pattern.compile(
      "verified size=(\\d+) sha256=([0-9a-f]{64}) transfer=(\\d+) downloaded=(\\d+) peakHeapMiB=(\\d+)");

  private static Matcher runChild(long size) throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Process child = new ProcessBuilder(List.of(java, "-Xmx48m", "-XX:+UseSerialGC", "-cp", classpath,
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", LargeCompressedImageRun.class.getName(), Long.toString(size)))
        .redirectErrorStream(true)
        .start();
    child.getOutputStream().close();
    byte[] output = child.getInputStream().readAllBytes();
    assertThat(child.waitFor(3, TimeUnit.MINUTES)).isTrue();
    String text = new String(output, StandardCharsets.UTF_8);
    assertThat(child.exitValue()).as(text).isZero();
    Matcher m = RESULT.matcher(text);
    assertThat(m.find()).as(text).isTrue();
    return m;
  }

  @Test
  void aOneGibibyteZstdImageStreamsThroughTheDecoderInA48MibHeap() throws Exception {
    Matcher small = runChild(64L << 20);
    Matcher large = runChild(1L << 30);
    assertThat(Long.parseLong(large.group(1))).isEqualTo(1L << 30);
    assertThat(large.group(4)).isEqualTo(large.group(3));
    long smallPeak = Long.parseLong(small.group(5));
    long largePeak = Long.parseLong(large.group(5));
    assertThat(largePeak).isLessThan(48).isLessThanOrEqualTo(smallPeak + 8);
  }
}
