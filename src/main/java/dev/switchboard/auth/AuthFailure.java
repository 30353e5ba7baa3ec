package dev.switchboard.auth;

/** Why a token was refused. {@link #reason} is a metrics label; the message is safe to show a client. */
public final class AuthFailure extends RuntimeException {
  private final String reason;

  public AuthFailure(String reason, String message) {
    super(message, null, false, false);
    this.reason = reason;
  }

  public String reason() {
    return reason;
  }
}
