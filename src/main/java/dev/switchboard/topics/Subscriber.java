package dev.switchboard.topics;

import io.vertx.core.Context;

/** A local subscriber of topics: a connection, seen by the hub. */
public interface Subscriber {
  /** The event loop the subscriber lives on; deliveries run there. */
  Context context();

  String connectionId();

  String deviceId();

  String userId();

  /** True for CBOR connections (they get the binary frame). */
  boolean binary();

  /**
   * Writes a retained duplicate of {@code frames} (shared pre-encoded WebSocket frames: one event or
   * several of one topic, in offset order) and flushes it before the event loop turn ends; called on
   * {@link #context()}. {@code last} is the last publication among them (null when they are only
   * presence frames): the position a resumed session continues from; {@code count} is how many
   * messages {@code frames} holds. False once closed.
   */
  boolean deliver(TopicEvent last, io.netty.buffer.ByteBuf frames, int count);

  /** True while its outbound queue is too full to take a replay's next chunk (may be read off its loop). */
  boolean congested();

  /**
   * How many more bytes its outbound queue takes before it passes the outbound limit (and is closed
   * as a slow consumer); unbounded while nothing is unsent, since then only the kernel's refusal of
   * the frames being written is judged. 0 once closing. May be read off its loop.
   */
  long room();

  /** True once closing or closed (may be read off its loop). */
  boolean isClosing();

  /** Closes it (on its loop): used when a delivery to it failed, so that it resumes rather than miss events. */
  void close(dev.switchboard.protocol.CloseCode code);
}
