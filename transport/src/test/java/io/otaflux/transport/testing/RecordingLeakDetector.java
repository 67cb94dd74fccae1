package io.otaflux.transport.testing;

import java.util.ArrayList;
import java.util.List;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;

/**
 * Netty's leak detector, recording every report so a test run can fail on it. Installed with
 * {@code -Dio.netty.customResourceLeakDetector=io.otaflux.transport.testing.RecordingLeakDetector}
 * (and {@code -Dio.netty.leakDetection.level=paranoid}); {@link NoLeaks} checks the record.
 *
 * @param <T> the tracked resource type
 */
public final class RecordingLeakDetector<T> extends ResourceLeakDetector<T> {

  private static final List<String> LEAKS = new ArrayList<>();
  private static volatile boolean installed;
  private static volatile boolean quiet;

  /**
   * The constructor Netty calls.
   *
   * @param resourceType the tracked type
   * @param samplingInterval the sampling interval
   */
  public RecordingLeakDetector(Class<?> resourceType, int samplingInterval) {
    super(resourceType, samplingInterval);
    installed = true;
  }

  /**
   * The constructor older Netty versions look for first.
   *
   * @param resourceType the tracked type
   * @param samplingInterval the sampling interval
   * @param maxActive ignored by Netty
   */
  @SuppressWarnings("deprecation")
  public RecordingLeakDetector(Class<?> resourceType, int samplingInterval, long maxActive) {
    super(resourceType, samplingInterval, maxActive);
    installed = true;
  }

  @Override
  protected void reportTracedLeak(String resourceType, String records) {
    record("LEAK: " + resourceType + " " + records);
    if (!quiet) {
      super.reportTracedLeak(resourceType, records);
    }
  }

  @Override
  protected void reportUntracedLeak(String resourceType) {
    record("LEAK: " + resourceType + " (untraced)");
    if (!quiet) {
      super.reportUntracedLeak(resourceType);
    }
  }

  private static void record(String leak) {
    synchronized (LEAKS) {
      LEAKS.add(leak);
    }
  }

  /**
   * Records leaks without logging them (for a test that leaks on purpose), or logs them again.
   *
   * @param on true to stop logging
   */
  public static void quiet(boolean on) {
    quiet = on;
  }

  /** @return whether Netty uses this detector (a buffer has been allocated since start) */
  public static boolean isInstalled() {
    return installed;
  }

  /**
   * Lets the collector find dropped buffers and Netty report them: collects garbage, then
   * allocates (each tracked allocation polls the queue of collected buffers).
   */
  public static void collect() {
    for (int i = 0; i < 3; i++) {
      System.gc();
      for (int j = 0; j < 8; j++) {
        ByteBuf probe = PooledByteBufAllocator.DEFAULT.buffer(16);
        probe.release();
      }
    }
  }

  /** @return the leaks reported so far, forgetting them */
  public static List<String> drain() {
    synchronized (LEAKS) {
      List<String> copy = List.copyOf(LEAKS);
      LEAKS.clear();
      return copy;
    }
  }
}
