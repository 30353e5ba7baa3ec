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

  /** Mutable per-topic position: the delivery path updates it without allocating. */
  private static final class Cursor {
    long offset;
    String epoch;
  }

  public Subscriptions(Subscriber subscriber, int max) {
    this.subscriber = subscriber;
    this.max = max;
  }

  public Subscriber subscriber() {
    return subscriber;
  }

  /** Records a subscription; false when the connection is at its limit (a repeat is fine). */
  public synchronized boolean reserve(String topic) {
    if (topics.containsKey(topic)) {
      return true;
    }
    if (topics.size() >= max) {
      return false;
    }
    topics.put(topic, new Cursor());
    changed = true;
    return true;
  }

  /** Forgets a subscription; true when it existed. */
  public synchronized boolean release(String topic) {
    if (!topics.containsKey(topic)) {
      return false;
    }
    topics.remove(topic);
    changed = true;
    return true;
  }

  /** Records the position of a delivered event (for session resume). */
  public synchronized void delivered(String topic, long offset, String epoch) {
    Cursor c = topics.get(topic);
    if (c != null) {
      c.offset = offset;
      c.epoch = epoch;
      changed = true;
    }
  }

  /** Records where a subscription starts (the subscribe result), unless events already moved it. */
  public synchronized void startsAt(String topic, long offset, String epoch) {
    Cursor c = topics.get(topic);
    if (c != null && c.epoch == null) {
      c.offset = offset;
      c.epoch = epoch;
      changed = true;
    }
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
    return out;
  }

  public synchronized int size() {
    return topics.size();
  }
}
