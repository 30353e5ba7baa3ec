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
   * Writes the event's shared pre-encoded frame ({@link TopicEvent#frame}) and flushes it before the
   * event loop turn ends; called on {@link #context()}. False once closed.
   */
  boolean deliver(TopicEvent event);
}
