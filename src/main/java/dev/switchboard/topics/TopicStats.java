package dev.switchboard.topics;

import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * This node's open topics as the admin API shows them: local subscribers, the last offset delivered
 * here, the epoch, and publications per second (offsets delivered over the last second, sampled once
 * a second on the hub's context). Every read runs on the hub's context, which owns the topic states.
 */
public final class TopicStats {
  /** One open topic on this node. */
  public record Figures(String topic, int subscribers, long offset, String epoch, long perSecond) {
  }

  /** One local subscriber of a topic. */
  public record Local(String conn, String user, String device) {
  }

  static final long SAMPLE_MS = 1000;
  private final TopicHub hub;

  TopicStats(TopicHub hub) {
    this.hub = hub;
    hub.vertx.setPeriodic(SAMPLE_MS, id -> hub.hub.runOnContext(v -> sample()));
  }

  private void sample() {
    for (TopicState st : hub.topics.values()) {
      st.perSecond = st.sampledLast < 0 ? 0 : Math.max(0, st.last - st.sampledLast);
      st.sampledLast = st.last;
    }
  }

  /**
   * Topics open on this node (any thread: the size of a map the hub's context owns, read without a
   * lock, so possibly a moment old; never torn, it is one int).
   */
  public int open() {
    return hub.topics.size();
  }

  /**
   * Up to {@code limit} open topics whose names come after {@code after} (null: from the first) and
   * contain {@code contains} (null: any), in name order.
   */
  public Future<List<Figures>> list(String after, String contains, int limit) {
    Promise<List<Figures>> p = Promise.promise();
    hub.hub.runOnContext(v -> {
      java.util.TreeMap<String, TopicState> sorted = new java.util.TreeMap<>();
      for (Map.Entry<String, TopicState> e : hub.topics.entrySet()) {
        String name = e.getKey();
        if ((after == null || name.compareTo(after) > 0) && (contains == null || name.contains(contains))) {
          sorted.put(name, e.getValue());
          if (sorted.size() > limit) {
            sorted.pollLastEntry(); // only the first `limit` names are ever needed
          }
        }
      }
      List<Figures> out = new ArrayList<>(sorted.size());
      for (TopicState st : sorted.values()) {
        out.add(new Figures(st.topic, st.subscriberCount, st.last, st.epoch, st.perSecond));
      }
      p.complete(out);
    });
    return p.future();
  }

  /** Up to {@code limit} of the topic's live subscribers on this node (none when it is not open here). */
  public Future<List<Local>> subscribers(String topic, int limit) {
    Promise<List<Local>> p = Promise.promise();
    hub.hub.runOnContext(v -> {
      List<Local> out = new ArrayList<>();
      TopicState st = hub.topics.get(topic);
      if (st != null) {
        for (Subscriber[] loop : st.byLoop.values()) {
          for (Subscriber s : loop) {
            if (out.size() < limit) {
              out.add(new Local(s.connectionId(), s.userId(), s.deviceId()));
            }
          }
        }
      }
      p.complete(out);
    });
    return p.future();
  }

  /** Whether this node has live or pending subscribers of the topic (on the hub's context; any thread may call). */
  public Future<Boolean> followed(String topic) {
    return hub.isOpen(topic);
  }
}
