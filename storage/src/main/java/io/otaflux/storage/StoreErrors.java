package io.otaflux.storage;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.SlotId;

/** The store's failures as sentences that say what happened and what to do. */
final class StoreErrors {

  static final String UNCHANGED = "The running slot and the boot choice are unchanged.";

  private StoreErrors() {
  }

  static OtaException busy(Path lockFile) {
    return OtaException.of(Reason.STORAGE, "The slot store is busy with another update (it holds " + lockFile
        + "); wait for it to finish, or stop it, and try again. Nothing was changed.");
  }

  static OtaException tooLarge(long size, SlotId slot, long capacity) {
    return OtaException.of(OtaException.Detail.SLOT_TOO_SMALL, "The image (" + size + " bytes) is larger than slot " + slot.label()
        + " (" + capacity + " bytes); nothing was written. Use larger slots or a smaller image.");
  }

  /**
   * An I/O failure on a slot or the boot state, told by what it was: a missing file, a read-only
   * file or file system, a full disk, or anything else.
   *
   * @param doing what was being done, as the start of a sentence ("Writing slot b")
   * @param path the file
   * @param e the failure
   * @return the exception, reason {@code STORAGE}
   */
  static OtaException io(String doing, Path path, IOException e) {
    String detail = detail(e);
    String lower = detail.toLowerCase(Locale.ROOT);
    String sentence;
    if (e instanceof NoSuchFileException) {
      sentence = doing + " failed: " + path + " is missing. Restore it (a slot file or device of the store), or"
          + " create the store again with `ota init`.";
    } else if (e instanceof AccessDeniedException || lower.contains("read-only")
        || lower.contains("permission denied") || lower.contains("operation not permitted")) {
      sentence = doing + " failed: " + path + " is read-only (" + detail + "). Make it writable for this user"
          + " (chmod, chattr -i, or remount the file system read-write) and try again.";
    } else if (lower.contains("no space left") || lower.contains("disk quota exceeded")) {
      sentence = doing + " failed: the disk holding " + path + " is full (" + detail + "). Free some space, or"
          + " give the slots a disk of their own, and run the update again.";
    } else {
      sentence = doing + " failed on " + path + ": " + detail + ". Check the disk (dmesg may say more) and try"
          + " again.";
    }
    return OtaException.of(Reason.STORAGE, sentence + " " + UNCHANGED, e);
  }

  private static String detail(IOException e) {
    if (e instanceof FileSystemException) {
      String reason = ((FileSystemException) e).getReason();
      if (reason != null) {
        return reason;
      }
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}
