package dev.switchboard.routing;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.auth.Principal;
import dev.switchboard.protocol.CloseCode;

/** What a method sees of the connection that called it. */
public interface Client {
  String connectionId();

  String sessionId();

  String deviceId();

  Principal principal();

  /** Replaces the principal after {@code auth.refresh}; the new token has the same {@code sub}. */
  void principal(Principal principal);

  /** Queues a frame to the client; safe from any thread (hops to the connection's event loop). */
  void send(ObjectNode frame);

  void close(CloseCode code);

  /**
   * Closes with a code and reason chosen by an administrator (4000-4999, see api/AdminActions); the
   * close is counted and logged as {@code kind}.
   */
  default void close(CloseCode kind, int code, String reason) {
    close(kind);
  }

  /** When the connection opened, epoch milliseconds. */
  default long connectedAt() {
    return 0;
  }

  /** Bytes written to the socket and not yet taken by the kernel (may be read off its loop). */
  default long queuedBytes() {
    return 0;
  }

  /**
   * The set of subscriptions changed: write the session now (positions may lag by a few seconds
   * after a crash, but the subscriptions themselves must not).
   */
  default void subscriptionsChanged() {
  }

  /**
   * Writes the session now and completes once that write has landed (at once when there is no
   * session to write): an operation is in the session before its client can see its op_id.
   */
  default io.vertx.core.Future<Void> sessionSaved() {
    return io.vertx.core.Future.succeededFuture();
  }

  /**
   * Something the session must keep until the client has read it was just written (an operation's
   * terminal): ask the client to acknowledge what it read at the next tick, not within the usual
   * interval, so that the session carries it for milliseconds rather than seconds.
   */
  default void acknowledgeSoon() {
  }

  /** Runs {@code r} on the connection's event loop (at once when already there). */
  default void execute(Runnable r) {
    r.run();
  }

  /** True once the connection began to close: nothing more is written to it. */
  default boolean isClosing() {
    return false;
  }

  /** True while the connection has more unsent data than it should take more of (backpressure). */
  default boolean congested() {
    return false;
  }

  /** The connection's topic subscriptions; null where the connection cannot subscribe. */
  default dev.switchboard.topics.Subscriptions subscriptions() {
    return null;
  }
}
