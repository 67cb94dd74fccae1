package io.otaflux.manifest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

class JsonTest {

  private static Map<String, Json.Value> parse(String text) throws Json.SyntaxError {
    return Json.parseObject(text.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void quotesStringsAsRfc8785Does() {
    assertThat(Json.quote("a\"b\\c/d")).isEqualTo("\"a\\\"b\\\\c/d\"");
    assertThat(Json.quote("\b\t\n\f\r")).isEqualTo("\"\\b\\t\\n\\f\\r\"");
    assertThat(Json.quote("\u0000\u001f\u007f")).isEqualTo("\"\\u0000\\u001f\u007f\"");
    assertThat(Json.quote("é€😀\u2028")).isEqualTo("\"é€😀\u2028\"");
  }

  @Test
  void writesCanonicalObjectsSortedWithoutWhiteSpace() {
    TreeMap<String, String> members = new TreeMap<>();
    members.put("b", "1");
    members.put("a", Json.quote("x y"));
    assertThat(new String(Json.canonical(members), StandardCharsets.UTF_8)).isEqualTo("{\"a\":\"x y\",\"b\":1}");
  }

  @Test
  void decodesEscapesIncludingSurrogatePairs() throws Exception {
    Map<String, Json.Value> m = parse("{\"s\":\"\\u00e9\\/\\ud83d\\ude00\\n\", \"n\": -1.5e3, \"t\": true, \"z\": null}");
    assertThat(m.get("s").text()).isEqualTo("é/😀\n");
    assertThat(m.get("n")).isEqualTo(new Json.Value(Json.Kind.NUMBER, "-1.5e3"));
    assertThat(m.get("t").kind()).isEqualTo(Json.Kind.BOOLEAN);
    assertThat(m.get("z").kind()).isEqualTo(Json.Kind.NULL);
  }

  @Test
  void refusesWhatStrictJsonDoesNotAllow() {
    for (String bad : new String[] {"", "[]", "{", "{\"a\":1,}", "{\"a\":1}x", "{\"a\":1}{}", "{a:1}", "{'a':1}",
        "{\"a\":01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":+1}", "{\"a\":\"\t\"}", "{\"a\":\"\\x\"}",
        "{\"a\":\"\\ud800\"}", "{\"a\":\"\\u12\"}", "{\"a\":TRUE}", "{\"a\":{}}", "{\"a\":[1]}", "{\"a\":1,\"a\":2}",
        "{\"a\" 1}", "{\"a\":\"x}", "{\"a\":\"\\u+041\"}", "{\"a\":\"\\u-041\"}"}) {
      assertThatThrownBy(() -> parse(bad)).as(bad).isInstanceOf(Json.SyntaxError.class);
    }
  }

  @Test
  void refusesInvalidUtf8AndAByteOrderMark() {
    assertThatThrownBy(() -> Json.parseObject(new byte[] {'{', '"', (byte) 0xc3, '"', ':', '1', '}'}))
        .hasMessageContaining("UTF-8");
    assertThatThrownBy(() -> Json.parseObject(new byte[] {(byte) 0xef, (byte) 0xbb, (byte) 0xbf, '{', '}'}))
        .hasMessageContaining("byte order mark");
  }
}
