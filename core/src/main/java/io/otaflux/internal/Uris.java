package io.otaflux.internal;

import java.net.URI;
import java.net.URISyntaxException;

/** Parses URI text from servers and users without letting the JDK's parser crash. */
public final class Uris {

  private Uris() {
  }

  /**
   * {@code new URI(text)}, but a failure is always a {@link URISyntaxException}: the JDK's parser
   * throws {@link NumberFormatException} for an IPv4 part of an IPv6 literal out of range
   * ({@code https://[::1.9223372036854775807.]/}), found by fuzzing.
   *
   * @param text the URI text
   * @return the URI
   * @throws URISyntaxException when the text is not a URI
   */
  public static URI parse(String text) throws URISyntaxException {
    try {
      return new URI(text);
    } catch (NumberFormatException e) {
      throw new URISyntaxException(text, "a number in the address is out of range");
    }
  }
}
