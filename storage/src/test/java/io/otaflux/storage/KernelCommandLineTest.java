package io.otaflux.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.SlotId;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KernelCommandLineTest {

  @TempDir
  Path dir;

  @Test
  void readsRaucSlotAsRaucBootScriptsSetIt() throws Exception {
    Path cmdline = dir.resolve("cmdline");
    Files.writeString(cmdline, "console=ttyAMA0 root=/dev/vda3 rauc.slot=B rootwait\n");
    assertThat(KernelCommandLine.runningSlot(cmdline)).isEqualTo(SlotId.B);
  }

  @Test
  void readsOtafluxSlotAndQuotedValuesAndTheLastOfRepeatedParameters() {
    assertThat(KernelCommandLine.runningSlot("quiet otaflux.slot=a", "t")).isEqualTo(SlotId.A);
    assertThat(KernelCommandLine.runningSlot("rauc.slot=\"A\" x=\"a b\"", "t")).isEqualTo(SlotId.A);
    assertThat(KernelCommandLine.runningSlot("rauc.slot=A rauc.slot=B", "t")).isEqualTo(SlotId.B);
    assertThat(KernelCommandLine.runningSlot("rauc.slot=B otaflux.slot=b", "t")).isEqualTo(SlotId.B);
  }

  @Test
  void aCommandLineNamingNoSlotIsAClearError() {
    assertThatThrownBy(() -> KernelCommandLine.runningSlot("console=ttyS0 root=/dev/sda2 norauc.slot=A", "/proc/cmdline"))
        .isInstanceOfSatisfying(OtaException.class, e -> {
          assertThat(e.detail()).isEqualTo(Detail.INVALID_REQUEST);
          assertThat(e.getMessage()).contains("names no slot").contains("rauc.slot=A").contains("otaflux.slot=a|b")
              .contains("root=/dev/sda2");
        });
  }

  @Test
  void anUnknownOrContradictorySlotIsAnError() {
    assertThatThrownBy(() -> KernelCommandLine.runningSlot("rauc.slot=recovery", "c"))
        .hasMessageContaining("rauc.slot=recovery").hasMessageContaining("A or B");
    assertThatThrownBy(() -> KernelCommandLine.runningSlot("rauc.slot=a", "c")).hasMessageContaining("A or B");
    assertThatThrownBy(() -> KernelCommandLine.runningSlot("rauc.slot=A otaflux.slot=b", "c"))
        .hasMessageContaining("two running slots");
  }

  @Test
  void aMissingCommandLineFileIsAnIoError() {
    assertThatThrownBy(() -> KernelCommandLine.runningSlot(dir.resolve("none")))
        .isInstanceOfSatisfying(OtaException.class, e -> assertThat(e.detail()).isEqualTo(Detail.IO_ERROR));
  }
}
