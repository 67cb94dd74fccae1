package io.otaflux.transport.testing;

import java.util.List;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class when Netty reported a leaked buffer while (or before) it ran. Requires the
 * {@link RecordingLeakDetector} and paranoid leak detection (see transport's pom.xml).
 */
public final class NoLeaks implements BeforeAllCallback, AfterAllCallback {

  @Override
  public void beforeAll(ExtensionContext context) {
    ByteBuf probe = PooledByteBufAllocator.DEFAULT.buffer(16);
    probe.release();
    if (!RecordingLeakDetector.isInstalled() || ResourceLeakDetector.getLevel() != ResourceLeakDetector.Level.PARANOID) {
      throw new IllegalStateException("Run with -Dio.netty.leakDetection.level=paranoid and"
          + " -Dio.netty.customResourceLeakDetector=" + RecordingLeakDetector.class.getName()
          + " (level is " + ResourceLeakDetector.getLevel() + ").");
    }
  }

  @Override
  public void afterAll(ExtensionContext context) {
    RecordingLeakDetector.collect();
    List<String> leaks = RecordingLeakDetector.drain();
    if (!leaks.isEmpty()) {
      throw new AssertionError("Netty reported " + leaks.size() + " leaked buffer(s) during "
          + context.getDisplayName() + ":\n" + String.join("\n", leaks));
    }
  }
}
