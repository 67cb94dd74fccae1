package io.otaflux.transport;

import java.net.URI;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;

import org.jspecify.annotations.Nullable;

/**
 * The server-controlled {@code Content-Range} of a 206 (RFC 9110 14.4): {@code bytes first-last/complete},
 * where complete may be {@code *}. Parsed by hand in one pass: anything else is a
 * {@link Detail#MALFORMED_RESPONSE}, never another exception.
 *
 * @param first the first byte's offset
 * @param last the last byte's offset (inclusive)
 * @param complete the whole image's size, or -1 for {@code *}
 */
record ContentRange(long first, long last, long complete) {

  /** The number of bytes in the range. */
  long length() {
    return last - first + 1;
  }

  /**
   * Parses the header.
   *
   * @param value the header's value, or null when the answer has none
   * @param uri what was asked for, for the sentence
   * @return the range
   * @throws OtaException {@code SERVER}/{@code MALFORMED_RESPONSE} for a missing or malformed value
   */
  static ContentRange parse(@Nullable String value, URI uri) {
    if (value == null) {
      throw malformed(uri, "it answered 206 without a Content-Range");
    }
    String v = value.strip();
    int[] at = {0};
    if (!v.regionMatches(true, 0, "bytes", 0, 5) || v.length() < 6 || v.charAt(5) != ' ') {
      throw malformed(uri, "its Content-Range (" + shown(v) + ") does not count bytes");
    }
    at[0] = 6;
    skipSpaces(v, at);
    long first = number(v, at);
    long last = -1;
    if (first >= 0 && at[0] < v.length() && v.charAt(at[0]) == '-') {
      at[0]++;
      last = number(v, at);
    }
    long complete = -2;
    if (last >= 0 && at[0] < v.length() && v.charAt(at[0]) == '/') {
      at[0]++;
      if (at[0] < v.length() && v.charAt(at[0]) == '*') {
        at[0]++;
        complete = -1;
      } else {
        complete = number(v, at);
      }
    }
    if (first < 0 || last < 0 || complete < -1 || at[0] != v.length() || last < first
        || (complete >= 0 && last >= complete)) {
      throw malformed(uri, "its Content-Range (" + shown(v) + ") is malformed");
    }
    return new ContentRange(first, last, complete);
  }

  private static void skipSpaces(String v, int[] at) {
    while (at[0] < v.length() && v.charAt(at[0]) == ' ') {
      at[0]++;
    }
  }

  /** 1 to 18 digits (no overflow), or -1. */
  private static long number(String v, int[] at) {
    int start = at[0];
    long n = 0;
    while (at[0] < v.length() && at[0] - start < 19) {
      char c = v.charAt(at[0]);
      if (c < '0' || c > '9') {
        break;
      }
      n = n * 10 + (c - '0');
      at[0]++;
    }
    int digits = at[0] - start;
    return digits == 0 || digits > 18 ? -1 : n;
  }

  /** The value as a sentence may quote it: short, printable. */
  private static String shown(String v) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < v.length() && out.length() < 60; i++) {
      char c = v.charAt(i);
      out.append(c >= 0x20 && c < 0x7f ? c : '?');
    }
    return v.length() > 60 ? out + "..." : out.toString();
  }

  static OtaException malformed(URI uri, String what) {
    return OtaException.of(Detail.MALFORMED_RESPONSE, "The answer for " + uri + " is malformed: " + what
        + ". Try again later or ask the server's operator.");
  }
}
