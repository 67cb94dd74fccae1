package io.otaflux.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

import io.otaflux.OtaException.Reason;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * The manual page {@code ota(1)}, written from the command's own model (the same one that prints
 * {@code --help}), so it cannot drift from the options the command accepts. The Debian package's
 * build runs it: {@code java -cp ota.jar io.otaflux.cli.ManPage OUT.1.gz} writes the page as
 * roff, gzip-compressed ({@code .gz}) or plain; further pairs {@code OUT.gz IN} compress other
 * files of the package the same way (its changelog).
 */
final class ManPage {

  private ManPage() {
  }

  /**
   * Writes the page, and gzips other files of the package the same way.
   *
   * @param args the page's file ({@code .gz} compresses it), then pairs of a compressed file to
   *     write and the file it compresses (the package's changelog)
   * @throws IOException if a file cannot be read or written
   */
  public static void main(String[] args) throws IOException {
    if (args.length % 2 != 1) {
      System.err.println("usage: ManPage OUT.1[.gz] [OUT.gz IN]...");
      System.exit(2);
    }
    byte[] page = roff(new CommandLine(new Ota()).getCommandSpec()).getBytes(StandardCharsets.UTF_8);
    write(Path.of(args[0]), page);
    for (int i = 1; i < args.length; i += 2) {
      write(Path.of(args[i]), Files.readAllBytes(Path.of(args[i + 1])));
    }
  }

  private static void write(Path out, byte[] content) throws IOException {
    Path dir = out.toAbsolutePath().getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    Files.write(out, out.toString().endsWith(".gz") ? gzip(content) : content);
  }

  /**
   * gzip at maximum compression, as {@code gzip -9n} writes it: no name, no time stamp, and the
   * header's flag for the slowest algorithm, which Debian's checks read (GZIPOutputStream always
   * writes 0 there).
   */
  static byte[] gzip(byte[] content) {
    Deflater deflater = new Deflater(Deflater.BEST_COMPRESSION, true);
    deflater.setInput(content);
    deflater.finish();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(new byte[] {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 2, 3});
    byte[] buffer = new byte[8192];
    while (!deflater.finished()) {
      out.write(buffer, 0, deflater.deflate(buffer));
    }
    deflater.end();
    CRC32 crc = new CRC32();
    crc.update(content);
    ByteBuffer trailer = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
    trailer.putInt((int) crc.getValue()).putInt(content.length);
    out.writeBytes(trailer.array());
    return out.toByteArray();
  }

  /** The page for the command {@code ota}. */
  static String roff(CommandSpec ota) {
    StringBuilder page = new StringBuilder();
    String version = ota.version().length > 0 ? ota.version()[0] : ota.name();
    page.append(".TH OTA 1 \"\" \"").append(text(version)).append("\" \"User Commands\"\n");
    page.append(".SH NAME\n").append("ota \\- ").append(text(sentence(ota.usageMessage().description()))).append('\n');
    page.append(".SH SYNOPSIS\n").append(".B ota\n").append(".I COMMAND\n").append("[\\fIOPTION\\fR]...\n");
    page.append(".SH DESCRIPTION\n")
        .append(text("Downloads firmware over HTTPS with pinned trust into the inactive slot of an A/B slot store, "
            + "verifies it, and makes it the next boot as a trial; a device that never confirms the new image "
            + "falls back by itself. Boot scripts call ota boot, health checks ota mark-good; a fleet runs "
            + "ota agent, an LwM2M client a device-management server drives.")).append('\n');
    page.append(".SH OPTIONS\n");
    options(page, ota);
    page.append(".SH COMMANDS\n");
    for (CommandLine sub : ota.subcommands().values()) {
      command(page, sub.getCommandSpec());
    }
    page.append(".SH EXIT STATUS\n");
    item(page, "0", "Success.");
    item(page, String.valueOf(Ota.INTERNAL), "An internal error: a defect of ota; please report it with the command you ran.");
    for (Reason reason : Reason.values()) {
      item(page, String.valueOf(reason.exitCode()), meaning(reason));
    }
    page.append(".PP\n").append(text("Every non-zero exit prints one line starting error: on stderr that says what "
        + "happened and what to do.")).append('\n');
    page.append(".SH ENVIRONMENT\n");
    item(page, "JAVA_HOME", "The Java runtime (17 or newer) to run; else java on the PATH.");
    item(page, "OTA_JAVA_OPTS", "More options for the Java virtual machine, e.g. -Xmx48m.");
    item(page, "OTA_ARCHIVE", "off: run without a class-data archive; train: record it now from a training "
        + "run of the common commands, instead of running a command.");
    item(page, "OTA_CACHE_DIR", "Where the class-data archive is kept (else /var/cache/otaflux for root, "
        + "~/.cache/otaflux for other users).");
    item(page, "https_proxy, no_proxy", "HTTPS through a CONNECT proxy, read as curl reads them, where the command "
        + "supports it (--proxy overrides).");
    page.append(".SH FILES\n");
    item(page, "/usr/share/otaflux/ota.jar", "The command.");
    item(page, "/var/cache/otaflux", "Class-data archives of the command for the installed Java runtimes "
        + "(made at installation and by a first run; safe to delete).");
    item(page, "/etc/default/otaflux", "Settings of the otaflux-agent and otaflux-confirm services.");
    item(page, "/var/lib/otaflux", "The default slot store of the services; removing the package leaves it as it is.");
    page.append(".SH SEE ALSO\n").append(".BR systemctl (1),\n")
        .append(text("the services otaflux-agent.service and otaflux-confirm.service, and "
            + "/usr/share/doc/otaflux.")).append('\n');
    return page.toString();
  }

