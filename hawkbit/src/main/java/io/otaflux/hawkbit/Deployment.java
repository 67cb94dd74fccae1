package io.otaflux.hawkbit;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;

import io.otaflux.OtaException;
import io.otaflux.OtaException.Detail;
import io.otaflux.Sha256;

import org.jspecify.annotations.Nullable;

/**
 * One {@code deploymentBase} (or {@code confirmationBase}) answer, read: the action, how the
 * server wants it handled, and the one image this A/B device installs.
 *
 * @param actionId the action
 * @param download how to handle the download
 * @param update how to handle the installation
 * @param maintenanceWindow whether a maintenance window is defined and open: null when none is defined
 * @param name the software module's name
 * @param version the software module's version
 * @param fileName the artifact's file name
 * @param size the artifact's size
 * @param sha256 the artifact's SHA-256 as hawkBit gives it
 * @param uri the artifact's {@code download} (https) link
 */
record Deployment(long actionId, HawkbitEvent.Handling download, HawkbitEvent.Handling update,
    @Nullable Boolean maintenanceWindow, String name, String version, String fileName, long size, Sha256 sha256,
    URI uri) {

  /** Whether the image may be installed now: not skipped, and not outside a maintenance window. */
  boolean mayInstallNow() {
    return update != HawkbitEvent.Handling.SKIP && !Boolean.FALSE.equals(maintenanceWindow);
  }

  /** Reads the answer; fails with a sentence when it offers no single https image with a SHA-256. */
  static Deployment parse(JsonNode answer) {
    long actionId = answer.path("id").asLong(-1);
    JsonNode deployment = answer.has("confirmation") ? answer.path("confirmation") : answer.path("deployment");
    if (actionId < 0 || !deployment.isObject()) {
      throw OtaException.of(Detail.MALFORMED_RESPONSE, "hawkBit's deployment has no action id or no deployment.");
    }
    List<JsonNode> artifacts = new ArrayList<>();
    List<JsonNode> chunks = new ArrayList<>();
    for (JsonNode chunk : deployment.path("chunks")) {
      for (JsonNode artifact : chunk.path("artifacts")) {
        artifacts.add(artifact);
        chunks.add(chunk);
      }
    }
    if (artifacts.size() != 1) {
      throw OtaException.of(Detail.INVALID_REQUEST, "The distribution set of action " + actionId + " holds "
          + artifacts.size() + " artifacts; this A/B device installs exactly one image per distribution set. "
          + "Put the image alone in one software module.");
    }
    JsonNode artifact = artifacts.get(0);
    JsonNode chunk = chunks.get(0);
    String fileName = artifact.path("filename").asText("");
    String sha = artifact.path("hashes").path("sha256").asText("");
    long size = artifact.path("size").asLong(-1);
    String href = artifact.path("_links").path("download").path("href")
        .asText(artifact.path("_links").path("download-http").path("href").asText(""));
    if (sha.length() != 64 || size < 0 || href.isEmpty()) {
      throw OtaException.of(Detail.MALFORMED_RESPONSE, "hawkBit gave artifact \"" + fileName + "\" of action "
          + actionId + " without a SHA-256, a size or a download link.");
    }
    URI uri;
    try {
      uri = new URI(href);
    } catch (URISyntaxException e) {
      throw OtaException.of(Detail.MALFORMED_RESPONSE, "hawkBit's download link for \"" + fileName
          + "\" is not a URL.", e);
    }
    if (!"https".equalsIgnoreCase(uri.getScheme())) {
      throw OtaException.of(Detail.NOT_HTTPS, "hawkBit offers \"" + fileName + "\" only over " + uri.getScheme()
          + ":; this device downloads over HTTPS only (run hawkBit with TLS).");
    }
    JsonNode window = deployment.path("maintenanceWindow");
    Boolean open = window.isTextual() ? Boolean.valueOf("available".equals(window.asText())) : null;
    return new Deployment(actionId, handling(deployment.path("download").asText("forced")),
        handling(deployment.path("update").asText("forced")), open, chunk.path("name").asText(""),
        chunk.path("version").asText(""), fileName, size, Sha256.ofHex(sha), uri);
  }

  private static HawkbitEvent.Handling handling(String value) {
    switch (value) {
      case "skip":
        return HawkbitEvent.Handling.SKIP;
      case "attempt":
        return HawkbitEvent.Handling.ATTEMPT;
      default:
        return HawkbitEvent.Handling.FORCED;
    }
  }
}
