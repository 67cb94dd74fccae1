package io.otaflux.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The training run of the launcher's class-data archive ({@code OTA_ARCHIVE=train ota}, which
 * the package's postinst runs): the commands a gateway runs, once each, in one JVM, on a
 * temporary store, printing nothing, so that the archive recorded of this run holds the classes
 * of all of them. An archive recorded of one command only (a first run of {@code ota status})
 * leaves the others to load theirs from the jar: {@code ota status --json} took 0.42 CPU-seconds
 * with an archive of {@code ota status} and 0.24 with one that had seen JSON
 * (benchmarks/RESULTS.md).
 */
final class Training {

  private Training() {
  }

  /**
   * Runs the commands, then exits (the JVM writes the archive at exit).
   *
   * @param args none
   * @throws IOException if the temporary directory cannot be made or removed
   */
  public static void main(String[] args) throws IOException {
    Path dir = Files.createTempDirectory("ota-training");
    PrintStream quiet = new PrintStream(OutputStream.nullOutputStream(), true);
    PrintStream out = System.out;
    PrintStream err = System.err;
    int demo = 0;
    try {
      System.setOut(quiet);
      System.setErr(quiet);
      String slots = dir.resolve("slots").toString();
      String[][] commands = {
          {"--version"},
          {"--help"},
          {"status", "--help"},
          {"init", "--slots", slots, "--slot-size", "1M"},
          {"status", "--slots", slots},
          {"status", "--slots", slots, "--json"},
          {"boot", "--slots", slots},
          {"mark-good", "--slots", slots},
          {"rollback", "--slots", slots},
          {"status", "--slots", dir.resolve("no-store").toString()},
          {"status"},
          {"keygen", "--out", dir.resolve("keys").toString()},
          // the update path: a local HTTPS server, get-cert, update with progress, boot, mark-good
          {"demo", "--size", "1M", "--dir", dir.resolve("demo").toString()},
      };
      for (String[] command : commands) {
        // failures are part of the training (their error: lines); only the demo must succeed
        int code = Ota.run(quiet, quiet, command);
        demo = "demo".equals(command[0]) ? code : demo;
      }
    } finally {
      System.setOut(out);
      System.setErr(err);
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(file);
        }
      }
    }
    Interrupts.exit(demo);
  }
}
