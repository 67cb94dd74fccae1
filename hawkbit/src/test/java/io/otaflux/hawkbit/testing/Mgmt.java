package io.otaflux.hawkbit.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * hawkBit's Management API as an operator uses it (admin/admin, as {@code ddi.sh} does): targets,
 * software modules, artifacts, distribution sets, assignments, and what the server recorded.
 */
public final class Mgmt {

  private static final ObjectMapper JSON = new ObjectMapper();

  /** One assignment made for a test. */
  public record Assigned(long actionId, long moduleId, JsonNode artifact) {
    public String sha1() {
      return artifact.path("hashes").path("sha1").asText();
    }
  }

  private final HawkbitServer.Running server;
  private final HttpClient http;

  public Mgmt(HawkbitServer.Running server) {
    this.server = server;
    this.http = HttpClient.newBuilder().sslContext(server.sslContext()).connectTimeout(Duration.ofSeconds(10)).build();
  }

  private JsonNode send(String method, String path, byte[] body, String contentType) {
    HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(server.uri() + path)).timeout(Duration.ofSeconds(30))
        .header("Authorization", "Basic " + Base64.getEncoder().encodeToString("admin:admin".getBytes(StandardCharsets.UTF_8)))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
    if (contentType != null) {
      r.header("Content-Type", contentType);
    }
    try {
      HttpResponse<String> res = http.send(r.build(), HttpResponse.BodyHandlers.ofString());
      if (res.statusCode() >= 300) {
        throw new IllegalStateException(method + " " + path + " -> " + res.statusCode() + " " + res.body());
      }
      return res.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(res.body());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private JsonNode json(String method, String path, Object body) {
    try {
      return send(method, path, JSON.writeValueAsBytes(body), "application/json");
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  public JsonNode get(String path) {
    return send("GET", path, null, null);
  }

  public void config(String key, Object value) {
    json("PUT", "/rest/v1/system/configs/" + key, Map.of("value", value));
  }

  public void target(String controllerId, String token) {
    json("POST", "/rest/v1/targets", List.of(Map.of("controllerId", controllerId, "name", controllerId,
        "securityToken", token)));
  }

  /** A software module holding {@code image}, in a distribution set of its own. */
  public long[] distributionSet(String name, String version, byte[] image) {
    JsonNode sm = json("POST", "/rest/v1/softwaremodules", List.of(Map.of("name", name, "version", version,
        "type", "os")));
    long smId = sm.get(0).path("id").asLong();
    upload(smId, "fw.bin", image);
    JsonNode ds = json("POST", "/rest/v1/distributionsets", List.of(Map.of("name", name, "version", version,
        "type", "os", "modules", List.of(Map.of("id", smId)))));
    return new long[] {ds.get(0).path("id").asLong(), smId};
  }

  private void upload(long smId, String file, byte[] data) {
    String boundary = "otaflux" + System.nanoTime();
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + file
        + "\"\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8));
    body.writeBytes(data);
    body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
    send("POST", "/rest/v1/softwaremodules/" + smId + "/artifacts", body.toByteArray(),
        "multipart/form-data; boundary=" + boundary);
  }

  /**
   * Creates a distribution set with {@code image} and assigns it.
   *
   * @param type forced or soft
   * @param consent whether the user's consent is required
   * @param window a maintenance window (schedule, duration) or null
   */
  public Assigned assign(String controllerId, String name, String version, byte[] image, String type, boolean consent,
      String[] window) {
    long[] ids = distributionSet(name, version, image);
    Map<String, Object> a = new LinkedHashMap<>();
    a.put("id", controllerId);
    a.put("type", type);
    a.put("confirmationRequired", consent);
    if (window != null) {
      a.put("maintenanceWindow", Map.of("schedule", window[0], "duration", window[1], "timezone", "+00:00"));
    }
    JsonNode res = json("POST", "/rest/v1/distributionsets/" + ids[0] + "/assignedTargets", List.of(a));
    long actionId = res.path("assignedActions").get(0).path("id").asLong();
    JsonNode artifact = get("/rest/v1/softwaremodules/" + ids[1] + "/artifacts").get(0);
    return new Assigned(actionId, ids[1], artifact);
  }

  public Assigned assign(String controllerId, String name, byte[] image) {
    return assign(controllerId, name, "1.0.0", image, "forced", false, null);
  }

  /** Cancels an action, as an operator does in the UI. */
  public void cancel(String controllerId, long actionId) {
    send("DELETE", "/rest/v1/targets/" + controllerId + "/actions/" + actionId, null, null);
  }

  /** The action's status: running, finished, error, canceled, canceling, ... */
  public String actionStatus(String controllerId, long actionId) {
    return get("/rest/v1/targets/" + controllerId + "/actions/" + actionId).path("status").asText();
  }

  /** The target's update status: in_sync, pending, error, registered, unknown. */
  public String updateStatus(String controllerId) {
    return get("/rest/v1/targets/" + controllerId).path("updateStatus").asText();
  }

  public JsonNode attributes(String controllerId) {
    return get("/rest/v1/targets/" + controllerId + "/attributes");
  }

  /** The action's status history, oldest first, as "type: message | message". */
  public List<String> history(String controllerId, long actionId) {
    JsonNode content = get("/rest/v1/targets/" + controllerId + "/actions/" + actionId
        + "/status?limit=100&sort=id:ASC").path("content");
    List<String> lines = new ArrayList<>();
    for (JsonNode s : content) {
      List<String> messages = new ArrayList<>();
      s.path("messages").forEach(m -> messages.add(m.asText()));
      lines.add(s.path("type").asText() + ": " + String.join(" | ", messages));
    }
    return lines;
  }
}
