package dev.switchboard.topics;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The topics one connection is subscribed to, bounded per connection. */
public final class Subscriptions {
  private final Subscriber subscriber;
  private final int max;
  /** Subscribed topics with the last position delivered (offset 0 until known); updated in place. */
  private final Map<String, Cursor> topics = new HashMap<>(4); // most connections follow a few topics
  private boolean changed;

  /** The last event a connection was given on a topic. */
  public record Position(long offset, String epoch) {
  }

  /**
   * Mutable per-topic position: the delivery path updates it without allocating. {@code offset} /
   * {@code epoch} is what a resumed session continues from: only events the client is known to have
   * read count (see {@link #acknowledged}); {@code written} is the last one handed to the socket and
   * {@code marked} the one written when the last acknowledgement was asked for.
   */
  private static final class Cursor {
    long offset;
    String epoch;
    long writtenOffset;
    String writtenEpoch;
    long markedOffset;
    String markedEpoch;
    /** (offset, epoch) is a resumed session's stored position, kept until the subscribe says where it starts. */
    boolean seeded;

    /** Makes (offset, epoch) what a resume continues from; false when it already was (or is unknown). */
    boolean commit(long toOffset, String toEpoch) {
      if (toEpoch == null || toOffset == offset && toEpoch.equals(epoch)) {
        return false;
      }
      offset = toOffset;
      epoch = toEpoch;
      seeded = false;
      return true;
    }
  }

  /** Events were written since the last {@link #mark}. */
  private boolean advanced;
  /**
   * The topic of the last {@link #delivered} and its cursor: the hub passes the same String object
   * for every event of a topic, so an identity check saves the hash-map walk (the subscriber's map,
   * node and key string: cache misses, once per subscriber per event) on the fan-out path.
   */
  private String lastTopic;
  private Cursor lastCursor;

  public Subscriptions(Subscriber subscriber, int max) {
    this.subscriber = subscriber;
    this.max = max;
  }

  public Subscriber subscriber() {
    return subscriber;
  }

  /**
   * Records a subscription and returns its handle (the existing one for a repeat), or null when the
   * connection is at its limit. {@code from}: a resumed session's stored position, which the session
   * keeps (a save meanwhile writes it, not "no position") until {@link #startsAt} says where the
   * subscription starts.
   */
  public synchronized Object reserve(String topic, Position from) {
    Cursor have = topics.get(topic);
    if (have != null) {
      return have;
    }
    if (topics.size() >= max) {
      return null;
    }
    Cursor c = new Cursor();
    if (from != null && from.epoch() != null) {
      c.offset = from.offset();
      c.epoch = from.epoch();
      c.seeded = true;
    }
    topics.put(topic, c);
    changed = true;
    return c;
  }

  /** Forgets a subscription; true when it existed. */
  public synchronized boolean release(String topic) {
    if (topics.remove(topic) == null) {
      return false;
    }
    lastTopic = null;
    lastCursor = null;
    changed = true;
    return true;
  }

  /** Forgets the subscription {@code handle} stands for, not a later one of the same topic; true when it did. */
  public synchronized boolean release(String topic, Object handle) {
    return topics.get(topic) == handle && release(topic);
  }

  /** Records the position of an event written to the socket (it counts once acknowledged). */
  public synchronized void delivered(String topic, long offset, String epoch) {
    Cursor c;
    if (topic == lastTopic) {
      c = lastCursor;
    } else {
      c = topics.get(topic);
      lastTopic = c == null ? null : topic;
      lastCursor = c;
    }
    if (c != null) {
      c.writtenOffset = offset;
      c.writtenEpoch = epoch;
      advanced = true;
    }
  }

  /**
   * Notes the positions written so far, as the connection asks the client to acknowledge them
   * (a ping after those events on the same stream); false when nothing was written since the last mark.
   */
  public synchronized boolean mark() {
    if (!advanced) {
      return false;
    }
    advanced = false;
    for (Cursor c : topics.values()) {
      c.markedOffset = c.writtenOffset;
      c.markedEpoch = c.writtenEpoch;
    }
    return true;
  }

  /**
   * The client answered the ping sent at the last {@link #mark}: it has read every event written
   * before it, so those positions become what a resumed session continues from. Until then a resume
   * replays them again (duplicates, which clients drop by offset) rather than skip events the client
   * never got.
   */
  public synchronized void acknowledged() {
    for (Cursor c : topics.values()) {
      changed |= c.commit(c.markedOffset, c.markedEpoch);
    }
  }

  /**
   * Everything written counts: the connection ends cleanly with nothing left unsent or unacknowledged
   * at the transport (see Connection#settle).
   */
  public synchronized void allWrittenReceived() {
    for (Cursor c : topics.values()) {
      changed |= c.commit(c.writtenOffset, c.writtenEpoch);
    }
  }

  /**
   * Records where the subscription {@code handle} stands for starts (the subscribe result), unless
   * acknowledged events already moved it; true when it did. A late answer for a subscription that was
   * released (and maybe made again) since changes nothing.
   */
  public synchronized boolean startsAt(String topic, Object handle, long offset, String epoch) {
    Cursor c = topics.get(topic);
    if (c == null || c != handle || !(c.epoch == null || c.seeded)) {
      return false;
    }
    c.offset = offset;
    c.epoch = epoch;
    c.seeded = false;
    changed = true;
    return true;
  }

  /** A copy of the positions, and whether they changed since the last snapshot. */
  public synchronized Map<String, Position> snapshot() {
    changed = false;
    Map<String, Position> out = new HashMap<>();
    topics.forEach((t, c) -> out.put(t, c.epoch == null ? null : new Position(c.offset, c.epoch)));
    return out;
  }

  public synchronized boolean changed() {
    return changed;
  }

  /** Forgets them all (the connection is gone) and returns what they were. */
  public synchronized List<String> clear() {
    List<String> out = List.copyOf(topics.keySet());
    topics.clear();
    lastTopic = null;
    lastCursor = null;
    return out;
  }

  /** The subscribed topics now (a copy). */
  public synchronized List<String> topics() {
    return List.copyOf(topics.keySet());
  }

  public synchronized int size() {
    return topics.size();
  }
}
