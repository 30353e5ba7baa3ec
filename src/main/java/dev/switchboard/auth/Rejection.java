package dev.switchboard.auth;

import dev.switchboard.protocol.ErrorCode;

/** An upgrade refused with a plain HTTP status and a one-line JSON body (PROTOCOL.md section 1). */
public record Rejection(int status, ErrorCode code, String message, long retryAfterSeconds) {
  public static Rejection of(int status, ErrorCode code, String message) {
    return new Rejection(status, code, message, -1);
  }
}
