package io.otaflux.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Reason;
import io.otaflux.transport.CertificateFetcher;
import io.otaflux.transport.CertificateFormat;
import io.otaflux.transport.FetchedCertificate;
import io.otaflux.transport.TrustAnchors;

import org.jspecify.annotations.Nullable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code ota get-cert}: the original {@code get_cert} script, done properly. */
@Command(name = "get-cert", mixinStandardHelpOptions = true,
    description = "Follow URL's redirects, read the chain its server presents (trust on first use), and save the "
        + "trust anchor to pin as PEM or as a C header.")
final class GetCertCommand implements Callable<Integer> {

  @Parameters(index = "0", paramLabel = "URL", description = "The firmware's https:// URL.")
  String url;

  @Option(names = "--out", paramLabel = "DIR", defaultValue = ".", description = "Where to write the file (default: .).")
  Path out;

  @Option(names = "--format", paramLabel = "pem|c-header", defaultValue = "pem",
      description = "pem (default) or c-header (a const char* root_cert, as the original wrote).")
  String format;

  @Option(names = "--trust-store", paramLabel = "FILE",
      description = "PEM bundle to look the root up in (default: the JDK's trust store).")
  @Nullable Path trustStore;

  @picocli.CommandLine.Mixin
  ProxyOption proxy;

  @Spec
  CommandSpec spec;

  @Override
  public Integer call() {
    CertificateFormat chosen = format(format);
    CertificateFetcher fetcher = proxy.apply(CertificateFetcher.create());
    if (trustStore != null) {
      fetcher = fetcher.trustStore(TrustAnchors.fromPemFile(trustStore));
    }
    FetchedCertificate fetched = fetcher.fetch(url).block(Duration.ofMinutes(2));
    if (fetched == null) {
      throw OtaException.of(Reason.NETWORK, "The server presented no certificate; check the URL.");
    }
    Path file = fetched.writeTo(out, chosen);
    report(spec.commandLine().getOut(), fetched, file);
    for (String warning : fetched.warnings()) {
      System.err.println("warning: " + warning);
    }
    System.err.flush();
    return 0;
  }

  static void report(PrintWriter out, FetchedCertificate fetched, Path file) {
    out.println("The effective download URL (after resolving forwards) is:");
    out.println("    " + fetched.effectiveUri());
    out.println();
    out.println("The root certificate file is saved as:");
    out.println("    " + file.normalize());
    out.println();
    out.println("Subject:   " + fetched.subject());
    out.println("Issuer:    " + fetched.issuer());
    out.println("Not after: " + fetched.notAfter());
    out.println("Pin:       " + fetched.pin());
    out.flush();
  }

  static CertificateFormat format(String text) {
    switch (text.strip().toLowerCase(Locale.ROOT)) {
      case "pem":
        return CertificateFormat.PEM;
      case "c-header":
      case "h":
        return CertificateFormat.C_HEADER;
      default:
        throw OtaException.of(Reason.USAGE, "--format is pem or c-header, not \"" + text + "\".");
    }
  }
}
