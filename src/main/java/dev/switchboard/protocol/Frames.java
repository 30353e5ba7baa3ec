package dev.switchboard.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Builders of the server-to-client frames (PROTOCOL.md section 2). */
public final class Frames {
  private Frames() {
  }

  private static ObjectNode typed(String type) {
    return Json.MAPPER.createObjectNode().put("type", type);
  }

  public static ObjectNode result(JsonNode id, JsonNode result) {
    ObjectNode f = typed("result");
    if (id != null) {
      f.set("id", id);
    }
    f.set("result", result);
    return f;
  }

  public static ObjectNode error(JsonNode id, SwitchboardException e) {
    return error(id, e.code(), e.getMessage(), e.details(), e.retryAfterMs());
  }

  public static ObjectNode error(JsonNode id, ErrorCode code, String message, ObjectNode details, long retryAfterMs) {
    ObjectNode f = typed("error");
    if (id != null) {
      f.set("id", id);
    }
    ObjectNode err = f.putObject("error");
    err.put("code", code.name());
    err.put("message", message == null ? code.name() : message);
    err.put("retryable", code.retryable());
    if (retryAfterMs >= 0) {
      err.put("retry_after_ms", retryAfterMs);
    }
    if (details != null) {
      err.set("details", details);
    }
    return f;
  }

  public static ObjectNode tokenExpiring(long expiresInMs) {
    return typed("token_expiring").put("expires_in_ms", Math.max(0, expiresInMs));
  }

  public static ObjectNode reconnect(String reason, long afterMs) {
    return typed("reconnect").put("reason", reason).put("after_ms", afterMs);
  }

  public static ObjectNode connected() {
    return typed("connected");
  }
}
