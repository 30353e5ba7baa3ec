package dev.switchboard.operations;

import dev.switchboard.protocol.ErrorCode;
import io.vertx.core.json.JsonObject;

/** Operation frames as the worker builds them (no request id: each attached client's node adds its own). */
final class OpFrames {
  private OpFrames() {
  }

  static JsonObject progress(String opId, long seq, String stage, long done, long total, String unit, long etaMs,
                             String message) {
    // unknown figures (negative) are left out rather than sent as 0: "total 0" reads as "nothing to do"
    JsonObject p = new JsonObject();
    if (done >= 0) {
      p.put("done", done);
    }
    if (total >= 0) {
      p.put("total", total);
    }
    if (unit != null) {
      p.put("unit", unit);
    }
    if (etaMs >= 0) {
      p.put("eta_ms", etaMs);
    }
    if (message != null) {
      p.put("message", message);
    }
    return new JsonObject().put("type", "progress").put("op_id", opId).put("seq", seq).put("stage", stage)
        .put("progress", p);
  }

  static JsonObject stream(String opId, long seq, Object data) {
    return new JsonObject().put("type", "stream").put("op_id", opId).put("seq", seq).put("data", data);
  }

  static JsonObject result(String opId, long seq, Object result) {
    return new JsonObject().put("type", "result").put("op_id", opId).put("seq", seq).put("result", result);
  }

  static JsonObject error(String opId, long seq, ErrorCode code, String message) {
    JsonObject err = new JsonObject().put("code", code.name()).put("message", message).put("retryable", code.retryable());
    JsonObject f = new JsonObject().put("type", "error").put("error", err);
    if (opId != null) {
      f.put("op_id", opId).put("seq", seq);
    }
    return f;
  }

  static boolean terminal(JsonObject frame) {
    String t = frame.getString("type");
    return "result".equals(t) || "error".equals(t);
  }
}
