package io.otaflux.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.Callable;

import io.otaflux.OtaUpdater;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.UpdateRequest;
import io.otaflux.UpdateResult;
import io.otaflux.UpdateSession;
import io.otaflux.samples.server.DemoPki;
import io.otaflux.samples.server.FirmwareServer;
import io.otaflux.storage.FileSlotStore;
import io.otaflux.transport.CertificateFetcher;
import io.otaflux.transport.CertificateFormat;
import io.otaflux.transport.FetchedCertificate;
import io.otaflux.transport.HttpsFirmwareSource;
import io.otaflux.transport.TrustAnchors;
import io.otaflux.ui.ConsoleProgressBar;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code ota demo}: the whole story offline. A local HTTPS firmware server with a fresh CA; its
 * certificate fetched with the get-cert logic; an update of a temporary slot store with a
 * progress bar; a boot and a confirmation.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run a whole update offline against a local HTTPS server with a freshly generated CA.")
final class DemoCommand implements Callable<Integer> {

  private static final Duration WAIT = Duration.ofMinutes(1);

  @Option(names = "--size", paramLabel = "BYTES", defaultValue = "16M", converter = Units.SizeConverter.class,
      description = "Size of the demo firmware image (default: ${DEFAULT-VALUE}).")
  long size;

  @Option(names = "--dir", paramLabel = "DIR", description = "Keep the slot store and certificate here (default: a temporary directory).")
  Path dir;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    PrintStream err = System.err;
    Path work = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("ota-demo");
    byte[] firmware = firmware((int) Math.min(size, Integer.MAX_VALUE - 16));
    Sha256 digest = Sha256.digest(firmware);

    try (FirmwareServer server = FirmwareServer.start()) {
      server.publish("firmware-2.bin", firmware);
      server.pace(Duration.ofMillis(Math.max(1, 2000 / Math.max(1, firmware.length / (64 * 1024)))));
      String latest = server.redirect("latest", "/firmware-2.bin").toString();
      out.println("1. A local HTTPS firmware server runs at https://localhost:" + server.port()
          + " with a freshly generated CA (root -> intermediate -> localhost).");
      out.println("   It serves firmware 2 (" + Units.human(firmware.length) + ", sha256 " + digest.hex() + ")");
      out.println("   and redirects " + latest + " to it.");
      out.println();

      // the CA publishes its root as a PEM bundle; get-cert finds the server's root in it
      Path bundle = work.resolve("demo-ca-bundle.pem");
      Files.writeString(bundle, DemoPki.pem(server.pki().root()), StandardCharsets.US_ASCII);
      out.println("2. ota get-cert " + latest + " --trust-store " + bundle);
      FetchedCertificate fetched = CertificateFetcher.create().trustStore(TrustAnchors.fromPemFile(bundle))
          .fetch(latest).block(WAIT);
      Path rootPem = fetched.writeTo(work, CertificateFormat.PEM);
      GetCertCommand.report(out, fetched, rootPem);
      out.println();

      Path slots = work.resolve("slots");
      FileSlotStore store = FileSlotStore.init(slots, Math.max(64L << 20, firmware.length * 2L));
      out.println("3. ota update " + fetched.effectiveUri() + " --slots " + slots + " --root-cert " + rootPem);
      out.flush();
      OtaUpdater updater = OtaUpdater.create()
          .source(HttpsFirmwareSource.create().trustAnchors(TrustAnchors.fromPemFile(rootPem)))
          .store(store);
      UpdateSession session = updater.session(UpdateRequest.of(latest).withSha256(digest).withVersion("2.0.0"));
      Interrupts.onSignal(session::abort);
      ConsoleProgressBar bar = ConsoleProgressBar.create(err).terminal(Terminal.isStderrTerminal())
          .title("firmware-2.bin");
      var drawing = bar.watch(session).subscribe();
      session.start();
      UpdateResult result = session.result().block(WAIT);
      drawing.dispose();
      out.println("   Slot " + result.slot().label() + " holds " + Units.human(result.size()) + " from "
          + result.effectiveUri() + ", sha256 " + result.sha256().hex() + ", and boots next as a trial.");
      out.println();

      out.println("4. The device reboots: ota boot --slots " + slots);
      SlotId booted = store.boot().block(WAIT);
      out.println("   " + booted.label());
      out.println("5. The new firmware works: ota mark-good --slots " + slots);
      store.markGood().block(WAIT);
      out.println();
      out.println("6. ota status --slots " + slots);
      out.print(StatusCommand.human(store.status().block(WAIT)));
      out.println();
      out.println("Done: firmware 2 was fetched over pinned HTTPS, verified, written to the inactive slot, booted "
          + "and confirmed. Files are in " + work + ".");
      out.flush();
      return 0;
    }
  }

  private static byte[] firmware(int size) {
    byte[] image = new byte[size];
    new Random(2).nextBytes(image);
    byte[] banner = "OTAFLUX DEMO FIRMWARE 2.0.0\n".getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(banner, 0, image, 0, Math.min(banner.length, size));
    return image;
  }
}
