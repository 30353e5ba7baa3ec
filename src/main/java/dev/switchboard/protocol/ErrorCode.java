package dev.switchboard.protocol;

/** The request error catalog (PROTOCOL.md section 3): stable wire codes and whether a retry may succeed. */
public enum ErrorCode {
  INVALID_REQUEST(false),
  UNKNOWN_METHOD(false),
  INVALID_PARAMS(false),
  UNAUTHORIZED(false),
  FORBIDDEN(false),
  NOT_FOUND(false),
  UNKNOWN_OPERATION(false),
  RATE_LIMITED(true),
  MESSAGE_TOO_LARGE(false),
  CANCELLED(false),
  TIMEOUT(true),
  NODE_LOST(true),
  UNAVAILABLE(true),
  INTERNAL(true);

  private final boolean retryable;

  ErrorCode(boolean retryable) {
    this.retryable = retryable;
  }

  public boolean retryable() {
    return retryable;
  }
}
