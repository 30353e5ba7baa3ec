package dev.switchboard.protocol;

/** The disconnect catalog (PROTOCOL.md section 3): WebSocket close codes and their reasons. */
public enum CloseCode {
  NORMAL(1000, "normal"),
  GOING_AWAY(1001, "going away"),
  INVALID_UTF8(1007, "invalid UTF-8"),
  POLICY(1008, "policy violation"),
  TOO_BIG(1009, "message too big"),
  INTERNAL(1011, "internal error"),
  RESTART(1012, "node restarting"),
  IDLE_TIMEOUT(4000, "idle timeout"),
  TOKEN_EXPIRED(4001, "token expired"),
  SLOW_CONSUMER(4008, "slow consumer or flooding"),
  REPLACED(4009, "replaced by a newer connection"),
  /**
   * Closed by an administrator (the admin API's disconnect): the default code; the administrator
   * may choose another in 4000-4999 and a reason, which the client sees instead.
   */
  DISCONNECTED(4010, "disconnected by an administrator");

  /** The range of close codes an administrator may choose (RFC 6455: 4000-4999 are for applications). */
  public static final int ADMIN_MIN = 4000;
  public static final int ADMIN_MAX = 4999;

  private final short code;
  private final String reason;

  CloseCode(int code, String reason) {
    this.code = (short) code;
    this.reason = reason;
  }

  public short code() {
    return code;
  }

  public String reason() {
    return reason;
  }
}
