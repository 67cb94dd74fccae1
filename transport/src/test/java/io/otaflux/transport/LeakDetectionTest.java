package io.otaflux.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.otaflux.transport.testing.RecordingLeakDetector;

import org.junit.jupiter.api.Test;

/** The build fails on a leak only if leaks are seen: prove the detector sees one. */
class LeakDetectionTest {

  @Test
  void aDroppedBufferIsReportedUnderParanoidDetection() {
    assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.PARANOID);
    RecordingLeakDetector.collect();
    List<String> before = RecordingLeakDetector.drain();
    assertThat(before).as("leaks from earlier tests").isEmpty();
    List<String> leaks = new ArrayList<>();
    RecordingLeakDetector.quiet(true);
    try {
      leakOne();
      for (int i = 0; i < 20 && leaks.isEmpty(); i++) {
        RecordingLeakDetector.collect();
        leaks.addAll(RecordingLeakDetector.drain());
      }
    } finally {
      RecordingLeakDetector.quiet(false);
    }
    assertThat(leaks).anySatisfy(l -> assertThat(l).startsWith("LEAK: ByteBuf"));
  }

  private static void leakOne() {
    ByteBuf leaked = PooledByteBufAllocator.DEFAULT.buffer(64);
    leaked.writeLong(42);
  }
}
