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
 * Memory stays flat whatever the image size: a 1 GiB image goes through the whole pipeline in a
 * child JVM whose heap is capped at 32 MiB.
 */
class LargeImageTest {

  private static final Pattern RESULT = Pattern.compile("verified size=(\\d+) sha256=([0-9a-f]{64}) peakHeapMiB=(\\d+)");

  private static String runChild(long size) throws IOException, InterruptedException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    Process child = new ProcessBuilder(List.of(java, "-Xmx32m", "-XX:+UseSerialGC", "-cp", classpath,
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", LargeImageRun.class.getName(), Long.toString(size)))
        .redirectErrorStream(true)
        .start();
    child.getOutputStream().close();
    byte[] output = child.getInputStream().readAllBytes();
    assertThat(child.waitFor(3, TimeUnit.MINUTES)).isTrue();
    String text = new String(output, StandardCharsets.UTF_8);
    assertThat(child.exitValue()).as(text).isZero();
    return text;
  }

  @Test
  void aOneGibibyteImageStreamsThroughThePipelineInA32MibHeap() throws Exception {
    long size = 1L << 30;
    Matcher small = RESULT.matcher(runChild(64L << 20));
    Matcher large = RESULT.matcher(runChild(size));
    assertThat(small.find()).isTrue();
    assertThat(large.find()).isTrue();
    assertThat(Long.parseLong(large.group(1))).isEqualTo(size);
    // the heap does not grow with the image: 16 times the bytes, about the same peak
    long smallPeak = Long.parseLong(small.group(3));
    long largePeak = Long.parseLong(large.group(3));
    assertThat(largePeak).isLessThan(32).isLessThanOrEqualTo(smallPeak + 8);
  }
}
