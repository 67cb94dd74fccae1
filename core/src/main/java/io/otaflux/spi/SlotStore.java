package io.otaflux.spi;

import io.otaflux.OtaException;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.StoreStatus;

import reactor.core.publisher.Mono;

/**
 * An A/B slot store: two slots, one running and one to write, and a boot state that chooses
 * between them. The boot rules every implementation keeps are {@link BootRules}, which a store
 * applies and persists (its {@link #status()} is the state they work on):
 * <ul>
 *   <li>only {@code good} and {@code trial} slots boot; an update only ever writes the slot that
 *       is not active, and only while the device runs its boot choice and that slot is good;</li>
 *   <li>{@link #activate} makes a committed slot {@code trial} and the next boot choice, in one
 *       atomic step;</li>
 *   <li>{@link #boot} boots a trial slot at most 3 times unconfirmed; the 4th boot returns to the
 *       previous good slot and the trial slot becomes {@code invalid};</li>
 *   <li>{@link #markGood} confirms the running trial slot; {@link #rollback} makes the other good
 *       slot the boot choice again.</li>
 * </ul>
 * A power cut at any instant leaves the old or the new boot state, never neither.
 *
 * <p><b>Errors:</b> {@link io.otaflux.OtaException} with reason {@code STORAGE} for I/O errors, a
 * slot too small, or a store busy with another update; {@code USAGE} for an operation the
 * state does not allow (nothing to roll back to, say); {@code POLICY} for an update the boot
 * rules refuse now.
 */
public interface SlotStore {

  /**
   * Starts writing the inactive slot, taking the store's exclusive lock.
   *
   * <p>Fails at once, touching nothing, before the lock is taken, when the {@link BootRules}
   * refuse an update now ({@link io.otaflux.OtaException.Detail#TRIAL_RUNNING},
   * {@link io.otaflux.OtaException.Detail#REBOOT_PENDING}); and when another write holds the lock
   * ("busy") or the image's known size exceeds the slot. An interrupted write of the same image
   * ({@link ImageSpec#isSameImageAs}) is resumed: see {@link SlotWriter#resumePoint()}.
   *
   * @param image what is about to be written
   * @return the writer; end it with {@link SlotWriter#release()} or {@link SlotWriter#abort()}
   */
  Mono<SlotWriter> openWriter(ImageSpec image);

  /**
   * Makes a committed slot the trial boot choice, atomically.
   *
   * @param slot the slot, which must not be the active one
   * @param sha256 the digest the slot's image must have: guards against a slot rewritten since
   * @return completion
   */
  Mono<Void> activate(SlotId slot, Sha256 sha256);

  /**
   * Chooses the slot to boot now and records the attempt (what a boot script calls).
   *
   * @return the slot to boot
   */
  Mono<SlotId> boot();

  /**
   * Confirms the running slot: a trial becomes {@code good} and stays the boot choice. A no-op
   * when it is good already.
   *
   * @return completion
   */
  Mono<Void> markGood();

  /**
   * Makes the other good slot the boot choice again, now; an unconfirmed trial slot becomes
   * {@code invalid}.
   *
   * @return the slot that boots next
   */
  Mono<SlotId> rollback();

  /**
   * Opens the running slot for reading, so a delta update can reuse its chunks. A store that
   * cannot read it fails: the update then says so and downloads the whole image.
   *
   * @return a reader of the running slot's image; close it when done
   */
  default Mono<SlotReader> openRunning() {
    return Mono.error(OtaException.of(OtaException.Detail.NOT_ALLOWED_NOW,
        "This slot store (" + getClass().getSimpleName() + ") cannot read the running slot."));
  }

  /**
   * The chunk index an updater kept with {@code slot} through {@link #saveChunkIndex}, byte for byte,
   * so a delta update finds what the running slot holds without reading all of it. A cache: the
   * updater checks what it reads (its checksum, its format, and that it describes the image the slot
   * holds now) and scans the slot instead, saying so, when it is missing or does not check.
   *
   * <p>The default keeps nothing: empty.
   *
   * @param slot the slot
   * @return the bytes saved last for the slot, or empty when none are kept
   */
  default Mono<byte[]> loadChunkIndex(SlotId slot) {
    return Mono.empty();
  }

  /**
   * Keeps {@code bytes} (an opaque, self-checking record of at most a few MiB) with {@code slot},
   * replacing what was kept. A store that keeps it on a medium replaces it atomically and durably
   * (a power cut leaves the old or the new bytes, or bytes the updater's checksum refuses).
   * Called during a write session of {@code slot}.
   *
   * <p>The default keeps nothing.
   *
   * @param slot the slot whose image the bytes describe
   * @param bytes the record
   * @return completion; a failure only costs the next delta update a scan of the slot
   */
  default Mono<Void> saveChunkIndex(SlotId slot, byte[] bytes) {
    return Mono.empty();
  }

  /**
   * Both slots and the boot choice.
   *
   * @return the status
   */
  Mono<StoreStatus> status();
}
