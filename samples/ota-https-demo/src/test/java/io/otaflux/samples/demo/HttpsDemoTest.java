package io.otaflux.samples.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HttpsDemoTest {

  @TempDir
  Path work;

  private String play(String keys) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int code = HttpsDemo.run(new ByteArrayInputStream(keys.getBytes(StandardCharsets.UTF_8)),
        new PrintStream(out, true, StandardCharsets.UTF_8), work);
    assertThat(code).isZero();
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void updatesToFirmwareTwoAndBackToFirmwareOneOverHttps() throws Exception {
    String screen = play("1\n4\n5\n2\n4\n5\n3\nq\n");
    assertThat(screen)
        .contains("OTA download successful: slot b holds firmware 2.0.0")
        .contains("Rebooted into slot b.")
        .contains("Slot b is confirmed good.")
        .contains("OTA download successful: slot a holds firmware 1.0.0")
        .contains("Rebooted into slot a.")
        .contains("Running: slot a (good, firmware 1.0.0)")
        .contains("slot b: good, firmware 2.0.0")
        .contains("Bye.");
  }

  @Test
  void anUnconfirmedUpdateRollsBackAndAnErrorIsShownAsTheOriginalsUpdateError() throws Exception {
    String screen = play("1\n4\n6\n4\n6\nq\n");
    assertThat(screen)
        .contains("Rebooted into slot b.")
        .contains("Slot a boots next.")
        .contains("Rebooted into slot a.")
        .contains("OTA error: There is nothing to roll back to");
  }
}
