package io.otaflux.lwm2m;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import io.otaflux.Sha256;
import io.otaflux.SlotId;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pending-update file: what was written is read back, any package name, and forgotten. */
class PendingUpdateTest {

  @TempDir
  Path dir;

  @Test
  void anExecutedUpdateIsReadBackAsWrittenWhateverItsPackageIsCalled() {
    Path file = dir.resolve("lwm2m-agent.properties");
    PendingUpdate update = new PendingUpdate(SlotId.B, Sha256.digest(new byte[] {4, 2}), "gw-größe-2.bin", "2.0.0-β");
    update.write(file);
    assertThat(PendingUpdate.read(file)).contains(update);
    assertThat(dir.resolve("lwm2m-agent.properties.tmp")).doesNotExist();

    PendingUpdate next = new PendingUpdate(SlotId.A, Sha256.digest(new byte[] {7}), "", "");
    next.write(file);
    assertThat(PendingUpdate.read(file)).contains(next);

    PendingUpdate.clear(file);
    assertThat(PendingUpdate.read(file)).isEmpty();
    assertThat(PendingUpdate.read(null)).isEmpty();
  }
}
