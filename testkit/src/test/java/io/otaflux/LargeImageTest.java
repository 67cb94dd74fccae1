package io.otaflux;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * Memory stays flat whatever the image size: a 1 GiB image goes through the whole pipeline (and,
 * compressed, through the decoder) in a child JVM with a small capped heap ({@link LargeImageRun}).
 */
class LargeImageTest {

  private static final Pattern RESULT = Pattern.compile(
      "verified size=(\\d+) sha256=([0-9a-f]{64}) transfer=(\\d+) downloaded=(\\d+) peakHeapMiB=(\\d+)");

  private static Matcher runChild(int heapMiB, long size, String encoding) throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Process child = new ProcessBuilder(List.of(java, "-Xmx" + heapMiB + "m", "-XX:+UseSerialGC", "-cp", classpath,
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", LargeImageRun.class.getName(), Long.toString(size), encoding))
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

  /** 64 MiB and then 1 GiB (16 times the bytes) verify with about the same peak heap, below the cap. */
  private static void assertFlatHeap(int heapMiB, String encoding) throws IOException, InterruptedException {
    long size = 1L << 30;
    Matcher small = runChild(heapMiB, 64L << 20, encoding);
    Matcher large = runChild(heapMiB, size, encoding);
    assertThat(Long.parseLong(large.group(1))).isEqualTo(size);
    assertThat(large.group(4)).as("every byte sent was received").isEqualTo(large.group(3));
    long smallPeak = Long.parseLong(small.group(5));
    long largePeak = Long.parseLong(large.group(5));
    assertThat(largePeak).isLessThan(heapMiB).isLessThanOrEqualTo(smallPeak + 8);
  }

  @Test
  void aOneGibibyteImageStreamsThroughThePipelineInA32MibHeap() throws Exception {
    assertFlatHeap(32, "plain");
  }

  @Test
  void aOneGibibyteZstdImageStreamsThroughTheDecoderInA48MibHeap() throws Exception {
    assertFlatHeap(48, "zstd");
  }
}
