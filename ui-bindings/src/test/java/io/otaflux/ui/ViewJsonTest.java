package io.otaflux.ui;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.otaflux.OtaException;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.UpdateEvent;

import org.junit.jupiter.api.Test;

class ViewJsonTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void escapesEveryStringSoItParsesBackUnchangedAndCannotCloseAScriptBlock() throws Exception {
    String nasty = "quote \" backslash \\ newline \n tab \t nul \u0000 </script><b>&amp;' \u2028 ünïcødé ✓";
    UpdateView view = new UpdateView(nasty, UpdateView.State.FAILED, "The update failed.", 5, 10, 0, SlotId.B, null,
        nasty, OtaException.Detail.NO_SPACE, List.of(nasty, "second"));

    String json = ViewJson.of(view);

    assertThat(json).doesNotContain("</script>").doesNotContain("<b>").doesNotContain("\n");
    JsonNode node = JSON.readTree(json);
    assertThat(node.get("title").asText()).isEqualTo(nasty);
    assertThat(node.get("error").asText()).isEqualTo(nasty);
    assertThat(node.get("warnings").get(0).asText()).isEqualTo(nasty);
    assertThat(node.get("warnings").size()).isEqualTo(2);
    assertThat(node.get("state").asText()).isEqualTo("failed");
    assertThat(node.get("final").asBoolean()).isTrue();
    assertThat(node.get("reason").asText()).isEqualTo("STORAGE");
    assertThat(node.get("detail").asText()).isEqualTo("NO_SPACE");
    assertThat(node.get("percent").asInt()).isEqualTo(50);
    assertThat(node.get("slot").asText()).isEqualTo("b");
    assertThat(node.get("sha256").isNull()).isTrue();
  }

  @Test
  void anUnknownSizeIsNullAndADoneViewCarriesTheDigest() throws Exception {
    Sha256 digest = Sha256.digest(new byte[] {7});
    JsonNode unknown = JSON.readTree(ViewJson.of(UpdateView.initial("gw")));
    assertThat(unknown.get("totalBytes").isNull()).isTrue();
    assertThat(unknown.get("percent").isNull()).isTrue();
    assertThat(unknown.get("etaSeconds").isNull()).isTrue();
    assertThat(unknown.get("bytesText").asText()).isEqualTo("0 B");

    UpdateView done = UpdateView.initial("gw")
        .next(new UpdateEvent.Verified(SlotId.B, 3L * 1024 * 1024 * 1024, digest))
        .next(new UpdateEvent.Activated(SlotId.B));
    JsonNode node = JSON.readTree(ViewJson.of(done));
    assertThat(node.get("state").asText()).isEqualTo("done");
    assertThat(node.get("sha256").asText()).isEqualTo(digest.hex());
    assertThat(node.get("totalBytes").asLong()).isEqualTo(3L * 1024 * 1024 * 1024);
    assertThat(node.get("bytesText").asText()).isEqualTo("3.0 GiB of 3.0 GiB");
  }
}
