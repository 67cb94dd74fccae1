package io.otaflux.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;
import java.util.Optional;

import io.otaflux.SlotId;

import org.jspecify.annotations.Nullable;

import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Files replaced atomically and durably (the recorded setup, a grubenv), and the chunk indexes an
 * updater keeps with the slots ({@link io.otaflux.spi.SlotStore#saveChunkIndex}) as files next to
 * the boot state: {@code slot-a.chunks}, {@code slot-b.chunks}. Each is replaced
 * atomically (a temporary file written and synced, renamed over, the directory synced); the bytes
 * seal themselves, so a record a power cut tore anyway is refused by the updater, never trusted.
 * Shared by every store of this module.
 */
final class AtomicFiles {

  /** The most a kept index may be: 64 MiB (a 16 GiB image of 8 KiB chunks is 48 MiB). */
  private static final long MAX = 64L << 20;

  private AtomicFiles() {
  }

  static Path file(Path dir, SlotId slot) {
    return dir.resolve("slot-" + slot.label() + ".chunks");
  }

  /** The bytes kept for {@code slot}, or null when there are none (or too many to be an index). */
  static byte @Nullable [] load(Medium medium, Path dir, SlotId slot) throws IOException {
    Path file = file(dir, slot);
    if (!medium.exists(file)) {
      return null;
    }
    try (Medium.Handle h = medium.open(file, Medium.Mode.READ)) {
      long size = h.size();
      if (size > MAX) {
        return null;
      }
      ByteBuffer bytes = ByteBuffer.allocate((int) size);
      while (bytes.hasRemaining()) {
        if (h.read(bytes, bytes.position()) <= 0) {
          break;
        }
      }
      return bytes.position() == size ? bytes.array() : Arrays.copyOf(bytes.array(), bytes.position());
    }
  }

  /** {@link io.otaflux.spi.SlotStore#loadChunkIndex}, on {@code io}. */
  static Mono<byte[]> loadChunkIndex(Medium medium, Path dir, SlotId slot, Scheduler io) {
    Objects.requireNonNull(slot, "slot");
    return Mono.fromCallable(() -> Optional.ofNullable(load(medium, dir, slot))).subscribeOn(io)
        .flatMap(Mono::justOrEmpty);
  }

  /** {@link io.otaflux.spi.SlotStore#saveChunkIndex}, on {@code io}. */
  static Mono<Void> saveChunkIndex(Medium medium, Path dir, SlotId slot, byte[] bytes, Scheduler io) {
    Objects.requireNonNull(slot, "slot");
    Objects.requireNonNull(bytes, "bytes");
    return Mono.fromCallable(() -> {
      replace(medium, file(dir, slot), bytes);
      return Boolean.TRUE;
    }).subscribeOn(io).then();
  }

  /** Replaces {@code target} with {@code bytes} atomically and durably: a temporary file, synced, renamed over. */
  static void replace(Medium medium, Path target, byte[] bytes) throws IOException {
    Path temp = target.resolveSibling(target.getFileName() + ".new");
    try (Medium.Handle h = medium.open(temp, Medium.Mode.CREATE_EMPTY)) {
      h.write(ByteBuffer.wrap(bytes), 0);
      h.force();
    }
    medium.rename(temp, target);
    Path dir = target.toAbsolutePath().getParent();
    if (dir != null) {
      medium.syncDirectory(dir);
    }
  }
}
