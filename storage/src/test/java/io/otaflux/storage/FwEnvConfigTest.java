package io.otaflux.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;

import org.junit.jupiter.api.Test;

class FwEnvConfigTest {

  private static final Path SOURCE = Path.of("/etc/fw_env.config");

  @Test
  void readsOneLinePerCopySkippingCommentsBlankAndShortLines() {
    FwEnvConfig c = FwEnvConfig.parse("# Block device example\n"
        + "\n"
        + "   \n"
        + "/dev/mmcblk0 only-two\n"
        + "/dev/mmcblk0\t0xc0000   0x20000\n"
        + "/dev/mmcblk0 -0x20000 20000 0x200 2\n"
        + "/dev/mmcblk0 0x100000 0x20000\n", SOURCE);
    assertThat(c.isRedundant()).isTrue();
    assertThat(c.copies()).containsExactly(
        new FwEnvConfig.Location(Path.of("/dev/mmcblk0"), 0xc0000, 0x20000, 0, 0),
        new FwEnvConfig.Location(Path.of("/dev/mmcblk0"), -0x20000, 0x20000, 0x200, 2));
    assertThat(c.size()).isEqualTo(0x20000);
  }

  @Test
  void theOffsetIsACIntegerWhileSizesAreAlwaysHex() {
    FwEnvConfig c = FwEnvConfig.parse("/boot/uboot.env 4096 1000 1000\n", SOURCE);
    assertThat(c.isRedundant()).isFalse();
    assertThat(c.copies().get(0)).isEqualTo(new FwEnvConfig.Location(Path.of("/boot/uboot.env"), 4096, 0x1000,
        0x1000, 0));
    assertThat(FwEnvConfig.parse("/x 010 0x1000", SOURCE).copies().get(0).offset()).isEqualTo(8);
  }

  @Test
  void aZeroSizeOrAGarbledNumberIsAnErrorNamingTheLine() {
    assertThatThrownBy(() -> FwEnvConfig.parse("# c\n/x 0 0\n", SOURCE)).isInstanceOfSatisfying(OtaException.class,
        e -> {
          assertThat(e.detail()).isEqualTo(Detail.INVALID_REQUEST);
          assertThat(e.getMessage()).contains("line 2").contains("size is 0");
        });
    assertThatThrownBy(() -> FwEnvConfig.parse("/x 0x1000 0x20000z\n", SOURCE))
        .hasMessageContaining("\"0x20000z\" is not a number (it is read as hexadecimal)");
  }

  @Test
  void noLineIsAnErrorThatShowsTheFormat() {
    assertThatThrownBy(() -> FwEnvConfig.parse("# nothing\n", SOURCE)).isInstanceOfSatisfying(OtaException.class,
        e -> assertThat(e.getMessage()).contains("names no environment").contains("DEVICE OFFSET SIZE"));
  }

  @Test
  void rawMtdAndUbiDevicesAreRefusedWithTheReason() {
    assertThatThrownBy(() -> FwEnvConfig.parse("/dev/mtd1 0x0 0x4000 0x4000\n", SOURCE))
        .hasMessageContaining("erase").hasMessageContaining("/dev/mtdblockN");
    assertThat(FwEnvConfig.parse("/dev/mtdblock1 0x0 0x4000 0x4000\n", SOURCE).copies()).hasSize(1);
  }

  @Test
  void overlappingOrUnequalCopiesAreRefused() {
    assertThatThrownBy(() -> FwEnvConfig.parse("/x 0 0x2000\n/x 0x1000 0x2000\n", SOURCE))
        .hasMessageContaining("overlap");
    assertThatThrownBy(() -> FwEnvConfig.parse("/x 0 0x2000\n/y 0 0x1000\n", SOURCE))
        .hasMessageContaining("different sizes");
  }
}
