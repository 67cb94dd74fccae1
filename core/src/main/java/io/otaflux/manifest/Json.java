package io.otaflux.manifest;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedMap;

/**
 * A strict reader for one flat JSON object (RFC 8259) whose values are strings, numbers, booleans
 * or null, and the writer of the canonical form (RFC 8785 rules for what a manifest holds).
 *
 * <p>Strict means: valid UTF-8 without a byte order mark, one object and nothing after it but
 * white space, no duplicate names, no nested objects or arrays, no control characters or lone
 * surrogates in strings. A manifest is small and flat, so this is a few hundred lines instead of
 * a JSON library on every device.
 */
final class Json {

  /** A parse failure; its message completes "The manifest is not valid JSON: ...". */
  static final class SyntaxError extends Exception {
    private static final long serialVersionUID = 1L;

    SyntaxError(String message) {
      super(message);
    }
  }

  /** What a value is. */
  enum Kind { STRING, NUMBER, BOOLEAN, NULL }

  /** A value: its kind and its text (the decoded string, or the number's literal as written). */
  record Value(Kind kind, String text) {
  }

  private final String s;
  private int pos;

  private Json(String s) {
    this.s = s;
  }

  static Map<String, Value> parseObject(byte[] utf8) throws SyntaxError {
    if (utf8.length >= 3 && (utf8[0] & 0xff) == 0xef && (utf8[1] & 0xff) == 0xbb && (utf8[2] & 0xff) == 0xbf) {
      throw new SyntaxError("it starts with a byte order mark");
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(utf8)).toString();
    } catch (CharacterCodingException e) {
      throw new SyntaxError("it is not valid UTF-8");
    }
    return new Json(text).object();
  }

  private Map<String, Value> object() throws SyntaxError {
    Map<String, Value> members = new LinkedHashMap<>();
    skipWhitespace();
    expect('{', "an object");
    skipWhitespace();
    if (peek() == '}') {
      pos++;
    } else {
      while (true) {
        skipWhitespace();
        if (peek() != '"') {
          throw error("a field name in double quotes");
        }
        String name = string();
        skipWhitespace();
        expect(':', "':' after \"" + name + "\"");
        skipWhitespace();
        Value value = value(name);
        if (members.putIfAbsent(name, value) != null) {
          throw new SyntaxError("the field \"" + name + "\" appears twice");
        }
        skipWhitespace();
        char c = peek();
        pos++;
        if (c == '}') {
          break;
        }
        if (c != ',') {
          pos--;
          throw error("',' or '}'");
        }
      }
    }
    skipWhitespace();
    if (pos < s.length()) {
      throw error("the end after the object");
    }
    return members;
  }

  private Value value(String name) throws SyntaxError {
    char c = peek();
    if (c == '"') {
      return new Value(Kind.STRING, string());
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      return new Value(Kind.NUMBER, number());
    }
    if (c == '{' || c == '[') {
      throw new SyntaxError("the field \"" + name + "\" holds " + (c == '{' ? "an object" : "an array")
          + "; a manifest's fields are strings and numbers");
    }
    for (String literal : new String[] {"true", "false", "null"}) {
      if (s.startsWith(literal, pos)) {
        pos += literal.length();
        return new Value(literal.equals("null") ? Kind.NULL : Kind.BOOLEAN, literal);
      }
    }
    throw error("a value for \"" + name + "\"");
  }

  private String number() throws SyntaxError {
    int start = pos;
    if (peek() == '-') {
      pos++;
    }
    if (peek() == '0') {
      pos++;
    } else if (peek() >= '1' && peek() <= '9') {
      digits();
    } else {
      throw error("a digit");
    }
    if (peek() == '.') {
      pos++;
      if (!(peek() >= '0' && peek() <= '9')) {
        throw error("a digit after '.'");
      }
      digits();
    }
    if (peek() == 'e' || peek() == 'E') {
      pos++;
      if (peek() == '+' || peek() == '-') {
        pos++;
      }
      if (!(peek() >= '0' && peek() <= '9')) {
        throw error("a digit in the exponent");
      }
      digits();
    }
    return s.substring(start, pos);
  }

  private void digits() {
    while (peek() >= '0' && peek() <= '9') {
      pos++;
    }
  }

  private String string() throws SyntaxError {
    pos++; // the opening quote
    StringBuilder out = new StringBuilder();
    while (true) {
      if (pos >= s.length()) {
        throw new SyntaxError("a string is not closed");
      }
      char c = s.charAt(pos++);
      if (c == '"') {
        break;
      }
      if (c < 0x20) {
        throw new SyntaxError("a string holds an unescaped control character (U+" + String.format("%04X", (int) c)
            + ") at character " + (pos - 1));
      }
      if (c != '\\') {
        out.append(c);
        continue;
      }
      if (pos >= s.length()) {
        throw new SyntaxError("a string is not closed");
      }
      char e = s.charAt(pos++);
      switch (e) {
        case '"': out.append('"'); break;
        case '\\': out.append('\\'); break;
        case '/': out.append('/'); break;
        case 'b': out.append('\b'); break;
        case 'f': out.append('\f'); break;
        case 'n': out.append('\n'); break;
        case 'r': out.append('\r'); break;
        case 't': out.append('\t'); break;
        case 'u':
          if (pos + 4 > s.length()) {
            throw new SyntaxError("a \\u escape is cut short");
          }
          String hex = s.substring(pos, pos + 4);
          // four hex digits exactly: Integer.parseInt would also take a sign ("\\u+041")
          if (!hex.chars().allMatch(h -> h >= '0' && h <= '9' || h >= 'a' && h <= 'f' || h >= 'A' && h <= 'F')) {
            throw new SyntaxError("\\u" + hex + " is not a valid escape");
          }
          out.append((char) Integer.parseInt(hex, 16));
          pos += 4;
          break;
        default:
          throw new SyntaxError("\\" + e + " is not a JSON escape");
      }
    }
    String result = out.toString();
    checkSurrogates(result);
    return result;
  }

  static void checkSurrogates(String text) throws SyntaxError {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw new SyntaxError("a string holds a lone surrogate (U+" + String.format("%04X", (int) c) + ")");
      }
    }
  }

  private void skipWhitespace() {
    while (pos < s.length()) {
      char c = s.charAt(pos);
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        return;
      }
      pos++;
    }
  }

  private char peek() {
    return pos < s.length() ? s.charAt(pos) : '\0';
  }

  private void expect(char c, String what) throws SyntaxError {
    if (peek() != c) {
      throw error(what);
    }
    pos++;
  }

  private SyntaxError error(String expected) {
    if (pos >= s.length()) {
      return new SyntaxError("expected " + expected + " but the text ended");
    }
    return new SyntaxError("expected " + expected + " at character " + pos + ", found '" + s.charAt(pos) + "'");
  }

  // ---- writing ----

  /**
   * A JSON string literal as RFC 8785 (JCS) writes it: {@code "} and {@code \} escaped, the
   * control characters as {@code \b \t \n \f \r} or {@code \}{@code u00xx} (lowercase hex), every
   * other character as itself.
   */
  static String quote(String text) {
    StringBuilder out = new StringBuilder(text.length() + 2).append('"');
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\b': out.append("\\b"); break;
        case '\t': out.append("\\t"); break;
        case '\n': out.append("\\n"); break;
        case '\f': out.append("\\f"); break;
        case '\r': out.append("\\r"); break;
        default:
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
      }
    }
    return out.append('"').toString();
  }

  /**
   * The canonical bytes of a flat object: members sorted by name (all names are ASCII, so UTF-16
   * order is byte order), no white space, UTF-8. Values are already JSON text.
   */
  static byte[] canonical(SortedMap<String, String> jsonValues) {
    StringBuilder out = new StringBuilder("{");
    for (Map.Entry<String, String> e : jsonValues.entrySet()) {
      if (out.length() > 1) {
        out.append(',');
      }
      out.append(quote(e.getKey())).append(':').append(e.getValue());
    }
    return out.append('}').toString().getBytes(StandardCharsets.UTF_8);
  }
}
