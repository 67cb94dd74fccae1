package io.otaflux.samples.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The README shows the snippets of {@link QuickStart} as they compile, not a drifting copy. */
class ReadmeSnippetTest {

  @ParameterizedTest
  @ValueSource(strings = {"one-call", "composed"})
  void theReadmeShowsTheCompiledSnippet(String tag) throws Exception {
    String source = Files.readString(Path.of("src/main/java/io/otaflux/samples/demo/QuickStart.java"),
        StandardCharsets.UTF_8);
    Matcher m = Pattern.compile("// tag::" + tag + "\\[\\]\\n(.*?)\\n\\s*// end::" + tag + "\\[\\]", Pattern.DOTALL)
        .matcher(source);
    assertThat(m.find()).isTrue();
    String snippet = m.group(1).stripIndent().strip();
    String readme = Files.readString(Path.of("../../README.md"), StandardCharsets.UTF_8);
    assertThat(readme).contains(snippet);
  }
}
