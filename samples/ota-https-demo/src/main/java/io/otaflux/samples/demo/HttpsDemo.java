package io.otaflux.samples.demo;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Random;

import io.otaflux.OtaException;
import io.otaflux.OtaUpdater;
import io.otaflux.SlotId;
import io.otaflux.SlotStatus;
import io.otaflux.StoreStatus;
import io.otaflux.UpdateRequest;
import io.otaflux.UpdateResult;
import io.otaflux.UpdateSession;
import io.otaflux.samples.server.DemoPki;
import io.otaflux.samples.server.FirmwareServer;
import io.otaflux.storage.FileSlotStore;
import io.otaflux.transport.HttpsFirmwareSource;
import io.otaflux.transport.TrustAnchors;
import io.otaflux.ui.ConsoleProgressBar;

import org.jspecify.annotations.Nullable;

/**
 * A terminal menu over a slot store: update to firmware 2 over HTTPS, update back to firmware 1
 * (the original demo's back-and-forth), show the slots, simulate a reboot, confirm, roll back,
 * and abort a download half-way.
 *
 * <pre>
 * java -jar samples/ota-https-demo/target/ota-https-demo.jar                      # embedded server
 * java -jar samples/ota-https-demo/target/ota-https-demo.jar URL ROOT_CERT.pem    # your own server
 * </pre>
 */
public final class HttpsDemo {

  private static final Duration WAIT = Duration.ofMinutes(5);

  private final PrintStream out;
  private final BufferedReader in;
  private final FileSlotStore store;
  private final OtaUpdater updater;
  private final String firmware2;
  private final @Nullable String firmware1;
  private final @Nullable FirmwareServer server;

  private HttpsDemo(PrintStream out, BufferedReader in, FileSlotStore store, OtaUpdater updater, String firmware2,
      @Nullable String firmware1, @Nullable FirmwareServer server) {
    this.out = out;
    this.in = in;
    this.store = store;
    this.updater = updater;
    this.firmware2 = firmware2;
    this.firmware1 = firmware1;
    this.server = server;
  }

  /**
   * Runs the menu on the terminal.
   *
   * @param args nothing (the embedded server), or URL and a root certificate PEM file
   * @throws IOException when the work directory cannot be made
   */
  public static void main(String[] args) throws IOException {
    System.exit(run(System.in, System.out, Files.createTempDirectory("ota-https-demo"), args));
  }

  static int run(InputStream keys, PrintStream out, Path work, String... args) throws IOException {
    BufferedReader in = new BufferedReader(new InputStreamReader(keys, StandardCharsets.UTF_8));
    FileSlotStore store = FileSlotStore.openOrInit(work.resolve("slots"), 64L << 20);
    if (args.length == 2) {
      OtaUpdater updater = OtaUpdater.create().store(store)
          .source(HttpsFirmwareSource.create().trustAnchors(TrustAnchors.fromPemFile(Path.of(args[1]))));
      new HttpsDemo(out, in, store, updater, args[0], null, null).menu();
      return 0;
    }
    if (args.length != 0) {
      out.println("usage: ota-https-demo [URL ROOT_CERT.pem]");
      return 2;
    }
    try (FirmwareServer server = FirmwareServer.start()) {
      String two = server.publish("firmware-2.bin", image("2.0.0", 6 << 20)).toString();
      String one = server.publish("firmware-1.bin", image("1.0.0", 5 << 20)).toString();
      server.pace(Duration.ofMillis(15));
      Path root = work.resolve("root.pem");
      Files.writeString(root, DemoPki.pem(server.pki().root()), StandardCharsets.US_ASCII);
      out.println("A local HTTPS firmware server runs at https://localhost:" + server.port()
          + " with a fresh CA; its root is pinned from " + root + ".");
      OtaUpdater updater = OtaUpdater.create().store(store)
          .source(HttpsFirmwareSource.create().trustAnchors(TrustAnchors.fromPemFile(root)));
      new HttpsDemo(out, in, store, updater, two, one, server).menu();
    }
    return 0;
  }