  private static void command(StringBuilder page, CommandSpec command) {
    page.append(".SS \"").append(text(command.qualifiedName())).append("\"\n");
    String synopsis = command.commandLine().getHelp().synopsis(0).strip();
    page.append(".nf\n").append(lines(synopsis)).append(".fi\n");
    page.append(".PP\n").append(text(String.join(" ", command.usageMessage().description()))).append('\n');
    for (PositionalParamSpec parameter : command.positionalParameters()) {
      if (parameter.hidden()) {
        continue;
      }
      page.append(".TP\n").append("\\fI").append(text(parameter.paramLabel())).append("\\fR\n")
          .append(text(String.join(" ", parameter.description()))).append('\n');
    }
    options(page, command);
    for (CommandLine sub : command.subcommands().values()) {
      command(page, sub.getCommandSpec());
    }
  }

  private static void options(StringBuilder page, CommandSpec command) {
    for (OptionSpec option : command.options()) {
      if (option.hidden()) {
        continue;
      }
      page.append(".TP\n").append("\\fB").append(text(String.join(", ", List.of(option.names())))).append("\\fR");
      if (option.arity().max() > 0) {
        page.append(" \\fI").append(text(option.paramLabel())).append("\\fR");
      }
      page.append('\n').append(text(description(option))).append('\n');
    }
  }

  private static String description(OptionSpec option) {
    String text = String.join(" ", option.description());
    String value = option.defaultValue();
    return value == null ? text : text.replace("${DEFAULT-VALUE}", value);
  }

  private static String meaning(Reason reason) {
    switch (reason) {
      case USAGE:
        return "Usage: a bad option, an invalid or non-https URL on the command line, a store that exists.";
      case TRUST:
        return "Trust: untrusted chain, pin mismatch, host name mismatch, certificate dates, failed handshake.";
      case NETWORK:
        return "Network: connection refused, DNS failure, timeout, connection lost after the retries.";
      case SERVER:
        return "Server: an HTTP status that is not a success, too many redirects, a malformed or inconsistent answer.";
      case INTEGRITY:
        return "Integrity: size, SHA-256 or signature mismatch, a manifest signed by no trusted key.";
      case STORAGE:
        return "Storage: image larger than the slot, I/O error, store busy with another update.";
      case ABORTED:
        return "Aborted: SIGINT, SIGTERM or the abort key; the store is as it was.";
      case POLICY:
        return "Policy: a redirect to a non-https URL, a downgrade refused, an update refused during a trial.";
      default:
        throw new IllegalArgumentException(reason.name());
    }
  }

  private static void item(StringBuilder page, String tag, String meaning) {
    page.append(".TP\n").append("\\fB").append(text(tag)).append("\\fR\n").append(text(meaning)).append('\n');
  }

  private static String sentence(String[] description) {
    String text = String.join(" ", description).strip();
    text = text.endsWith(".") ? text.substring(0, text.length() - 1) : text;
    return text.isEmpty() ? text : text.substring(0, 1).toLowerCase(Locale.ROOT) + text.substring(1);
  }

  private static String lines(String block) {
    StringBuilder out = new StringBuilder();
    for (String line : block.split("\\R")) {
      out.append(text(line)).append('\n');
    }
    return out.toString();
  }

  /** Text escaped for roff: backslashes, minus signs, and a leading dot or quote. */
  static String text(String plain) {
    String escaped = plain.replace("\\", "\\e").replace("-", "\\-");
    return escaped.startsWith(".") || escaped.startsWith("'") ? "\\&" + escaped : escaped;
  }
}
