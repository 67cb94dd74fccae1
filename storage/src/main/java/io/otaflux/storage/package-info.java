/**
 * A/B slots on files or block devices, with a boot state that survives a power cut at any
 * instant: {@link io.otaflux.storage.FileSlotStore}.
 *
 * <p><b>Layout:</b> {@code DIR/slot-a.img}, {@code DIR/slot-b.img}, {@code DIR/boot-state} and the
 * lock files {@code DIR/store.lock} (held by a write session) and {@code DIR/state.lock} (held for
 * each change of the boot state); or two devices plus a state directory holding the last three.
 *
 * <p><b>Boot state format (version 1):</b> the file holds two copies of 64 KiB, at offsets 0 and
 * 65536. A copy is {@code "OTAB"}, the format version (u32), a generation (u64), the payload length
 * (u32), the payload, and a CRC-32C (u32) of everything before it; integers are big-endian. The
 * payload holds the running slot, the next boot choice, the slot capacity and, for each slot, its
 * state, trial boot attempts, size, SHA-256, version, origin URL and resume journal (the image being
 * written: URL, expected size, digest and version, plus the source's validator; the durable offset
 * is the slot's size). Every change writes the next generation into the copy that does not hold
 * the current state and syncs it before the change is reported done; reading takes the valid copy
 * (magic, length and CRC right) with the highest generation. So a power cut leaves the old state
 * or the new one, never neither: a torn copy fails its CRC and the other copy, one generation
 * older, is used. If neither copy is valid the store refuses to open rather than guess; a valid
 * newest copy in an unknown format version is refused too. This is U-Boot's redundant-environment
 * scheme: unlike write-temp-and-rename it needs no file system, so the state can live on a raw
 * partition; only creating a store uses a rename, to appear at once.
 *
 * <p><b>Durability:</b> a slot's bytes are synced before the durable offset in the journal
 * advances, and before the state that lets the slot boot is written. Before a byte of a slot is
 * written, the state already says it is {@code writing} and not the boot choice.
 */
@NullMarked
package io.otaflux.storage;

import org.jspecify.annotations.NullMarked;
