package io.otaflux.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.hawkbit.HawkbitClient;
import io.otaflux.hawkbit.HawkbitEvent;
import io.otaflux.spi.SlotStore;
import io.otaflux.transport.HttpsFirmwareSource;
import io.otaflux.transport.JdkProxy;

import org.jspecify.annotations.Nullable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import reactor.core.Disposable;

/** {@code ota hawkbit}: the device side of an Eclipse hawkBit fleet, a DDI client. */
@Command(name = "hawkbit", mixinStandardHelpOptions = true,
    description = "Poll an Eclipse hawkBit server (Direct Device Integration) and install what it assigns; success is "
        + "reported once the new image is marked good. Runs until SIGINT or SIGTERM (then exits 0).")
final class HawkbitCommand implements Callable<Integer> {

  @Option(names = "--server", required = true, paramLabel = "URL", description = "The hawkBit server, https://HOST[:PORT].")
  String server;

  @Option(names = "--tenant", defaultValue = "DEFAULT", paramLabel = "T",
      description = "The tenant (default: ${DEFAULT-VALUE}).")
  String tenant;

  @Option(names = "--controller-id", required = true, paramLabel = "ID", description = "This device's controller id.")
  String controllerId;

  @Option(names = "--target-token-file", paramLabel = "FILE", description = "A file holding the target's security token.")
  @Nullable Path targetTokenFile;

  @Option(names = "--gateway-token-file", paramLabel = "FILE", description = "A file holding the tenant's gateway token.")
  @Nullable Path gatewayTokenFile;

  @Mixin
  FleetOptions fleet;

  @Option(names = "--json", description = "One JSON event per line on stdout: deployment, feedback, consent, cancel, error.")
  boolean json;

  @Override
  public Integer call() {
    // the JDK leaves Basic proxy credentials off a tunnel unless told otherwise (read at its first use)
    System.setProperty("jdk.http.auth.tunneling.disabledSchemes", "");
    PrintStream out = System.out;
    PrintStream err = System.err;
    URI uri = serverUri();
    fleet.check();
    if ((targetTokenFile == null) == (gatewayTokenFile == null)) {
      throw OtaException.of(Reason.USAGE, "Give one of --target-token-file and --gateway-token-file.");
    }
    HawkbitClient.Builder builder = HawkbitClient.builder().server(uri).tenant(tenant).controllerId(controllerId)
        .sslContext(fleet.https.jdkSslContext())
        .requestTimeout(fleet.https.timeout);
    builder = targetTokenFile != null ? builder.targetToken(readToken(targetTokenFile))
        : builder.gatewayToken(readToken(java.util.Objects.requireNonNull(gatewayTokenFile)));
    Optional<JdkProxy> proxy = fleet.proxy.jdk();
    if (proxy.isPresent()) {
      builder = builder.proxy(proxy.get().selector(), proxy.get().credentials().orElse(null));
    }
    HttpsFirmwareSource source = fleet.source();
    SlotStore store = fleet.store();
    HawkbitClient client = builder.updater(fleet.updater(source, store)).store(store)
        .actionFile(fleet.slots.resolve("hawkbit-action.properties"))
        .rebootHook(fleet.rebootHook(err))
        .build();

    Disposable output = client.events().subscribe(e -> print(e, out, err));
    FleetOptions.runUntilSignal(client::start, client::stop, json ? null : "hawkBit client " + controllerId + " for "
        + uri + " (tenant " + tenant + ") on slots " + fleet.slots + "; Ctrl-C or SIGTERM stops.", err);
    output.dispose();
    return 0;
  }

  private URI serverUri() {
    URI uri;
    try {
      uri = new URI(server.strip());
    } catch (URISyntaxException e) {
      throw OtaException.of(OtaException.Detail.NOT_HTTPS, "--server \"" + server + "\" is not a URL; give "
          + "https://HOST[:PORT].", e);
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("https") || uri.getHost() == null) {
      throw OtaException.of(OtaException.Detail.NOT_HTTPS, "--server takes https://HOST[:PORT], not \"" + server
          + "\": the token and the images travel over it.");
    }
    return uri;
  }

