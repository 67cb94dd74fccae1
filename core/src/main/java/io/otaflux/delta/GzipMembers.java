package io.otaflux.delta;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PushbackInputStream;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import java.util.zip.ZipException;

/**
 * Decodes one or more gzip members (RFC 1952) with the JDK's {@link Inflater}, strictly: every
 * member's CRC-32 and size are checked, a truncated member is an error, and nothing after the last
 * member is skipped silently ({@link java.util.zip.GZIPInputStream} stops at a member boundary when
 * its source has nothing "available", and ignores a malformed next header).
 */
final class GzipMembers extends ChunkedInput {

  private static final int BUFFER = 64 * 1024;

  private final PushbackInputStream in;
  private final Inflater inflater = new Inflater(true);
  private final CRC32 crc = new CRC32();
  private final byte[] input = new byte[BUFFER];
  private int inputLength;
  private boolean inMember;
  private boolean done;
  private int members;

  GzipMembers(InputStream in) {
    this.in = new PushbackInputStream(in, BUFFER);
  }

  @Override
  int readSome(byte[] b, int off, int len) throws IOException {
    while (!done) {
      if (!inMember) {
        int first = in.read();
        if (first < 0) {
          if (members == 0) {
            throw new EOFException("the gzip stream is empty");
          }
          done = true;
          return -1;
        }
        in.unread(first);
        readHeader();
        inflater.reset();
        crc.reset();
        inMember = true;
      }
      int n;
      try {
        n = inflater.inflate(b, off, len);
      } catch (DataFormatException e) {
        throw new ZipException("corrupt deflate data: " + e.getMessage());
      }
      if (n > 0) {
        crc.update(b, off, n);
        return n;
      }
      if (inflater.finished()) {
        int rest = inflater.getRemaining();
        if (rest > 0) {
          in.unread(input, inputLength - rest, rest);
        }
        long expectedCrc = readUInt();
        long expectedSize = readUInt();
        if (expectedCrc != crc.getValue() || expectedSize != (inflater.getBytesWritten() & 0xffffffffL)) {
          throw new ZipException("a gzip member's CRC-32 or size does not match its data");
        }
        members++;
        inMember = false;
      } else if (inflater.needsInput()) {
        inputLength = in.read(input);
        if (inputLength < 0) {
          throw new EOFException("the gzip stream is truncated");
        }
        inflater.setInput(input, 0, inputLength);
      } else if (inflater.needsDictionary()) {
        throw new ZipException("a gzip member asks for a preset dictionary");
      }
    }
    return -1;
  }

  private void readHeader() throws IOException {
    if (readByte() != 0x1f || readByte() != 0x8b) {
      throw new ZipException("not a gzip member (bad magic number)");
    }
    if (readByte() != 8) {
      throw new ZipException("a gzip member with an unknown compression method");
    }
    int flags = readByte();
    for (int i = 0; i < 6; i++) {
      readByte(); // mtime, xfl, os
    }
    if ((flags & 4) != 0) {
      int extra = readByte() | readByte() << 8;
      for (int i = 0; i < extra; i++) {
        readByte();
      }
    }
    if ((flags & 8) != 0) {
      while (readByte() != 0) {
        // file name
      }
    }
    if ((flags & 16) != 0) {
      while (readByte() != 0) {
        // comment
      }
    }
    if ((flags & 2) != 0) {
      readByte();
      readByte();
    }
  }

  private long readUInt() throws IOException {
    return (readByte() | readByte() << 8 | readByte() << 16 | (long) readByte() << 24) & 0xffffffffL;
  }

  private int readByte() throws IOException {
    int b = in.read();
    if (b < 0) {
      throw new EOFException("the gzip stream is truncated");
    }
    return b;
  }

  @Override
  public void close() throws IOException {
    inflater.end();
    in.close();
  }
}
