package io.otaflux.ui;

import java.util.Locale;
import java.util.Map;

import org.jspecify.annotations.Nullable;

/**
 * A view as one JSON object, for the status endpoint and the event stream. Written by hand (a few
 * fields do not need a JSON library); strings are escaped so that the text is also safe inside
 * an HTML {@code <script>} block.
 */
final class ViewJson {

  private static final Map<Character, String> JSON_ESCAPES =
      Map.of('"', "\\\"", '\\', "\\\\", '\n', "\\n", '\r', "\\r", '\t', "\\t");
  private static final String UNICODE_ESCAPED = "<>&'\u2028\u2029";

  private ViewJson() {
  }

  static String of(UpdateView v) {
    StringBuilder b = new StringBuilder(512).append('{');
    field(b, "title", v.title()).append(',');
    field(b, "state", v.state().label()).append(',');
    field(b, "final", v.isFinal()).append(',');
    field(b, "message", v.message()).append(',');
    b.append("\"percent\":").append(v.percent().isPresent() ? Integer.toString(v.percent().getAsInt()) : "null")
        .append(',');
    b.append("\"bytesDone\":").append(v.bytesDone()).append(',');
    b.append("\"totalBytes\":").append(v.isTotalKnown() ? Long.toString(v.totalBytes()) : "null").append(',');
    b.append("\"bytesPerSecond\":").append(String.format(Locale.ROOT, "%.1f", v.bytesPerSecond())).append(',');
    b.append("\"etaSeconds\":").append(v.eta().map(d -> Long.toString(d.toSeconds())).orElse("null")).append(',');
    field(b, "bytesText", bytesText(v)).append(',');
    field(b, "rateText", v.bytesPerSecond() > 0 ? HumanUnits.rate(v.bytesPerSecond()) : "").append(',');
    field(b, "etaText", v.eta().map(HumanUnits::duration).orElse("")).append(',');
    field(b, "slot", v.slot() == null ? null : v.slot().label()).append(',');
    field(b, "sha256", v.sha256() == null ? null : v.sha256().hex()).append(',');
    field(b, "error", v.error()).append(',');
    field(b, "reason", v.reason() == null ? null : v.reason().name()).append(',');
    field(b, "detail", v.detail() == null ? null : v.detail().name()).append(',');
    b.append("\"warnings\":[");
    for (int i = 0; i < v.warnings().size(); i++) {
      if (i > 0) {
        b.append(',');
      }
      string(b, v.warnings().get(i));
    }
    return b.append("]}").toString();
  }

  static String bytesText(UpdateView v) {
    return v.isTotalKnown() ? HumanUnits.bytes(v.bytesDone()) + " of " + HumanUnits.bytes(v.totalBytes())
        : HumanUnits.bytes(v.bytesDone());
  }

  private static StringBuilder field(StringBuilder b, String name, @Nullable String value) {
    b.append('"').append(name).append("\":");
    if (value == null) {
      return b.append("null");
    }
    return string(b, value);
  }

  private static StringBuilder field(StringBuilder b, String name, boolean value) {
    return b.append('"').append(name).append("\":").append(value);
  }

  static StringBuilder string(StringBuilder b, String s) {
    b.append('"');
    Escapes.append(b, s, ViewJson::jsonEscape);
    return b.append('"');
  }

  private static @Nullable String jsonEscape(char c) {
    String named = JSON_ESCAPES.get(c);
    if (named != null) {
      return named;
    }
    // what could close a script or an HTML context, JavaScript's line separators, and control characters
    if (UNICODE_ESCAPED.indexOf(c) >= 0 || c < 0x20 || c == 0x7f) {
      return String.format(Locale.ROOT, "\\u%04x", (int) c);
    }
    return null;
  }
}
