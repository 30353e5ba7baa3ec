package dev.switchboard.protocol;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A failure with a wire code. The message goes to clients as it is, so it must never carry
 * internals (class names, stack traces, addresses); no stack trace is captured.
 */
public class SwitchboardException extends RuntimeException {
  private final ErrorCode code;
  private final ObjectNode details;
  private final long retryAfterMs;

  public SwitchboardException(ErrorCode code, String message) {
    this(code, message, null, -1);
  }

  public SwitchboardException(ErrorCode code, String message, ObjectNode details, long retryAfterMs) {
    super(message, null, false, false);
    this.code = code;
    this.details = details;
    this.retryAfterMs = retryAfterMs;
  }

  public static SwitchboardException invalidParams(String field, String message) {
    ObjectNode details = Json.MAPPER.createObjectNode().put("field", field);
    return new SwitchboardException(ErrorCode.INVALID_PARAMS, message, details, -1);
  }

  public static SwitchboardException rateLimited(String message, long retryAfterMs) {
    return new SwitchboardException(ErrorCode.RATE_LIMITED, message, null, Math.max(1, retryAfterMs));
  }

  public ErrorCode code() {
    return code;
  }

  public ObjectNode details() {
    return details;
  }

  public long retryAfterMs() {
    return retryAfterMs;
  }
}
