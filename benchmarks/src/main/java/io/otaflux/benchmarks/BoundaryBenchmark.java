package io.otaflux.benchmarks;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Random;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.util.ReferenceCountUtil;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The transport boundary: a body of pooled direct {@code ByteBuf}s (as Netty's TLS handler hands
 * them over) crosses a {@code publishOn} to a writer thread that hashes it and writes it at its
 * position in a scratch file (page cache, no sync). Either each buffer is
 * copied into a heap {@code ByteBuffer} at the boundary and released at once (what HttpsDownload
 * does), or it is retained and its NIO view handed over, released downstream after hashing. One op
 * moves 64 MiB.
 */
@Fork(value = 1, jvmArgsAppend = "-Xmx256m")
public class BoundaryBenchmark extends AveragedBenchmark {

  static final int BODY = 64 << 20;

  @Param({"8192", "65536"})
  int chunkSize;

  private byte[] plain = new byte[0];
  private Scheduler writer = Schedulers.immediate();
  private FileChannel out; // opened in setUp
  private long position;

  @Setup
  public void setUp() throws IOException {
    Path scratch = Files.createTempFile(Path.of(System.getProperty("bench.scratch",
        System.getProperty("java.io.tmpdir"))), "boundary", ".img");
    out = FileChannel.open(scratch, StandardOpenOption.WRITE, StandardOpenOption.DELETE_ON_CLOSE);
    plain = new byte[chunkSize];
    new Random(7).nextBytes(plain);
    writer = Schedulers.newSingle("bench-writer");
  }

  @TearDown
  public void tearDown() throws IOException {
    writer.dispose();
    out.close();
  }

  /** What the TLS handler produces: a fresh pooled direct buffer per read, filled by a copy. */
  private Flux<ByteBuf> body() {
    int chunks = BODY / chunkSize;
    return Flux.range(0, chunks).map(i -> {
      ByteBuf buf = PooledByteBufAllocator.DEFAULT.directBuffer(chunkSize);
      buf.writeBytes(plain);
      return buf;
    });
  }

  private void write(ByteBuffer chunk) {
    try {
      if (position >= BODY) {
        position = 0;
      }
      while (chunk.hasRemaining()) {
        position += out.write(chunk, position);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Benchmark
  public byte[] copyAtBoundary() throws NoSuchAlgorithmException {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    body()
        .map(buf -> {
          try {
            ByteBuffer copy = ByteBuffer.allocate(buf.readableBytes());
            buf.getBytes(buf.readerIndex(), copy);
            return copy.flip();
          } finally {
            buf.release();
          }
        })
        .publishOn(writer, 8)
        .doOnNext(chunk -> {
          sha.update(chunk.duplicate());
          write(chunk);
        })
        .blockLast();
    return sha.digest();
  }

  @Benchmark
  public byte[] retainedView() throws NoSuchAlgorithmException {
    MessageDigest sha = MessageDigest.getInstance("SHA-256");
    body()
        .publishOn(writer, 8)
        .doOnNext(buf -> {
          try {
            ByteBuffer view = buf.nioBuffer();
            sha.update(view.duplicate());
            write(view);
          } finally {
            buf.release();
          }
        })
        .doOnDiscard(ByteBuf.class, ReferenceCountUtil::release)
        .blockLast();
    return sha.digest();
  }
}