  private void menu() throws IOException {
    while (true) {
      showRunning();
      out.println("  1) Update to firmware 2 over https");
      if (firmware1 != null) {
        out.println("  2) Update back to firmware 1");
      }
      out.println("  3) Show the slots");
      out.println("  4) Reboot (the boot script's `ota boot`)");
      out.println("  5) Confirm the running firmware (`ota mark-good`)");
      out.println("  6) Roll back to the other good slot");
      out.println("  7) Start an update and abort it (type a and Enter during the download)");
      out.println("  q) Quit");
      out.print("> ");
      out.flush();
      String line = in.readLine();
      if (line == null || line.strip().equalsIgnoreCase("q")) {
        out.println("Bye.");
        return;
      }
      try {
        choose(line.strip().toLowerCase(Locale.ROOT));
      } catch (OtaException e) {
        // the original's updateError(): the human sentence
        out.println("OTA error: " + e.getMessage());
      }
      out.println();
    }
  }

  private void choose(String choice) throws IOException {
    switch (choice) {
      case "1":
        update(firmware2, "2.0.0", false);
        break;
      case "2":
        if (firmware1 == null) {
          out.println("Firmware 1 is only on the embedded server.");
        } else {
          update(firmware1, "1.0.0", false);
        }
        break;
      case "3":
        showSlots();
        break;
      case "4":
        SlotId booted = store.boot().block(WAIT);
        out.println("Rebooted into slot " + booted.label() + ".");
        break;
      case "5":
        store.markGood().block(WAIT);
        out.println("Slot " + store.status().block(WAIT).active().label() + " is confirmed good.");
        break;
      case "6":
        out.println("Slot " + store.rollback().block(WAIT).label() + " boots next.");
        break;
      case "7":
        update(firmware2, "2.0.0", true);
        break;
      default:
        out.println("Choose 1 to 7, or q.");
    }
  }

  private void update(String url, String version, boolean offerAbort) {
    UpdateSession session = updater.session(UpdateRequest.of(url).withVersion(version));
    ConsoleProgressBar bar = ConsoleProgressBar.create(out).terminal(false).title("firmware " + version);
    if (offerAbort) {
      bar = bar.abortKey(new LineSource(in));
      out.println("Type a and Enter to abort.");
    }
    var drawing = bar.watch(session).subscribe();
    session.start();
    try {
      UpdateResult result = session.result().block(WAIT);
      out.println("OTA download successful: slot " + result.slot().label() + " holds firmware " + version
          + " and boots next. Choose 4 to reboot into it.");
    } finally {
      drawing.dispose();
    }
  }

  private void showRunning() {
    StoreStatus status = store.status().block(WAIT);
    SlotStatus running = status.slot(status.active());
    out.println("Running: slot " + status.active().label() + " (" + running.state().label()
        + (running.version() != null ? ", firmware " + running.version() : ", factory firmware") + ");  next boot: slot "
        + status.next().label());
  }

  private void showSlots() {
    StoreStatus status = store.status().block(WAIT);
    for (SlotId id : SlotId.values()) {
      SlotStatus slot = status.slot(id);
      out.println("  slot " + id.label() + ": " + slot.state().label()
          + (slot.version() != null ? ", firmware " + slot.version() : "")
          + (slot.sha256() != null ? ", sha256 " + slot.sha256().hex().substring(0, 16) + "..." : "")
          + (slot.attempts() > 0 ? ", " + slot.attempts() + " unconfirmed boots" : ""));
    }
  }

  private static byte[] image(String version, int size) {
    byte[] image = new byte[size];
    new Random(version.hashCode()).nextBytes(image);
    byte[] banner = ("OTAFLUX DEMO FIRMWARE " + version + "\n").getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(banner, 0, image, 0, banner.length);
    return image;
  }

  /** The menu's own reader, handed to the abort key for the duration of one download. */
  private static final class LineSource extends InputStream {
    private final BufferedReader lines;
    private byte[] pending = new byte[0];
    private int next;

    LineSource(BufferedReader lines) {
      this.lines = lines;
    }

    @Override
    public int read() throws IOException {
      if (next >= pending.length) {
        String line = lines.readLine();
        if (line == null) {
          return -1;
        }
        pending = (line + "\n").getBytes(StandardCharsets.UTF_8);
        next = 0;
      }
      return pending[next++] & 0xff;
    }
  }

  @Override
  public String toString() {
    return "HttpsDemo[" + firmware2 + (server != null ? ", embedded server" : "") + "]";
  }
}
