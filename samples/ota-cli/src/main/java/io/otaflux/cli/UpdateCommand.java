package io.otaflux.cli;

import java.io.Console;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.Callable;

import io.otaflux.Credentials;
import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.OtaException.Reason;
import io.otaflux.OtaUpdater;
import io.otaflux.Sha256;
import io.otaflux.UpdateEvent;
import io.otaflux.UpdateRequest;
import io.otaflux.UpdateResult;
import io.otaflux.UpdateSession;
import io.otaflux.delta.ImageTransfer;
import io.otaflux.internal.Redaction;
import io.otaflux.manifest.Manifest;
import io.otaflux.manifest.ManifestUpdater;
import io.otaflux.manifest.ResolvedUpdate;
import io.otaflux.manifest.TrustedKeys;
import io.otaflux.spi.BootRules;
import io.otaflux.spi.SlotStore;
import io.otaflux.storage.BootloaderSlotStore;
import io.otaflux.transport.HttpsFirmwareSource;
import io.otaflux.ui.ConsoleProgressBar;
import io.otaflux.ui.WebStatusPage;
import io.otaflux.ui.WebStatusServer;

import org.jspecify.annotations.Nullable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/** {@code ota update}: download, verify and activate an image as a trial. */
@Command(name = "update", mixinStandardHelpOptions = true,
    description = "Download URL over HTTPS into the inactive slot, verify it, and make it the next boot as a trial.")
final class UpdateCommand implements Callable<Integer> {

  @Parameters(index = "0", arity = "0..1", paramLabel = "URL", description = "The image's https:// URL.")
  @Nullable String url;

  @Option(names = "--slots", required = true, paramLabel = "DIR",
      description = "The slot store (initialised with 1G slots if DIR has none).")
  Path slots;

  @Mixin
  HttpsOptions https;

  @Mixin
  ProxyOption proxy;

  @Mixin
  ManifestOptions manifests;

  @Option(names = "--manifest", paramLabel = "URL",
      description = "Fetch a signed manifest first; the image URL, size, SHA-256 and version come from it.")
  @Nullable String manifest;

  @Option(names = "--allow-downgrade", description = "Accept a manifest whose version is lower than the installed one.")
  boolean allowDowngrade;

  @Option(names = "--sha256", paramLabel = "HEX", description = "Expected SHA-256 of the image.")
  @Nullable String sha256;

  @Option(names = "--size", paramLabel = "BYTES", converter = Units.SizeConverter.class,
      description = "Expected image size.")
  @Nullable Long size;

  @Option(names = "--user", paramLabel = "NAME[:PASSWORD]", description = "HTTP basic auth.")
  @Nullable String user;

  @Option(names = "--bearer", paramLabel = "TOKEN", description = "Authorization: Bearer token.")
  @Nullable String bearer;

  @Option(names = "--retries", paramLabel = "N", defaultValue = "3",
      description = "How many times in a row a broken download is resumed without getting a byte further"
          + " (default: ${DEFAULT-VALUE}).")
  int retries;

  @Option(names = "--no-delta", description = "With a manifest that offers a delta, download the full (compressed)"
      + " image instead.")
  boolean noDelta;

  @Option(names = "--no-progress", description = "No progress bar.")
  boolean noProgress;

  @Option(names = "--json", description = "One JSON event per line on stdout.")
  boolean json;

  @Option(names = "--web-ui", paramLabel = "PORT",
      description = "Serve a status page with an Abort button on 127.0.0.1:PORT during the update.")
  @Nullable Integer webUi;

  @Spec
  CommandSpec spec;

  /** What one run holds until it has reported: the transfer's counters, the outputs, the status page. */
  private @Nullable ImageTransfer transfer;
  private final Disposable.Composite outputs = Disposables.composite();
  private volatile @Nullable WebStatusServer page;

