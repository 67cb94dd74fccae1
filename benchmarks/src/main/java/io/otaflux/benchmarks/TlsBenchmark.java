package io.otaflux.benchmarks;

import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.concurrent.TimeUnit;

import io.netty.handler.ssl.OpenSsl;
import io.otaflux.UpdateRequest;
import io.otaflux.spi.ImageDownload;
import io.otaflux.spi.ResumeFrom;
import io.otaflux.transport.HttpsFirmwareSource;
import io.otaflux.transport.TrustAnchors;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * TLS provider: the JDK's SSLEngine against OpenSSL (netty-tcnative-boringssl-static), which
 * Netty picks by itself when it is on the class path. One op downloads the image at
 * {@code $BENCH_URL} (trusting {@code $BENCH_CA}) through {@link HttpsFirmwareSource} and hashes
 * it, no disk. {@code -Dio.netty.handler.ssl.noOpenSsl=true} keeps the JDK forks on the JDK
 * provider. The {@code cold} variants measure the first download of a fresh JVM (what a CLI run
 * gets: no warm-up, one measurement, three forks), the others the warm rate.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 5)
public class TlsBenchmark {

  static final String JDK = "-Dio.netty.handler.ssl.noOpenSsl=true";

  private HttpsFirmwareSource source = HttpsFirmwareSource.create();
  private UpdateRequest request = UpdateRequest.of("https://bench.invalid/");

  @Setup
  public void setUp() {
    String url = System.getenv("BENCH_URL");
    String ca = System.getenv("BENCH_CA");
    if (url == null || ca == null) {
      throw new IllegalStateException("set BENCH_URL and BENCH_CA (benchmarks/jmh.sh starts nginx and sets them)");
    }
    source = HttpsFirmwareSource.create().trustAnchors(TrustAnchors.fromPemFile(Path.of(ca)));
    request = UpdateRequest.of(url);
  }

  private long download(boolean expectOpenSsl) throws NoSuchAlgorithmException {
    if (OpenSsl.isAvailable() != expectOpenSsl) {
      throw new IllegalStateException("OpenSSL available: " + OpenSsl.isAvailable() + ", expected " + expectOpenSsl);
    }
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    ImageDownload download = source.open(request, ResumeFrom.start()).block();
    if (download == null) {
      throw new IllegalStateException("no download");
    }
    Long n = download.body().reduce(0L, (sum, chunk) -> {
      int len = chunk.remaining();
      sha.update(chunk);
      return sum + len;
    }).block();
    return n == null ? -1 : n;
  }

  @Benchmark
  @Fork(value = 1, jvmArgsAppend = {"-Xmx48m", JDK})
  public long jdkWarm() throws NoSuchAlgorithmException {
    return download(false);
  }

  @Benchmark
  @Fork(value = 1, jvmArgsAppend = "-Xmx48m")
  public long openSslWarm() throws NoSuchAlgorithmException {
    return download(true);
  }

  @Benchmark
  @Warmup(iterations = 0)
  @Measurement(iterations = 1)
  @Fork(value = 3, jvmArgsAppend = {"-Xmx48m", JDK})
  public long jdkCold() throws NoSuchAlgorithmException {
    return download(false);
  }

  @Benchmark
  @Warmup(iterations = 0)
  @Measurement(iterations = 1)
  @Fork(value = 3, jvmArgsAppend = "-Xmx48m")
  public long openSslCold() throws NoSuchAlgorithmException {
    return download(true);
  }

}
