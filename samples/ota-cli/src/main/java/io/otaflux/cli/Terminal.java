package io.otaflux.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Whether a standard stream is a terminal (Linux: what /proc/self/fd/N points to). */
final class Terminal {

  private Terminal() {
  }

  static boolean isStderrTerminal() {
    return isTerminal(2);
  }

  static boolean isStdinTerminal() {
    return isTerminal(0);
  }

  private static boolean isTerminal(int fd) {
    try {
      String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
      return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
    } catch (IOException | UnsupportedOperationException e) {
      return System.console() != null;
    }
  }
}
