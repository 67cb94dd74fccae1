package io.otaflux.cli;

import java.io.IOException;
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

  @Option(names = "--psk-identity", paramLabel = "ID", description = "The DTLS pre-shared key identity.")
  @Nullable String pskIdentity;

  @Option(names = "--psk-key-file", paramLabel = "FILE", description = "A file with the pre-shared key in hex.")
  @Nullable Path pskKeyFile;

  @Option(names = "--insecure-coap", description = "Allow a plain coap:// server (no security; a lab only).")
  boolean insecureCoap;

  @Mixin
  FleetOptions fleet;

  @Mixin
  ManifestOptions manifests;

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
    fleet.check();
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
    HttpsFirmwareSource source = fleet.source();
    SlotStore store = fleet.store();
    OtaUpdater updater = fleet.updater(source, store);
    TrustedKeys keys = manifests.keysOrNone();
    Lwm2mAgent agent = builder.updater(updater).store(store)
        .manifests(ManifestUpdater.of(source, store, keys).updater(updater))
        .pendingFile(fleet.slots.resolve("lwm2m-agent.properties"))
        .rebootHook(fleet.rebootHook(err))
        .build();

    Disposable output = agent.events().subscribe(e -> print(e, out, err));
    manifests.warnIfUnchecked(out, err, json);
    FleetOptions.runUntilSignal(agent::start, agent::stop, json ? null : "Agent " + endpoint + " for " + uri
        + " on slots " + fleet.slots + "; Ctrl-C or SIGTERM deregisters and stops.", err);
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
