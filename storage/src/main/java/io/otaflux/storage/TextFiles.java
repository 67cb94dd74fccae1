package io.otaflux.storage;

import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;

/** The small text files a bootloader store reads (its environment's config, the kernel command line). */
final class TextFiles {

  private TextFiles() {
  }

  /**
   * The file's text. A missing file fails with {@code missing} and the sentence "The WHAT FILE is
   * missing" followed by {@code advice}; another read failure is an {@code IO_ERROR}.
   */
  static String read(Path file, Charset charset, String what, Detail missing, String advice) {
    try {
      return Files.readString(file, charset);
    } catch (NoSuchFileException e) {
      throw OtaException.of(missing, "The " + what + " " + file + " is missing" + advice, e);
    } catch (IOException e) {
      throw OtaException.of(Detail.IO_ERROR, "The " + what + " " + file + " cannot be read: " + e.getMessage() + ".",
          e);
    }
  }
}
