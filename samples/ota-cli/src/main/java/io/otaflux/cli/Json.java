package io.otaflux.cli;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.otaflux.OtaException;
import io.otaflux.Sha256;
import io.otaflux.SlotId;
import io.otaflux.SlotStatus;
import io.otaflux.SlotState;
import io.otaflux.StoreStatus;
import io.otaflux.storage.BootloaderSlotStore;
import io.otaflux.UpdateEvent;
import io.otaflux.UpdateResult;

import org.jspecify.annotations.Nullable;

/** The JSON the command prints: one object per line. Field names are part of the contract. */
final class Json {

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private Json() {
  }

  static String line(Map<String, ?> object) {
    try {
      return MAPPER.writeValueAsString(object);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("plain maps always serialise", e);
    }
  }

  static void print(PrintStream out, Map<String, ?> object) {
    out.println(line(object));
    out.flush();
  }

  static Map<String, Object> status(StoreStatus status) {
    Map<String, Object> slots = new LinkedHashMap<>();
    for (SlotId id : SlotId.values()) {
      slots.put(id.label(), slot(status.slot(id)));
    }
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("active", status.active().label());
    json.put("next", status.next().label());
    json.put("slots", slots);
    return json;
  }

  /** The bootloader's side of a bootloader store's status: what it will do next. */
  static Map<String, Object> bootloader(BootloaderSlotStore.BootloaderStatus boot) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("kind", boot.kind().label());
    json.put("environment", boot.environment());
    json.put("order", boot.order().stream().map(SlotId::label).toList());
    Map<String, Object> left = new LinkedHashMap<>();
    for (SlotId id : SlotId.values()) {
      left.put(id.label(), boot.attemptsLeft(id));
    }
    json.put("attemptsLeft", left);
    SlotId next = boot.next();
    json.put("next", next == null ? null : next.label());
    json.put("fallingBack", boot.fallingBack());
    json.put("powerSafe", boot.powerSafe());
    return json;
  }

  private static Map<String, Object> slot(SlotStatus slot) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("state", slot.state().label());
    json.put("size", slot.size());
    json.put("sha256", hex(slot.sha256()));
    if (slot.state() == SlotState.TRIAL) {
      json.put("attempts", slot.attempts());
    }
    if (slot.version() != null) {
      json.put("version", slot.version());
    }
    return json;
  }

  static Map<String, Object> event(UpdateEvent event) {
    Map<String, Object> json = new LinkedHashMap<>();
    if (event instanceof UpdateEvent.Resolved) {
      UpdateEvent.Resolved r = (UpdateEvent.Resolved) event;
      json.put("event", "resolved");
      json.put("url", r.effectiveUri().toString());
      json.put("total", r.totalBytes() < 0 ? null : r.totalBytes());
      json.put("resumedFrom", r.resumedFrom());
      json.put("slot", r.slot().label());
      json.put("warnings", r.warnings());
    } else if (event instanceof UpdateEvent.Progress) {
      UpdateEvent.Progress p = (UpdateEvent.Progress) event;
      json.put("event", "progress");
      json.put("bytes", p.bytesDone());
      json.put("total", p.isTotalKnown() ? p.totalBytes() : null);
      json.put("percent", p.fraction().isPresent() ? Math.round(p.fraction().getAsDouble() * 1000) / 10.0 : null);
      json.put("bytesPerSecond", Math.round(p.bytesPerSecond()));
    } else if (event instanceof UpdateEvent.Retrying) {
      UpdateEvent.Retrying r = (UpdateEvent.Retrying) event;
      json.put("event", "retrying");
      json.put("attempt", r.attempt());
      json.put("resumeOffset", r.resumeOffset());
      json.put("reason", reason(r.cause()));
      json.put("detail", detail(r.cause()));
      r.cause().httpStatus().ifPresent(status -> json.put("httpStatus", status));
      json.put("message", r.cause().getMessage());
    } else if (event instanceof UpdateEvent.Verified) {
      UpdateEvent.Verified v = (UpdateEvent.Verified) event;
      json.put("event", "verified");
      json.put("slot", v.slot().label());
      json.put("size", v.size());
      json.put("sha256", v.sha256().hex());
    } else if (event instanceof UpdateEvent.DeltaFallback) {
      UpdateEvent.DeltaFallback f = (UpdateEvent.DeltaFallback) event;
      json.put("event", "delta-fallback");
      json.put("detail", f.detail() == null ? null : f.detail().name().toLowerCase(java.util.Locale.ROOT));
      json.put("message", f.reason());
    } else if (event instanceof UpdateEvent.Activated) {
      json.put("event", "activated");
      json.put("slot", ((UpdateEvent.Activated) event).slot().label());
    }
    return json;
  }

  static Map<String, Object> result(UpdateResult result, long downloaded, long reused) {
    Map<String, Object> json = result(result);
    json.put("downloaded", downloaded);
    json.put("reused", reused);
    return json;
  }

  static Map<String, Object> result(UpdateResult result) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("event", "done");
    json.put("slot", result.slot().label());
    json.put("size", result.size());
    json.put("sha256", result.sha256().hex());
    json.put("url", result.effectiveUri().toString());
    json.put("activated", result.activated());
    json.put("version", result.version());
    json.put("warnings", result.warnings());
    return json;
  }

  static Map<String, Object> error(OtaException e) {
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("event", "error");
    json.put("reason", reason(e));
    json.put("detail", detail(e));
    e.httpStatus().ifPresent(status -> json.put("httpStatus", status));
    json.put("exitCode", e.reason().exitCode());
    json.put("message", e.getMessage());
    return json;
  }

  /** The failure's {@link OtaException.Detail} as JSON spells it: {@code slot_too_small}. */
  static String detail(OtaException e) {
    return e.detail().name().toLowerCase(java.util.Locale.ROOT);
  }

  static String reason(OtaException e) {
    return e.reason().name().toLowerCase(java.util.Locale.ROOT);
  }

  static @Nullable String hex(@Nullable Sha256 digest) {
    return digest == null ? null : digest.hex();
  }

  static List<String> list(List<String> items) {
    return List.copyOf(items);
  }
}
