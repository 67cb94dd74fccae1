package io.otaflux.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.OtaUpdater;
import io.otaflux.internal.Uris;
import io.otaflux.lwm2m.AgentEvent;
import io.otaflux.lwm2m.Lwm2mAgent;
import io.otaflux.manifest.ManifestUpdater;
import io.otaflux.manifest.TrustedKeys;
import io.otaflux.spi.SlotStore;
import io.otaflux.transport.HttpsFirmwareSource;

import org.jspecify.annotations.Nullable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import reactor.core.Disposable;

/** {@code ota agent}: the device side of a fleet, an LwM2M client a device-management server drives. */
@Command(name = "agent", mixinStandardHelpOptions = true,
    description = "Register with an LwM2M server (Firmware Update object 5, Device object 3) and install what it "
        + "asks for, until SIGINT or SIGTERM (then deregister and exit 0).")
final class AgentCommand implements Callable<Integer> {

  @Option(names = "--server", required = true, paramLabel = "URI",
      description = "coaps://HOST:PORT (DTLS with a pre-shared key), or coap://HOST:PORT with --insecure-coap.")
  String server;

  @Option(names = "--endpoint", required = true, paramLabel = "NAME", description = "The endpoint name to register as.")
  String endpoint;

  @Option(names = "--slots", required = true, paramLabel = "DIR",
      description = "The slot store (initialised with 1G slots if DIR has none).")
  Path slots;

  @Option(names = "--psk-identity", paramLabel = "ID", description = "The DTLS pre-shared key identity.")
  @Nullable String pskIdentity;

  @Option(names = "--psk-key-file", paramLabel = "FILE", description = "A file with the pre-shared key in hex.")
  @Nullable Path pskKeyFile;

  @Option(names = "--insecure-coap", description = "Allow a plain coap:// server (no security; a lab only).")
  boolean insecureCoap;

  @Mixin
  HttpsOptions https;

  @Mixin
  ProxyOption proxy;

  @Mixin
  ManifestOptions manifests;

  @Option(names = "--retries", paramLabel = "N", defaultValue = "3",
      description = "How many times a broken download is resumed (default: ${DEFAULT-VALUE}).")
  int retries;

  @Option(names = "--on-update", paramLabel = "CMD",
      description = "Command run (sh -c) after Update made the trial slot the boot choice, and on the Device's Reboot.")
  @Nullable String onUpdate;

  @Option(names = "--lifetime", paramLabel = "SECONDS", defaultValue = "300",
      description = "Registration lifetime in seconds (default: ${DEFAULT-VALUE}).")
  long lifetime;

  @Option(names = "--json", description = "One JSON event per line on stdout: registered, state, result, error, "
      + "deregistered (or deregistration-failed), warning.")
  boolean json;

  @Override
  public Integer call() {
    // Leshan and Californium say a lot at INFO; a long-running agent keeps stderr for warnings
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    }
    PrintStream out = System.out;
    PrintStream err = System.err;
    URI uri = serverUri();
    if (retries < 0) {
      throw OtaException.of(Reason.USAGE, "--retries cannot be negative.");
    }
    if (lifetime < 1) {
      throw OtaException.of(Reason.USAGE, "--lifetime takes a number of seconds, at least 1.");
    }
    Lwm2mAgent.Builder builder = Lwm2mAgent.builder().server(uri).endpoint(endpoint)
        .lifetime(Duration.ofSeconds(lifetime))
        .allowInsecureCoap(insecureCoap);
    if ((pskIdentity == null) != (pskKeyFile == null)) {
      throw OtaException.of(Reason.USAGE, "Give --psk-identity and --psk-key-file together.");
    }
    if (pskIdentity != null && pskKeyFile != null) {
      builder = builder.psk(pskIdentity, readKey(pskKeyFile));
    }
    SlotStore store = SlotsOption.openOrInit(slots);
    HttpsFirmwareSource source = proxy.apply(https.source());
    OtaUpdater updater = OtaUpdater.create().source(source).store(store)
        .retry(retries, Duration.ofSeconds(1), Duration.ofSeconds(30));
    TrustedKeys keys = manifests.keysOrNone();
    Lwm2mAgent agent = builder.updater(updater).store(store)
        .manifests(ManifestUpdater.of(source, store, keys).updater(updater))
        .pendingFile(slots.resolve("lwm2m-agent.properties"))
        .rebootHook(onUpdate == null ? () -> { } : () -> runHook(onUpdate, err))
        .build();

    CountDownLatch stop = new CountDownLatch(1);
    Interrupts.onSignal(stop::countDown);
    Disposable output = agent.events().subscribe(e -> print(e, out, err));
    manifests.warnIfUnchecked(out, err, json);
    agent.start();
    if (!json) {
      err.println("Agent " + endpoint + " for " + uri + " on slots " + slots + "; Ctrl-C or SIGTERM deregisters and stops.");
      err.flush();
    }
    try {
      stop.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    agent.stop();
    output.dispose();
    return 0;
  }

