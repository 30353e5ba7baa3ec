package dev.switchboard.topics;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.protocol.Json;
import dev.switchboard.protocol.WireFrames;
import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;

/**
 * One publication as a node delivers it. The WebSocket frame (header + JSON envelope) is built once
 * per node and shared by every local subscriber: each socket writes a retained duplicate of it.
 */
public final class TopicEvent {
  final String topic;
  final long offset;
  final String epoch;
  /** The stored item: {@code {"data":…,"ts":…,"from":…}} (from optional). */
  final String item;
  /** A whole frame given as is (presence), instead of an event built from {@link #item}. */
  private final String raw;
  /**
   * When the publishing node accepted it, in microseconds since the epoch (the bus header {@code t});
   * 0 when the event came without it (read from history): then the item's {@code ts} (ms) is used.
   */
  private final long acceptedMicros;
  private ByteBuf jsonFrame;
  private ByteBuf cborFrame;

  TopicEvent(String topic, long offset, String epoch, String item) {
    this(topic, offset, epoch, item, 0);
  }

  TopicEvent(String topic, long offset, String epoch, String item, long acceptedMicros) {
    this.topic = topic;
    this.offset = offset;
    this.epoch = epoch;
    this.item = item;
    this.raw = null;
    this.acceptedMicros = acceptedMicros;
  }

  private TopicEvent(String topic, String raw) {
    this.topic = topic;
    this.offset = 0;
    this.epoch = null;
    this.item = null;
    this.raw = raw;
    this.acceptedMicros = 0;
  }

  /** A frame that is not a publication (a presence change): no offset, delivered as it comes. */
  static TopicEvent raw(String topic, String frameJson) {
    return new TopicEvent(topic, frameJson);
  }

  public long offset() {
    return offset;
  }

  public String topic() {
    return topic;
  }

  /** Now, in microseconds since the epoch: the clock of accept times and of their deliveries. */
  static long nowMicros() {
    java.time.Instant t = java.time.Instant.now();
    return t.getEpochSecond() * 1_000_000L + t.getNano() / 1_000;
  }

  /**
   * When the publication was accepted (µs since the epoch): the bus header's exact time, or, for an
   * event read from history, its item's {@code ts} (ms); 0 for presence frames or an unreadable item.
   * The item is {@code {"data":…,"ts":…[,"from":"…"]}} as Jackson wrote it: {@code ,"ts":} cannot
   * occur inside a string (its quote would be escaped), and any inside the data comes before the
   * item's own, so the last one is the item's.
   */
  long acceptedMicros() {
    if (acceptedMicros != 0 || item == null) {
      return acceptedMicros;
    }
    int i = item.lastIndexOf(",\"ts\":");
    if (i < 0) {
      return 0;
    }
    long ms = 0;
    for (int k = i + 6; k < item.length() && item.charAt(k) >= '0' && item.charAt(k) <= '9' && ms < Long.MAX_VALUE / 10_000; k++) {
      ms = ms * 10 + (item.charAt(k) - '0');
    }
    return ms * 1_000;
  }

  /** The epoch; null for frames that are not publications (presence). */
  public String epoch() {
    return epoch;
  }

  /**
   * The shared frame itself (not retained): a socket writes a retained duplicate of it. The binary
   * one exists once the hub built it for binary subscribers.
   */
  public ByteBuf sharedFrame(boolean binary) {
    return binary ? cborFrame() : jsonFrame();
  }

  /** The event envelope as JSON text, built from the stored item without re-parsing the data. */
  String json() {
    if (raw != null) {
      return raw;
    }
    StringBuilder b = new StringBuilder(item.length() + topic.length() + 80);
    b.append("{\"type\":\"event\",\"topic\":");
    b.append(quote(topic));
    b.append(",\"offset\":").append(offset).append(",\"epoch\":").append(quote(epoch)).append(',');
    b.append(item, 1, item.length());
    return b.toString();
  }

  /** The event envelope as a tree (for history results). */
  public ObjectNode toJson() {
    try {
      return (ObjectNode) Json.MAPPER.readTree(json());
    } catch (Exception e) {
      throw new IllegalStateException("stored item is not JSON", e);
    }
  }

  private static String quote(String s) {
    // topic names and epochs are restricted to [A-Za-z0-9_.:@/-]: nothing to escape
    return '"' + s + '"';
  }

  /** The text frame, built on first use (on the hub's context, before the event is handed to any loop). */
  ByteBuf jsonFrame() {
    if (jsonFrame == null) {
      jsonFrame = WireFrames.message(false, json().getBytes(StandardCharsets.UTF_8));
    }
    return jsonFrame;
  }

  ByteBuf cborFrame() {
    if (cborFrame == null) {
      try {
        ObjectNode n = (ObjectNode) Json.MAPPER.readTree(json());
        cborFrame = WireFrames.message(true, CBOR.writeValueAsBytes(n));
      } catch (Exception e) {
        throw new IllegalStateException("stored item is not JSON", e);
      }
    }
    return cborFrame;
  }

  /** One more reference to the built frames, for one more loop that will write them. */
  void retain() {
    if (jsonFrame != null) {
      jsonFrame.retain();
    }
    if (cborFrame != null) {
      cborFrame.retain();
    }
  }

  /** Drops one reference to the built frames (the hub's, or a loop's once it wrote them). */
  void release() {
    if (jsonFrame != null) {
      jsonFrame.release();
    }
    if (cborFrame != null) {
      cborFrame.release();
    }
  }

  private static final com.fasterxml.jackson.databind.ObjectMapper CBOR =
      new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.cbor.CBORFactory());

}
