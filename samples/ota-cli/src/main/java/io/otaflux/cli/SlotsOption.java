package io.otaflux.cli;

import java.nio.file.Path;

import io.otaflux.storage.FileSlotStore;

import picocli.CommandLine.Option;

/** {@code --slots DIR}: the file-backed slot store a command works on. */
final class SlotsOption {

  @Option(names = "--slots", required = true, paramLabel = "DIR",
      description = "The slot store: DIR/slot-a.img, DIR/slot-b.img and the boot state.")
  Path dir;

  FileSlotStore open() {
    return FileSlotStore.open(dir);
  }
}
