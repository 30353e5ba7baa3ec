package dev.switchboard.topics;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** The topics one connection is subscribed to, bounded per connection. */
public final class Subscriptions {
  private final Subscriber subscriber;
  private final int max;
  private final Set<String> topics = new HashSet<>();

  public Subscriptions(Subscriber subscriber, int max) {
    this.subscriber = subscriber;
    this.max = max;
  }

  public Subscriber subscriber() {
    return subscriber;
  }

  /** Records a subscription; false when the connection is at its limit (a repeat is fine). */
  public synchronized boolean reserve(String topic) {
    if (topics.contains(topic)) {
      return true;
    }
    if (topics.size() >= max) {
      return false;
    }
    topics.add(topic);
    return true;
  }

  /** Forgets a subscription; true when it existed. */
  public synchronized boolean release(String topic) {
    return topics.remove(topic);
  }

  /** Forgets them all (the connection is gone) and returns what they were. */
  public synchronized List<String> clear() {
    List<String> out = List.copyOf(topics);
    topics.clear();
    return out;
  }

  public synchronized int size() {
    return topics.size();
  }
}