  @Override
  public Integer call() {
    PrintStream out = System.out;
    PrintStream err = System.err;
    if (retries < 0) {
      throw OtaException.of(Reason.USAGE, "--retries cannot be negative.");
    }
    if (url != null && manifest != null) {
      throw OtaException.of(Reason.USAGE, "Give an image URL or --manifest URL, not both.");
    }
    if (webUi != null && (webUi < 0 || webUi > 65535)) {
      throw OtaException.of(Reason.USAGE, "--web-ui takes a port from 0 to 65535, not " + webUi + ".");
    }
    HttpsFirmwareSource source = proxy.apply(https.source());
    UpdateRequest direct = manifest == null ? request() : null;
    UpdateRequest manifestRequest = manifest == null ? null : credentials(httpsOnly(manifest));
    SlotStore store = SlotsOption.openOrInit(slots);
    Sinks.One<Boolean> signal = Sinks.one();
    Interrupts.onSignal(() -> signal.tryEmitValue(Boolean.TRUE));
    // one chain: a trial running or a reboot pending refuses the update before anything is fetched
    // (exit 9); then the signed manifest, when there is one; then the image
    Mono<UpdateResult> run = store.status().map(BootRules::writableSlot)
        .then(manifestRequest == null
            ? Mono.defer(() -> update(source, store, Objects.requireNonNull(direct), null, signal.asMono()))
            : fromManifest(source, store, manifestRequest)
                .takeUntilOther(signal.asMono())
                .switchIfEmpty(Mono.error(() -> OtaException.of(Detail.ABORTED,
                    "The update was aborted while its manifest was fetched; nothing was written.")))
                .flatMap(r -> update(source, store, r.request(), r.manifest(), signal.asMono())));
    try {
      UpdateResult result = run.block();
      ImageTransfer transfer = this.transfer;
      if (result == null || transfer == null) {
        throw OtaException.of(Reason.STORAGE, "The update ended without a result; run it again.");
      }
      if (json) {
        Json.print(out, Json.result(result, transfer.downloaded(), transfer.reused()));
      } else {
        out.println("Slot " + result.slot().label() + " now holds " + Units.human(result.size()) + " (sha256 "
            + result.sha256().hex() + ") from " + result.effectiveUri() + ".");
        if (transfer.reused() > 0) {
          out.println("Delta: " + Units.human(transfer.downloaded()) + " downloaded, " + Units.human(transfer.reused())
              + " reused from the running slot.");
        }
        if (store instanceof BootloaderSlotStore) {
          out.println("It boots next as a trial: the bootloader counts its boots (U-Boot 3, GRUB 1) and falls back by itself; run `ota mark-good --slots " + slots
              + "` once the new firmware works, and after every healthy boot.");
        } else {
          out.println("It boots next as a trial: run `ota boot --slots " + slots + "` at boot and `ota mark-good --slots "
              + slots + "` once the new firmware works.");
        }
        for (String warning : result.warnings()) {
          err.println("warning: " + warning);
        }
      }
      return 0;
    } catch (RuntimeException e) {
      Throwable failure = Ota.unwrap(e);
      if (json && failure instanceof OtaException) {
        OtaException ota = (OtaException) failure;
        Json.print(out, Json.error(ota));
      }
      throw e;
    } finally {
      outputs.dispose();
      WebStatusServer served = page;
      if (served != null) {
        served.close();
      }
    }
  }

  /**
   * Downloads, verifies and activates {@code request} in one session that the outputs (JSON, the
   * bar or milestones, the status page) and a signal share.
   */
  private Mono<UpdateResult> update(HttpsFirmwareSource source, SlotStore store, UpdateRequest request,
      @Nullable Manifest offered, Mono<Boolean> signal) {
    PrintStream out = System.out;
    PrintStream err = System.err;
    // compressed and delta files of a manifest; a plain download otherwise (counting the bytes received)
    ImageTransfer transfer = offered != null && offered.transfer().isPresent()
        ? ImageTransfer.of(source, offered, store, !noDelta) : ImageTransfer.of(source);
    this.transfer = transfer;
    OtaUpdater updater = OtaUpdater.create()
        .source(transfer)
        .store(store)
        .retry(retries, Duration.ofSeconds(1), Duration.ofSeconds(30));
    UpdateSession session = updater.session(request);
    outputs.add(signal.subscribe(s -> session.abort()));
    outputs.add(transfer.notices().subscribe(e -> {
      if (json) {
        Json.print(out, Json.event(e));
      } else if (e instanceof UpdateEvent.DeltaFallback) {
        err.println("warning: " + ((UpdateEvent.DeltaFallback) e).reason());
        err.flush();
      }
    }));
    if (json) {
      outputs.add(session.events().subscribe(e -> Json.print(out, Json.event(e)), e -> { }));
    } else if (noProgress) {
      outputs.add(session.events().filter(e -> !(e instanceof UpdateEvent.Progress))
          .subscribe(e -> milestone(err, e), e -> { }));
    } else {
      boolean terminal = Terminal.isStderrTerminal();
      ConsoleProgressBar bar = ConsoleProgressBar.create(err).terminal(terminal).title(title(request.uri()));
      if (terminal && Terminal.isStdinTerminal()) {
        bar = bar.abortKey(System.in);
      }
      outputs.add(bar.watch(session).subscribe());
    }
    Mono<UpdateResult> started = Mono.defer(() -> session.start().result());
    if (webUi == null) {
      return started;
    }
    return WebStatusPage.create().port(webUi).title(title(request.uri())).serve(session).doOnNext(served -> {
      page = served;
      err.println("Status page with an Abort button: " + served.uri());
      err.flush();
    }).then(started.subscribeOn(Schedulers.boundedElastic())); // not on the page's event loop
  }

