package io.otaflux.testkit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.SlotState;
import io.otaflux.SlotStatus;
import io.otaflux.StoreStatus;
import io.otaflux.spi.BootRules;
import io.otaflux.spi.ImageMetadata;
import io.otaflux.spi.ImageSpec;
import io.otaflux.spi.ResumeFrom;
import io.otaflux.spi.SlotReader;
import io.otaflux.spi.SlotStore;
import io.otaflux.spi.SlotWriter;

import org.jspecify.annotations.Nullable;

import reactor.core.publisher.Mono;

/**
 * A {@link SlotStore} in memory, keeping the {@link BootRules} as every store does: for tests,
 * demos and devices that hand the image on to another chip. Slot {@code a} starts {@code good}
 * (the factory image, empty) and running; slot {@code b} starts {@code empty}. Slot contents are
 * limited to 2 GiB by the Java array.
 */
public final class InMemorySlotStore implements SlotStore {

  private final long capacity;
  private final Map<SlotId, Slot> slots = new EnumMap<>(SlotId.class);
  private final Map<SlotId, byte[]> keptIndexes = new EnumMap<>(SlotId.class);
  private final AtomicLong runningBytesRead = new AtomicLong();
  private StoreStatus state;
  private @Nullable Writer writer;

  private InMemorySlotStore(long capacity) {
    this.capacity = capacity;
    this.state = BootRules.initial(capacity);
    slots.put(SlotId.A, new Slot(SlotId.A));
    slots.put(SlotId.B, new Slot(SlotId.B));
  }

  /**
   * A store whose slots each hold at most {@code capacity} bytes.
   *
   * @param capacity the slot size in bytes, at most {@link Integer#MAX_VALUE}
   * @return the store
   */
  public static InMemorySlotStore create(long capacity) {
    if (capacity < 0 || capacity > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("an in-memory slot holds 0 to 2 GiB, not " + capacity);
    }
    return new InMemorySlotStore(capacity);
  }

  /**
   * The bytes of a slot's image as written so far (a copy).
   *
   * @param slot the slot
   * @return its bytes
   */
  public synchronized byte[] contents(SlotId slot) {
    Slot s = slots.get(slot);
    return Arrays.copyOf(s.data, (int) s.length);
  }

  /**
   * Reads the running slot's committed image (a snapshot taken now).
   *
   * @return the reader
   */
  @Override
  public Mono<SlotReader> openRunning() {
    return Mono.fromCallable(() -> {
      synchronized (this) {
        SlotId id = state.active();
        Slot s = slots.get(id);
        byte[] data = Arrays.copyOf(s.data, (int) s.length);
        Sha256 digest = state.slot(id).sha256();
        return new SlotReader() {
          @Override
          public SlotId slot() {
            return id;
          }

          @Override
          public long size() {
            return data.length;
          }

          @Override
          public java.util.Optional<Sha256> sha256() {
            return java.util.Optional.ofNullable(digest);
          }

          @Override
          public int read(java.nio.ByteBuffer dst, long position) {
            if (position >= data.length) {
              return -1;
            }
            int n = (int) Math.min(dst.remaining(), data.length - position);
            dst.put(data, (int) position, n);
            runningBytesRead.addAndGet(n);
            return n;
          }

          @Override
          public void close() {
          }
        };
      }
    });
  }

  /**
   * Replaces the running slot's bytes in place, as a failing medium would (for tests of what a
   * delta update reuses): the slot's recorded digest is not changed.
   *
   * @param position the offset
   * @param value the byte to write there
   */
  public synchronized void damageRunning(long position, byte value) {
    Slot s = slots.get(state.active());
    s.data[(int) position] = value;
  }

  /**
   * The chunk index kept with {@code slot}, as it was saved.
   *
   * @param slot the slot
   * @return its bytes (a copy), or empty
   */
  @Override
  public synchronized Mono<byte[]> loadChunkIndex(SlotId slot) {
    byte[] kept = keptIndexes.get(Objects.requireNonNull(slot, "slot"));
    return Mono.justOrEmpty(kept == null ? null : kept.clone());
  }

  /**
   * Keeps the chunk index with {@code slot}, in memory.
   *
   * @param slot the slot
   * @param bytes the record (copied)
   * @return completion
   */
  @Override
  public synchronized Mono<Void> saveChunkIndex(SlotId slot, byte[] bytes) {
    keptIndexes.put(Objects.requireNonNull(slot, "slot"), bytes.clone());
    return Mono.empty();
  }

  /**
   * The bytes of the running slot read through {@link #openRunning()} readers so far: what a delta
   * update read of the device's image (a scan reads all of it).
   *
   * @return bytes
   */
  public long runningBytesRead() {
    return runningBytesRead.get();
  }

  @Override
  public Mono<SlotWriter> openWriter(ImageSpec image) {
    Objects.requireNonNull(image, "image");
    return Mono.fromCallable(() -> {
      synchronized (this) {
        SlotId target = BootRules.writableSlot(state); // the rules refuse before the lock is taken
        if (writer != null) {
          throw OtaException.of(Detail.STORE_BUSY,
              "The slot store is busy with another update; wait for it to finish, or stop it, and try again.");
        }
        if (image.size() > capacity) {
          throw OtaException.of(Detail.SLOT_TOO_SMALL, "The image (" + image.size() + " bytes) is larger than slot "
              + target.label() + " (" + capacity + " bytes); nothing was written.");
        }
        Slot s = slots.get(target);
        SlotStatus current = state.slot(target);
        boolean resumes = current.state() == SlotState.WRITING && current.sha256() == null && s.journal != null
            && image.isSameImageAs(s.journal) && s.durable > 0;
        if (!resumes) {
          s.length = 0;
          s.durable = 0;
          s.validator = null;
          s.data = new byte[0];
        }
        state = BootRules.beginWriting(state, s.durable);
        s.journal = image;
        Writer w = new Writer(s, resumes ? new ResumeFrom(s.durable, s.validator) : ResumeFrom.start());
        writer = w;
        return w;
      }
    });
  }

