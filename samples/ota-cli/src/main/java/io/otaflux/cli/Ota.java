package io.otaflux.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

import io.otaflux.OtaException;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code ota}: update firmware over HTTPS into A/B slots, and manage the slots.
 * Exit codes and the {@code error:} line follow docs/cli.md.
 */
@Command(name = "ota", mixinStandardHelpOptions = true, version = "ota 0.1.0",
    description = "Over-the-air firmware updates into A/B slots, over pinned HTTPS.",
    subcommands = {
        UpdateCommand.class,
        GetCertCommand.class,
        StatusCommand.class,
        BootCommand.class,
        MarkGoodCommand.class,
        RollbackCommand.class,
        InitCommand.class,
        DemoCommand.class,
        KeygenCommand.class,
        ManifestCommand.class,
        CheckCommand.class,
        AgentCommand.class,
        HawkbitCommand.class,
    })
public final class Ota implements Runnable {

  /** Exit code for a failure that is none of the contract's families: a bug. */
  static final int INTERNAL = 1;

  static {
    // Netty 4.2 registers JFR events for its allocators whenever JFR is available, recording or
    // not: the JFR event machinery's start-up cost a cold update 0.1 s of wall and 0.2-0.3 CPU-s
    // (benchmarks/RESULTS.md, issue 18). A command records nothing with JFR; whoever wants the
    // events passes -Dio.netty.jfr.enabled=true (OTA_JAVA_OPTS).
    if (System.getProperty("io.netty.jfr.enabled") == null) {
      System.setProperty("io.netty.jfr.enabled", "false");
    }
  }

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  Ota() {
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(),
        "a command is missing: update, get-cert, status, boot, mark-good, rollback, init, demo, keygen, manifest, check, agent or hawkbit");
  }

  /**
   * Runs the command.
   *
   * @param args the arguments
   */
  public static void main(String[] args) {
    // a fatal error (a missing class, out of memory) thrown on a worker thread must end the command,
    // not leave it waiting for a result that never comes
    Thread.setDefaultUncaughtExceptionHandler((thread, error) -> dieOf(error));
    reactor.core.scheduler.Schedulers.onHandleError((thread, error) -> dieOf(error));
    Interrupts.exit(run(System.out, System.err, args));
  }

  private static void dieOf(Throwable error) {
    if (error instanceof Error) {
      fail(System.err, error);
      Runtime.getRuntime().halt(INTERNAL);
    }
    org.slf4j.LoggerFactory.getLogger(Ota.class).warn("Unexpected failure on a worker thread", error);
  }

  static int run(PrintStream out, PrintStream err, String... args) {
    CommandLine cli = CommandModel.forArguments(args);
    cli.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
    cli.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
    cli.setParameterExceptionHandler((ex, arguments) -> {
      String name = ex.getCommandLine().getCommandName();
      String path = ex.getCommandLine().getCommandSpec().qualifiedName();
      errorLine(err, ex.getMessage() + ". Run `" + path + " --help` for the options.");
      return name.isEmpty() ? 2 : 2;
    });
    cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> fail(err, ex));
    return cli.execute(args);
  }

  /** Prints the one {@code error:} line for a failure and returns its exit code. */
  static int fail(PrintStream err, Throwable failure) {
    Throwable e = unwrap(failure);
    if (e instanceof OtaException) {
      OtaException ota = (OtaException) e;
      errorLine(err, ota.getMessage());
      return ota.reason().exitCode();
    }
    if (e instanceof CommandLine.ParameterException) {
      errorLine(err, e.getMessage());
      return OtaException.Reason.USAGE.exitCode();
    }
    errorLine(err, "an internal error stopped ota (" + e.getClass().getSimpleName()
        + (e.getMessage() == null ? "" : ": " + e.getMessage()) + "); please report it with the command you ran.");
    return INTERNAL;
  }

  static Throwable unwrap(Throwable e) {
    Throwable t = reactor.core.Exceptions.unwrap(e);
    while (!(t instanceof OtaException) && t.getCause() != null
        && (t instanceof java.util.concurrent.ExecutionException || t instanceof java.util.concurrent.CompletionException
            || t instanceof java.io.UncheckedIOException && t.getCause() instanceof OtaException)) {
      t = t.getCause();
    }
    return t;
  }

  static void errorLine(PrintStream err, String message) {
    String sentence = message.replaceAll("\\s*\\R\\s*", " ").strip();
    err.println("error: " + sentence);
    err.flush();
  }

  static String lower(Enum<?> value) {
    return value.name().toLowerCase(Locale.ROOT);
  }
}
