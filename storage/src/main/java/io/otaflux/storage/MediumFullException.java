package io.otaflux.storage;

import java.nio.file.FileSystemException;

import org.jspecify.annotations.Nullable;

/**
 * A write or sync failed and the file system holding the file has (next to) no space left: what
 * the medium itself reports ({@link java.nio.file.FileStore#getUsableSpace()}), so that the store
 * tells a full disk by type, never by reading the operating system's error text.
 */
final class MediumFullException extends FileSystemException {

  private static final long serialVersionUID = 1L;

  MediumFullException(String file, @Nullable String reason) {
    super(file, null, reason);
  }
}