  private static String readToken(Path file) {
    String token;
    try {
      token = Files.readString(file, StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      throw OtaException.of(Reason.USAGE, "The token file " + file + " cannot be read: " + e.getMessage(), e);
    }
    if (token.isEmpty() || token.chars().anyMatch(c -> c < 0x21 || c == 0x7f)) {
      // never show the file's content: it is the token
      throw OtaException.of(Reason.USAGE, "The token file " + file + " must hold the token on one line.");
    }
    return token;
  }

  private void print(HawkbitEvent event, PrintStream out, PrintStream err) {
    if (json) {
      if (!(event instanceof HawkbitEvent.Polled)) {
        Json.print(out, json(event));
      }
      return;
    }
    String line = human(event);
    if (line != null) {
      err.println(line);
      err.flush();
    }
  }

  static Map<String, Object> json(HawkbitEvent event) {
    Map<String, Object> json = new LinkedHashMap<>();
    if (event instanceof HawkbitEvent.DeploymentStarted) {
      HawkbitEvent.DeploymentStarted d = (HawkbitEvent.DeploymentStarted) event;
      json.put("event", "deployment");
      json.put("action", d.actionId());
      json.put("version", d.version());
      json.put("download", Ota.lower(d.download()));
      json.put("update", Ota.lower(d.update()));
      json.put("maintenanceWindow", d.maintenanceWindow() == null ? null
          : d.maintenanceWindow() ? "available" : "unavailable");
    } else if (event instanceof HawkbitEvent.FeedbackSent) {
      HawkbitEvent.FeedbackSent f = (HawkbitEvent.FeedbackSent) event;
      json.put("event", "feedback");
      json.put("action", f.actionId());
      json.put("execution", f.execution());
      json.put("finished", f.finished());
      json.put("details", f.details());
    } else if (event instanceof HawkbitEvent.ConsentRequested) {
      HawkbitEvent.ConsentRequested c = (HawkbitEvent.ConsentRequested) event;
      json.put("event", "consent");
      json.put("action", c.request().actionId());
      json.put("version", c.request().version());
    } else if (event instanceof HawkbitEvent.CancelRequested) {
      HawkbitEvent.CancelRequested c = (HawkbitEvent.CancelRequested) event;
      json.put("event", "cancel");
      json.put("action", c.actionId());
      json.put("accepted", c.accepted());
    } else if (event instanceof HawkbitEvent.Failed) {
      HawkbitEvent.Failed f = (HawkbitEvent.Failed) event;
      json.put("event", "error");
      json.put("reason", Ota.lower(f.detail().reason()));
      json.put("detail", Ota.lower(f.detail()));
      json.put("message", f.message());
      json.put("retryInMs", f.retryIn().toMillis());
    } else if (event instanceof HawkbitEvent.Polled) {
      json.put("event", "polled");
      json.put("nextPollMs", ((HawkbitEvent.Polled) event).nextPoll().toMillis());
    }
    return json;
  }

  private static @Nullable String human(HawkbitEvent event) {
    if (event instanceof HawkbitEvent.DeploymentStarted) {
      HawkbitEvent.DeploymentStarted d = (HawkbitEvent.DeploymentStarted) event;
      return "Action " + d.actionId() + ": version " + d.version() + " (" + Ota.lower(d.update()) + ")";
    } else if (event instanceof HawkbitEvent.FeedbackSent) {
      HawkbitEvent.FeedbackSent f = (HawkbitEvent.FeedbackSent) event;
      return "Action " + f.actionId() + ": " + f.execution() + (f.finished().equals("none") ? "" : " " + f.finished())
          + (f.details().isEmpty() ? "" : ": " + f.details().get(0));
    } else if (event instanceof HawkbitEvent.ConsentRequested) {
      HawkbitEvent.ConsentRequested c = (HawkbitEvent.ConsentRequested) event;
      return "Action " + c.request().actionId() + " waits for consent (give it on the server).";
    } else if (event instanceof HawkbitEvent.CancelRequested) {
      HawkbitEvent.CancelRequested c = (HawkbitEvent.CancelRequested) event;
      return "Action " + c.actionId() + ": cancel " + (c.accepted() ? "accepted" : "rejected (activated already)");
    } else if (event instanceof HawkbitEvent.Failed) {
      return "warning: " + ((HawkbitEvent.Failed) event).message();
    }
    return null;
  }
}
