package dev.switchboard.transport;

import dev.switchboard.NodeContext;
import dev.switchboard.protocol.CloseCode;
import dev.switchboard.protocol.Frames;
import dev.switchboard.topics.Subscriptions;
import io.netty.channel.ChannelHandlerContext;
import io.vertx.core.buffer.Buffer;

/**
 * A connection's clocks, driven by its verticle's tick (not by a timer per socket): the idle timeout
 * (every frame from the client counts as liveness), the token's expiry (a notice shortly before, a
 * close at it), the session's periodic writes, and the heartbeat pings, which also ask the client to
 * acknowledge what it read ({@link ReadAcks}). Its own class so that the connection keeps the socket
 * and its closing handshake, and this what happens with time. Loop-confined.
 */
final class Clocks {
  private final NodeContext node;
  private final Connection connection;
  private final SessionKeeper session;
  private final Subscriptions subscriptions;
  private final Outbound outbound;
  private final ChannelHandlerContext channel;
  private long lastInboundNanos = System.nanoTime();
  private long nextPingNanos;
  /** Which events the client has read, learnt from the pongs of the pings sent here. */
  final ReadAcks acks;
  private boolean expiringSent;

  Clocks(NodeContext node, Connection connection, SessionKeeper session, Subscriptions subscriptions,
         Outbound outbound, ChannelHandlerContext channel) {
    this.node = node;
    this.connection = connection;
    this.session = session;
    this.subscriptions = subscriptions;
    this.outbound = outbound;
    this.channel = channel;
    this.nextPingNanos = lastInboundNanos + node.config().limits().heartbeatMs() * 1_000_000L;
    this.acks = new ReadAcks(lastInboundNanos);
  }

  /** A frame came in (any frame: pings, pongs and close frames count too). */
  void heard() {
    lastInboundNanos = System.nanoTime();
  }

  /** A new token: its expiry gets a notice of its own. */
  void tokenChanged() {
    expiringSent = false;
  }

  /** Pings, idle timeout, token expiry (the connection is not closing). */
  void tick(long nowNanos, long nowMs) {
    long idleNanos = node.config().limits().idleTimeoutMs() * 1_000_000L;
    if (nowNanos - lastInboundNanos > idleNanos) {
      connection.close(CloseCode.IDLE_TIMEOUT);
      return;
    }
    long exp = connection.principal().expiresAtMs();
    if (exp > 0) {
      if (nowMs >= exp) {
        connection.close(CloseCode.TOKEN_EXPIRED);
        return;
      }
      if (!expiringSent && exp - nowMs <= node.config().limits().tokenExpiringMs()) {
        expiringSent = true;
        connection.send(Frames.tokenExpiring(exp - nowMs));
      }
    }
    session.tick(nowMs);
    long heartbeatNanos = node.config().limits().heartbeatMs() * 1_000_000L;
    // both marked when due (no short cut): topic events and operation frames written so far
    boolean ask = false;
    if (acks.due(nowNanos)) {
      ask = subscriptions.mark() | opsMark();
      if (!ask) {
        acks.nothingToAsk(); // an early ask that found nothing new waits for the next write
      }
    }
    if (ask || nowNanos >= nextPingNanos) {
      nextPingNanos = nowNanos + heartbeatNanos;
      long id = acks.nextPing(ask, nowNanos);
      // Written after the events it acknowledges, on the same stream: its pong proves they were read.
      // Straight to the channel like the events, so it goes out in the same write as any of this turn.
      outbound.writeFrame(channel.alloc().buffer(10).writeByte(0x89).writeByte(8).writeLong(id), 0);
    }
  }

  void pong(Buffer payload) {
    if (payload.length() == 8 && acks.pong(payload.getLong(0))) {
      subscriptions.acknowledged();
      if (node.ops() != null && node.ops().hub().clients().acknowledged(connection)) {
        connection.subscriptionsChanged(); // the session's operation positions moved
      }
    }
  }

  private boolean opsMark() {
    return node.ops() != null && node.ops().hub().clients().mark(connection);
  }
}
