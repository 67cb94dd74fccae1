package io.otaflux;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Objects;

/**
 * Credentials for the firmware server. They are sent only to the origin they were given for and
 * never appear in {@code toString()}, a log line or an error message.
 */
public sealed interface Credentials {

  /**
   * HTTP basic authentication.
   *
   * @param user the user name
   * @param password the password (may be empty)
   * @return the credentials
   */
  static Credentials basic(String user, String password) {
    return new Basic(user, password);
  }

  /**
   * An {@code Authorization: Bearer} token.
   *
   * @param token the token
   * @return the credentials
   */
  static Credentials bearer(String token) {
    return new Bearer(token);
  }

  /**
   * An {@code Authorization} header with another scheme, such as hawkBit's {@code TargetToken} or
   * {@code GatewayToken}.
   *
   * @param scheme the scheme: letters, digits and {@code -._~+/} only
   * @param token the token
   * @return the credentials
   */
  static Credentials token(String scheme, String token) {
    return new Token(scheme, token);
  }

  /**
   * The value of the {@code Authorization} header.
   *
   * @return the header value
   */
  String authorization();

  /**
   * User name and password.
   *
   * @param user the user name
   * @param password the password
   */
  record Basic(String user, String password) implements Credentials {
    /**
     * Checks the parts.
     *
     * @param user the user name
     * @param password the password
     */
    public Basic {
      Objects.requireNonNull(user, "user");
      Objects.requireNonNull(password, "password");
    }

    @Override
    public String authorization() {
      return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
      return "Basic[user=" + user + ", password=<redacted>]";
    }
  }

  /**
   * A bearer token.
   *
   * @param token the token
   */
  record Bearer(String token) implements Credentials {
    /**
     * Checks the token.
     *
     * @param token the token
     */
    public Bearer {
      Objects.requireNonNull(token, "token");
    }

    @Override
    public String authorization() {
      return "Bearer " + token;
    }

    @Override
    public String toString() {
      return "Bearer[<redacted>]";
    }
  }

  /**
   * A token sent with its own scheme.
   *
   * @param scheme the scheme, such as {@code TargetToken}
   * @param token the token
   */
  record Token(String scheme, String token) implements Credentials {
    /**
     * Checks the parts.
     *
     * @param scheme the scheme
     * @param token the token
     */
    public Token {
      Objects.requireNonNull(scheme, "scheme");
      Objects.requireNonNull(token, "token");
      if (scheme.isEmpty() || !scheme.chars().allMatch(c -> c < 128 && (Character.isLetterOrDigit(c) || "-._~+/".indexOf(c) >= 0))) {
        throw new IllegalArgumentException("not an HTTP authentication scheme: " + scheme);
      }
      if (token.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
        throw new IllegalArgumentException("a token cannot hold control characters");
      }
    }

    @Override
    public String authorization() {
      return scheme + " " + token;
    }

    @Override
    public String toString() {
      return scheme + "[<redacted>]";
    }
  }
}