  private URI serverUri() {
    URI uri;
    try {
      uri = Uris.parse(server.strip());
    } catch (URISyntaxException e) {
      throw OtaException.of(Reason.USAGE, "--server \"" + server + "\" is not a URI; give coaps://HOST:PORT.", e);
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (uri.getHost() == null || !scheme.equals("coaps") && !scheme.equals("coap")) {
      throw OtaException.of(Reason.USAGE, "--server takes coaps://HOST:PORT (or coap://HOST:PORT with "
          + "--insecure-coap), not \"" + server + "\".");
    }
    if (scheme.equals("coaps") && pskIdentity == null) {
      throw OtaException.of(Reason.USAGE, "A coaps server needs --psk-identity and --psk-key-file.");
    }
    return uri;
  }


  private static byte[] readKey(Path file) {
    String hex;
    try {
      hex = Files.readString(file, StandardCharsets.US_ASCII).strip();
    } catch (IOException e) {
      throw OtaException.of(Reason.USAGE, "The key file " + file + " cannot be read: " + e.getMessage(), e);
    }
    try {
      byte[] key = HexFormat.of().parseHex(hex);
      if (key.length == 0) {
        throw new IllegalArgumentException("empty");
      }
      return key;
    } catch (IllegalArgumentException e) {
      // never show the file's content: it is the key
      throw OtaException.of(Reason.USAGE, "The key file " + file + " must hold the pre-shared key in hex.");
    }
  }

  /** Runs the hook; its output goes to stderr so stdout keeps one JSON event per line. */
  private static void runHook(String command, PrintStream err) {
    try {
      Process process = new ProcessBuilder("sh", "-c", command).redirectErrorStream(true)
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
      try (InputStream in = process.getInputStream()) {
        in.transferTo(err);
      }
      int code = process.waitFor();
      if (code != 0) {
        throw new IllegalStateException("--on-update exited with " + code);
      }
    } catch (IOException e) {
      throw new IllegalStateException("--on-update could not run: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("--on-update was interrupted", e);
    }
  }

  private void print(AgentEvent event, PrintStream out, PrintStream err) {
    if (json) {
      Json.print(out, json(event));
      return;
    }
    err.println(human(event));
    err.flush();
  }

  static Map<String, Object> json(AgentEvent event) {
    Map<String, Object> json = new LinkedHashMap<>();
    if (event instanceof AgentEvent.Registered) {
      AgentEvent.Registered r = (AgentEvent.Registered) event;
      json.put("event", "registered");
      json.put("endpoint", r.endpoint());
      json.put("registrationId", r.registrationId());
    } else if (event instanceof AgentEvent.Deregistered) {
      json.put("event", "deregistered");
      json.put("endpoint", ((AgentEvent.Deregistered) event).endpoint());
    } else if (event instanceof AgentEvent.DeregistrationFailed) {
      AgentEvent.DeregistrationFailed d = (AgentEvent.DeregistrationFailed) event;
      json.put("event", "deregistration-failed");
      json.put("endpoint", d.endpoint());
      json.put("message", d.message());
    } else if (event instanceof AgentEvent.StateChanged) {
      AgentEvent.StateChanged s = (AgentEvent.StateChanged) event;
      json.put("event", "state");
      json.put("state", s.state().code());
      json.put("name", Ota.lower(s.state()));
    } else if (event instanceof AgentEvent.ResultChanged) {
      AgentEvent.ResultChanged r = (AgentEvent.ResultChanged) event;
      json.put("event", "result");
      json.put("result", r.result().code());
      json.put("name", Ota.lower(r.result()));
    } else if (event instanceof AgentEvent.Failed) {
      AgentEvent.Failed f = (AgentEvent.Failed) event;
      json.put("event", "error");
      json.put("reason", f.reason() == null ? "registration" : Ota.lower(f.reason()));
      json.put("message", f.message());
    }
    return json;
  }

  private static String human(AgentEvent event) {
    if (event instanceof AgentEvent.Registered) {
      AgentEvent.Registered r = (AgentEvent.Registered) event;
      return "Registered as " + r.endpoint() + " (registration " + r.registrationId() + ")";
    } else if (event instanceof AgentEvent.Deregistered) {
      return "Deregistered";
    } else if (event instanceof AgentEvent.DeregistrationFailed) {
      return "warning: " + ((AgentEvent.DeregistrationFailed) event).message();
    } else if (event instanceof AgentEvent.StateChanged) {
      AgentEvent.StateChanged s = (AgentEvent.StateChanged) event;
      return "Firmware Update State " + s.state().code() + " (" + Ota.lower(s.state()) + ")";
    } else if (event instanceof AgentEvent.ResultChanged) {
      AgentEvent.ResultChanged r = (AgentEvent.ResultChanged) event;
      return "Update Result " + r.result().code() + " (" + Ota.lower(r.result()) + ")";
    }
    AgentEvent.Failed f = (AgentEvent.Failed) event;
    return "warning: " + f.message();
  }
}