  /**
   * The signed-manifest step: fetched, its signature and the downgrade rule checked, its image
   * request with the manifest's credentials on the same origin; and the same as --sha256 and --size.
   */
  private Mono<ResolvedUpdate> fromManifest(HttpsFirmwareSource source, SlotStore store, UpdateRequest manifestRequest) {
    return Mono.defer(() -> {
      TrustedKeys keys = manifests.keys();
      manifests.warnIfUnchecked(System.out, System.err, json);
      return ManifestUpdater.of(source, store, keys).allowDowngrade(allowDowngrade).resolve(manifestRequest);
    }).doOnNext(resolved -> {
      UpdateRequest request = resolved.request();
      if (sha256 != null && !request.sha256().map(d -> d.equals(Sha256.ofHex(sha256))).orElse(false)) {
        throw OtaException.of(Reason.INTEGRITY, "--sha256 differs from the manifest's SHA-256; one of them is wrong.");
      }
      if (size != null && request.size().orElse(-1) != size) {
        throw OtaException.of(Reason.INTEGRITY, "--size differs from the manifest's size; one of them is wrong.");
      }
    });
  }

  static UpdateRequest httpsOnly(String url) {
    UpdateRequest request = UpdateRequest.of(url);
    String scheme = request.uri().getScheme();
    if (scheme == null || !scheme.toLowerCase(Locale.ROOT).equals("https")) {
      throw OtaException.of(Reason.USAGE, "Only https:// URLs are allowed, not \"" + Redaction.url(url)
          + "\": firmware must come over TLS. Give the image's https:// URL.");
    }
    return request;
  }

  private UpdateRequest credentials(UpdateRequest request) {
    if (user != null && bearer != null) {
      throw OtaException.of(Reason.USAGE, "Give --user or --bearer, not both.");
    }
    if (user != null) {
      return request.withCredentials(basic(user));
    }
    if (bearer != null) {
      return request.withCredentials(Credentials.bearer(bearer));
    }
    return request;
  }

  private UpdateRequest request() {
    if (url == null) {
      throw OtaException.of(Reason.USAGE, "No URL given: `ota update https://host/firmware.bin --slots DIR`.");
    }
    UpdateRequest request = httpsOnly(url);
    if (sha256 != null) {
      request = request.withSha256(Sha256.ofHex(sha256));
    }
    if (size != null) {
      request = request.withSize(size);
    }
    return credentials(request);
  }

  private static Credentials basic(String user) {
    int colon = user.indexOf(':');
    if (colon >= 0) {
      return Credentials.basic(user.substring(0, colon), user.substring(colon + 1));
    }
    Console console = System.console();
    if (console != null) {
      char[] password = console.readPassword("Password for %s: ", user);
      return Credentials.basic(user, password == null ? "" : new String(password));
    }
    return Credentials.basic(user, "");
  }

  static String title(URI uri) {
    String path = uri.getPath() == null ? "" : uri.getPath();
    String name = path.substring(path.lastIndexOf('/') + 1);
    return name.isEmpty() ? uri.getHost() : name;
  }

  private static void milestone(PrintStream err, UpdateEvent event) {
    if (event instanceof UpdateEvent.Resolved) {
      UpdateEvent.Resolved r = (UpdateEvent.Resolved) event;
      err.println("Downloading " + r.effectiveUri() + (r.totalBytes() >= 0 ? " (" + Units.human(r.totalBytes()) + ")" : "")
          + (r.resumedFrom() > 0 ? ", resuming at " + Units.human(r.resumedFrom()) : "") + " into slot "
          + r.slot().label());
      for (String warning : r.warnings()) {
        err.println("warning: " + warning);
      }
    } else if (event instanceof UpdateEvent.Retrying) {
      UpdateEvent.Retrying r = (UpdateEvent.Retrying) event;
      err.println("Retrying (attempt " + r.attempt() + ") from " + Units.human(r.resumeOffset()) + ": "
          + r.cause().getMessage());
    } else if (event instanceof UpdateEvent.Verified) {
      UpdateEvent.Verified v = (UpdateEvent.Verified) event;
      err.println("Verified " + Units.human(v.size()) + ", sha256 " + v.sha256().hex());
    } else if (event instanceof UpdateEvent.Activated) {
      err.println("Slot " + ((UpdateEvent.Activated) event).slot().label() + " boots next as a trial");
    }
    err.flush();
  }
}