  @Override
  public Mono<Void> activate(SlotId slot, Sha256 sha256) {
    Objects.requireNonNull(slot, "slot");
    Objects.requireNonNull(sha256, "sha256");
    return Mono.fromRunnable(() -> {
      synchronized (this) {
        if (writer != null) {
          throw OtaException.of(Detail.STORE_BUSY,
              "The slot store is busy with another update; activate when it has finished.");
        }
        state = BootRules.activate(state, slot, sha256);
      }
    });
  }

  @Override
  public Mono<SlotId> boot() {
    return follow(BootRules::boot).map(StoreStatus::active);
  }

  @Override
  public Mono<Void> markGood() {
    return follow(BootRules::markGood).then();
  }

  @Override
  public Mono<SlotId> rollback() {
    return follow(BootRules::rollback).map(StoreStatus::next);
  }

  /** Takes one step of the boot rules (nothing changes when they refuse); gives the status after it. */
  private Mono<StoreStatus> follow(UnaryOperator<StoreStatus> rule) {
    return Mono.fromCallable(() -> {
      synchronized (this) {
        state = rule.apply(state);
        return state;
      }
    });
  }

  @Override
  public Mono<StoreStatus> status() {
    return follow(UnaryOperator.identity());
  }

  /** What the boot state does not hold: the bytes and the resume journal. */
  private static final class Slot {
    final SlotId id;
    byte[] data = new byte[0];
    long length;
    long durable;
    @Nullable String validator;
    @Nullable ImageSpec journal;

    Slot(SlotId id) {
      this.id = id;
    }
  }

  /** A write session on one slot; every call holds the store's lock. */
  private final class Writer implements SlotWriter {
    private final Slot s;
    private final ResumeFrom resume;
    private long position;
    private boolean ended;

    Writer(Slot s, ResumeFrom resume) {
      this.s = s;
      this.resume = resume;
      this.position = resume.offset();
    }

    @Override
    public SlotId slot() {
      return s.id;
    }

    @Override
    public long capacity() {
      return capacity;
    }

    @Override
    public ResumeFrom resumePoint() {
      return resume;
    }

    @Override
    public long position() {
      synchronized (InMemorySlotStore.this) {
        return position;
      }
    }

    @Override
    public void rewind(long offset) throws IOException {
      synchronized (InMemorySlotStore.this) {
        live();
        if (offset < 0 || offset > s.durable) {
          throw new IOException("cannot rewind to " + offset + ": only " + s.durable + " bytes are durable");
        }
        position = offset;
        s.length = offset;
      }
    }

    @Override
    public void write(ByteBuffer chunk) throws IOException {
      synchronized (InMemorySlotStore.this) {
        live();
        int n = chunk.remaining();
        if (position + n > capacity) {
          throw OtaException.of(Detail.SLOT_TOO_SMALL, "The image is larger than slot " + s.id.label() + " (" + capacity
              + " bytes); the write stopped at byte " + position + ".");
        }
        int end = (int) (position + n);
        if (end > s.data.length) {
          s.data = Arrays.copyOf(s.data, (int) Math.min(capacity, Math.max(end, 2L * s.data.length)));
        }
        chunk.get(s.data, (int) position, n);
        position = end;
        s.length = end;
      }
    }

    @Override
    public void sync(@Nullable String validator) throws IOException {
      synchronized (InMemorySlotStore.this) {
        live();
        if (state.slot(s.id).sha256() == null) {
          state = BootRules.written(state, s.id, position);
        }
        s.durable = position;
        s.validator = validator;
      }
    }

    @Override
    public int read(ByteBuffer dst, long from) throws IOException {
      synchronized (InMemorySlotStore.this) {
        if (from >= s.length) {
          return -1;
        }
        int n = (int) Math.min(dst.remaining(), s.length - from);
        dst.put(s.data, (int) from, n);
        return n;
      }
    }

    @Override
    public void commit(ImageMetadata image) throws IOException {
      synchronized (InMemorySlotStore.this) {
        live();
        if (image.size() != position) {
          throw new IOException("the image has " + image.size() + " bytes but " + position + " were written");
        }
        state = BootRules.commit(state, s.id, image);
        s.durable = position;
        s.journal = null;
      }
    }

    @Override
    public void release() {
      synchronized (InMemorySlotStore.this) {
        end();
      }
    }

    @Override
    public void abort() {
      synchronized (InMemorySlotStore.this) {
        if (ended) {
          return;
        }
        if (state.slot(s.id).state() == SlotState.WRITING) {
          state = BootRules.abort(state, s.id);
        }
        s.journal = null;
        s.durable = 0;
        end();
      }
    }

    private void end() {
      ended = true;
      if (writer == this) {
        writer = null;
      }
    }

    private void live() throws IOException {
      if (ended) {
        throw new IOException("this write session has ended");
      }
    }
  }
}
