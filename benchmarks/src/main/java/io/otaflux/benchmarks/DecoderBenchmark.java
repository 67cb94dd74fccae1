package io.otaflux.benchmarks;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import com.github.luben.zstd.Zstd;
import com.github.luben.zstd.ZstdInputStreamNoFinalizer;

import io.airlift.compress.zstd.ZstdDecompressor;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Setup;

/**
 * The decompress stage of compressed and delta updates: zstd-jni (native, what core uses) against
 * aircompressor's pure-Java zstd decoder, on the two shapes an update decodes: one zstd -19 stream
 * (the whole compressed image, through an InputStream as {@code Decoding} reads it) and 8 KiB chunks
 * compressed one by one (the delta's frames, each decoded into an array of known size as
 * {@code ChunkCodec} does). 8 MiB of image, half random and half text-like. Time per 8 MiB.
 */
public class DecoderBenchmark extends StageBenchmark {

  private static final int IMAGE = 8 << 20;
  private static final int CHUNK = 8 * 1024;

  private byte[] stream;
  private final List<byte[]> frames = new ArrayList<>();
  private final byte[] out = new byte[CHUNK];
  private final byte[] buffer = new byte[64 * 1024];

  @Setup
  public void setUp() {
    byte[] image = new byte[IMAGE];
    Random random = new Random(17);
    random.nextBytes(image);
    byte[] words = "libc.so.6 /usr/lib/x86_64-linux-gnu openssl nginx python3.11 ".getBytes();
    for (int i = IMAGE / 2; i < IMAGE; i++) {
      image[i] = words[(i * 7 + (image[i] & 3)) % words.length];
    }
    stream = Zstd.compress(image, 19);
    for (int at = 0; at < IMAGE; at += CHUNK) {
      frames.add(Zstd.compress(Arrays.copyOfRange(image, at, at + CHUNK), 19));
    }
  }

  private long drain(InputStream in) throws IOException {
    long n = 0;
    try (in) {
      for (int r = in.read(buffer); r >= 0; r = in.read(buffer)) {
        n += r;
      }
    }
    return n;
  }

  @Benchmark
  public long streamZstdJni() throws IOException {
    return drain(new ZstdInputStreamNoFinalizer(new ByteArrayInputStream(stream)));
  }

  @Benchmark
  public long streamAircompressor() throws IOException {
    return drain(new io.airlift.compress.zstd.ZstdInputStream(new ByteArrayInputStream(stream)));
  }

  @Benchmark
  public long chunksZstdJni() {
    long n = 0;
    for (byte[] frame : frames) {
      n += Zstd.decompressByteArray(out, 0, CHUNK, frame, 0, frame.length);
    }
    return n;
  }

  @Benchmark
  public long chunksAircompressor() {
    ZstdDecompressor decompressor = new ZstdDecompressor();
    long n = 0;
    for (byte[] frame : frames) {
      n += decompressor.decompress(frame, 0, frame.length, out, 0, CHUNK);
    }
    return n;
  }
}
