package io.otaflux.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/** What every {@code error:} sentence must be: one human line naming the cause and what to do, no secrets. */
final class Sentence {

  /** Secrets the cases use: none may ever appear in a message. */
  static final String PASSWORD = "hunter2-s3cret";
  static final String TOKEN = "tok-7f3a9c-s3cret";
  static final List<String> SECRETS = List.of(PASSWORD, TOKEN, "Basic ", "Bearer ");

  /** Verbs of advice: the sentence tells a person what to do. */
  private static final Pattern ADVICE = Pattern.compile("\\b(check|ask|try|run|use|give|fix|free|make|wait|retry|"
      + "contact|pass|add|remove|install|renew|correct|publish|point|replace|restore|reinit|init|mount|"
      + "choose|download|sign|update|verify|allow|delete|set|tell|raise|lower|trust|get|compare|look|"
      + "re-?run|re-?issue|serve|configure|fetch|start|stop|confirm|reboot|reset|increase|see|have)\\b",
      Pattern.CASE_INSENSITIVE);

  private Sentence() {
  }

  /**
   * Asserts the sentence is a person's sentence naming the cause with all of {@code names}
   * (case-insensitive) and advice on what to do.
   */
  static void check(String message, String... names) {
    assertThat(message).as("error sentence").isNotBlank().doesNotContain("\n")
        .doesNotContain("Exception:").doesNotContainPattern("\\bat [a-z]+\\.[a-z]+\\.")
        .doesNotContain("null").hasSizeLessThan(600);
    for (String secret : SECRETS) {
      assertThat(message).as("no secret in: " + message).doesNotContain(secret);
    }
    assertThat(message).as("no URL user-info in: " + message).doesNotContainPattern("https?://[^/\\s]*@");
    String lower = message.toLowerCase(Locale.ROOT);
    for (String name : names) {
      assertThat(lower).as("names the cause (%s): %s", name, message).contains(name.toLowerCase(Locale.ROOT));
    }
    assertThat(ADVICE.matcher(message).find()).as("says what to do: " + message).isTrue();
  }
}
