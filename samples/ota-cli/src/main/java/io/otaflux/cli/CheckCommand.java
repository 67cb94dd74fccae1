package io.otaflux.cli;

import java.util.concurrent.Callable;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.manifest.ManifestUpdater;
import io.otaflux.manifest.TrustedKeys;
import io.otaflux.manifest.VersionCheck;
import io.otaflux.spi.SlotStore;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code ota check}: is there anything new? Exit 0 and the version if so, 1 if not. */
@Command(name = "check", mixinStandardHelpOptions = true,
    description = "Fetch a signed manifest and say whether it offers a version newer than the installed one "
        + "(exit 0, printing it) or not (exit 1).")
final class CheckCommand implements Callable<Integer> {

  static final int NOTHING_NEW = 1;

  @Option(names = "--manifest", required = true, paramLabel = "URL", description = "The manifest's https:// URL.")
  String manifest;

  @Mixin
  SlotsOption slots;

  @Mixin
  ManifestOptions manifests;

  @Mixin
  HttpsOptions https;

  @Mixin
  ProxyOption proxy;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    var request = UpdateCommand.httpsOnly(manifest);
    TrustedKeys keys = manifests.keys();
    SlotStore store = slots.open();
    manifests.warnIfUnchecked(System.out, System.err, false);
    VersionCheck check = ManifestUpdater.of(proxy.apply(https.source()), store, keys).fetch(request)
        .flatMap(m -> store.status().map(m::check))
        .block(StatusCommand.WAIT);
    if (check == null) {
      throw OtaException.of(Reason.SERVER, "The manifest could not be read; check --manifest.");
    }
    String installed = check.installed().map(Object::toString).orElse("none recorded");
    if (check.isNewer()) {
      spec.commandLine().getOut().println(check.offered());
      spec.commandLine().getOut().flush();
      System.err.println("A newer version is offered: " + check.offered() + " (installed: " + installed + ").");
      return 0;
    }
    System.err.println("Nothing new: the manifest offers " + check.offered() + "; installed: " + installed + ".");
    return NOTHING_NEW;
  }
}
