package io.otaflux.storage;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

class RealToolsTest {

  @Test
  void aMissingToolSkipsOnAWorkstationAndFailsUnderCi() {
    boolean ci = "true".equalsIgnoreCase(System.getenv("CI"));
    assertThatThrownBy(() -> RealTools.require("otaflux-no-such-tool", "/no/such/u-boot.bin"))
        .isInstanceOf(ci ? AssertionFailedError.class : TestAbortedException.class)
        .hasMessageContaining("missing [otaflux-no-such-tool, /no/such/u-boot.bin]")
        .hasMessageContaining("apt-get install");
  }
}
