package dev.switchboard.topics;

import io.vertx.core.Context;
import io.vertx.core.Promise;
import io.vertx.core.eventbus.MessageConsumer;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * One topic on one node, confined to the hub's context: the clustered consumer (one per node and
 * topic, never one per connection), the local subscribers grouped by event loop, the last offset
 * delivered and a bounded reorder buffer for events that arrive ahead of a gap.
 */
final class TopicState {
  /** Events held ahead of a gap beyond this count trigger an immediate fill from history. */
  static final int MAX_HELD = 10_000;

  final String topic;
  final Promise<Void> ready = Promise.promise();
  MessageConsumer<String> consumer;
  String epoch;
  /** Offset of the last event delivered to local subscribers (0: none yet). */
  long last;
  boolean initialized;
  /** Events received before initialization completed, or ahead of a gap, by offset. */
  final TreeMap<Long, TopicEvent> held = new TreeMap<>();
  long gapTimer = -1;
  boolean filling;
  int subscriberCount;
  /** {@link #last} at the previous sample of {@link TopicStats}, and the publications per second it saw. */
  long sampledLast = -1;
  long perSecond;
  int binarySubscribers;
  /** Subscribers still being replayed to (not yet in {@link #byLoop}); the topic stays open for them. */
  final Map<Subscriber, Object> replaying = new java.util.HashMap<>();
  /** Subscribers by event loop; the arrays are replaced, never mutated, so loops may read them. */
  final Map<Context, Subscriber[]> byLoop = new LinkedHashMap<>();

  /** Live subscriptions over all of the hub's topics (read by the metrics from any thread). */
  private final java.util.concurrent.atomic.AtomicInteger allSubscribers;

  TopicState(String topic, java.util.concurrent.atomic.AtomicInteger allSubscribers) {
    this.topic = topic;
    this.allSubscribers = allSubscribers;
  }

  /** The topic closes: whatever subscribers it still lists stop counting. */
  void closed() {
    allSubscribers.addAndGet(-subscriberCount);
    subscriberCount = 0;
  }

  boolean add(Subscriber s) {
    Subscriber[] have = byLoop.getOrDefault(s.context(), new Subscriber[0]);
    for (Subscriber x : have) {
      if (x == s) {
        return false;
      }
    }
    Subscriber[] next = Arrays.copyOf(have, have.length + 1);
    next[have.length] = s;
    byLoop.put(s.context(), next);
    subscriberCount++;
    allSubscribers.incrementAndGet();
    if (s.binary()) {
      binarySubscribers++;
    }
    return true;
  }

  /** True when the subscriber is in the live set. */
  boolean contains(Subscriber s) {
    Subscriber[] have = byLoop.get(s.context());
    if (have != null) {
      for (Subscriber x : have) {
        if (x == s) {
          return true;
        }
      }
    }
    return false;
  }

  boolean remove(Subscriber s) {
    Subscriber[] have = byLoop.get(s.context());
    if (have == null) {
      return false;
    }
    int at = -1;
    for (int i = 0; i < have.length; i++) {
      if (have[i] == s) {
        at = i;
      }
    }
    if (at < 0) {
      return false;
    }
    if (have.length == 1) {
      byLoop.remove(s.context());
    } else {
      Subscriber[] next = new Subscriber[have.length - 1];
      System.arraycopy(have, 0, next, 0, at);
      System.arraycopy(have, at + 1, next, at, have.length - at - 1);
      byLoop.put(s.context(), next);
    }
    subscriberCount--;
    allSubscribers.decrementAndGet();
    if (s.binary()) {
      binarySubscribers--;
    }
    return true;
  }
}
