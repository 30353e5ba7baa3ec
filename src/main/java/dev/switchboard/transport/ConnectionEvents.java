package dev.switchboard.transport;

import dev.switchboard.auth.Rejection;
import dev.switchboard.protocol.CloseCode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * The connection events of the node's log (logger {@code dev.switchboard.transport.ConnectionEvents}):
 * an upgrade refused (status, error code, reason, remote address) and a connection closed (code,
 * reason, who closed, duration, messages in, frames out), each with the connection, user and device
 * it concerns as key-values. Never the token, the query string or a payload: the refusal reasons are
 * the messages a client is shown anyway.
 *
 * <p>One per gateway verticle; its state (the refusal budget) is confined to the verticle's event loop.
 */
final class ConnectionEvents {
  private static final Logger LOG = LoggerFactory.getLogger(ConnectionEvents.class);
  /**
   * Refusal lines per second per event loop. A flood of bad upgrades (a client retrying without
   * backoff, a scan, a rate-limited IP) must not become a flood of log lines: past the budget the
   * refusals are counted, and the next line logged says how many were left out ({@code suppressed}).
   * The metrics count every refusal (sb_upgrade_rejections_total).
   */
  static final int REFUSALS_PER_SECOND = 20;

  private long windowStart;
  private int inWindow;
  private long suppressed;

  void refused(Rejection r, String remote) {
    long now = System.currentTimeMillis();
    if (now - windowStart >= 1000) {
      windowStart = now;
      inWindow = 0;
    }
    if (++inWindow > REFUSALS_PER_SECOND) {
      suppressed++;
      return;
    }
    var e = LOG.atInfo().addKeyValue("status", r.status()).addKeyValue("code", r.code().name())
        .addKeyValue("reason", r.message()).addKeyValue("remote", remote);
    if (suppressed > 0) {
      e = e.addKeyValue("suppressed", suppressed);
      suppressed = 0;
    }
    e.log("upgrade refused: {} {}", r.status(), r.message());
  }

  /**
   * {@code clientCode}: the code of the client's close frame (null: none came). Our close frame's code
   * wins: when both sent one, the client's is the answer to ours.
   */
  void closed(Connection c, Short clientCode) {
    CloseCode ours = c.closeSent();
    int code;
    String reason;
    String by;
    if (ours != null) {
      code = c.closeSentCode();
      reason = ours.reason();
      by = "server";
    } else if (clientCode != null) {
      code = clientCode;
      reason = reasonOf(clientCode); // not the client's own reason text: client input stays out of the log
      by = "client";
    } else {
      code = 1006;
      reason = "connection lost";
      by = "none";
    }
    LOG.atLevel(ours == CloseCode.INTERNAL ? Level.WARN : Level.INFO)
        .addKeyValue("conn", c.connectionId()).addKeyValue("user", c.principal().userId())
        .addKeyValue("device", c.deviceId()).addKeyValue("code", code).addKeyValue("reason", reason)
        .addKeyValue("by", by).addKeyValue("duration_ms", c.openMillis())
        .addKeyValue("messages_in", c.messagesIn()).addKeyValue("frames_out", c.framesOut())
        .log("connection closed: {} {}", code, reason);
  }

  private static String reasonOf(short code) {
    for (CloseCode k : CloseCode.values()) {
      if (k.code() == code) {
        return k.reason();
      }
    }
    return "closed by the client";
  }
}
