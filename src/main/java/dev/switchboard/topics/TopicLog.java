package dev.switchboard.topics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.partition.PartitionAwareKey;
import com.hazelcast.ringbuffer.OverflowPolicy;
import dev.switchboard.cluster.Addresses;
import dev.switchboard.cluster.HzFutures;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.protocol.Json;
import dev.switchboard.topics.TopicHub.History;
import dev.switchboard.topics.TopicHub.Position;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Topic histories as this node uses them: appends publications to the topic's Ringbuffer in order
 * (one batch in flight per topic), publishes them with their offsets, reads them back (history
 * pages, replays, gap fills), and knows each topic's epoch (a new one when an append's offsets are
 * not above what this node already knew of the topic: the history was lost and started over).
 * Confined to the hub's context, like the topic states it reads.
 */
final class TopicLog {
  private static final Logger LOG = LoggerFactory.getLogger(TopicLog.class);
  /** Most publications appended in one Hazelcast call. */
  static final int APPEND_BATCH = 256;
  /**
   * Most publications of one topic waiting for their append on this node. The queue only grows while
   * Hazelcast does not answer (a partition migrating, a member lost): beyond this, publications are
   * refused (UNAVAILABLE, retryable) rather than held in memory at the full publish rate.
   */
  static final int MAX_QUEUED = 10_000;

  private final Vertx vertx;
  private final HazelcastInstance hz;
  private final Context hub;
  private final IMap<PartitionAwareKey<String, String>, String> epochs;
  private final Map<String, Appender> appenders = new HashMap<>();
  /** The hub's open topics (same context): what they delivered counts as known offsets. */
  private final Map<String, TopicState> topics;
  /**
   * Whether this node's side of the cluster may use history now (cluster/Quorum): a side cut off from
   * the majority neither appends (its copy would fork from the majority's under the same epoch) nor
   * reads (its copy may hold appends the majority never got).
   */
  private final dev.switchboard.cluster.Quorum quorum;
  /**
   * Topics appended to while the cluster lacked some of its expected members (apart, perhaps, from a
   * side that also served): if this side is then merged into another, their histories may have
   * diverged. Cleared once every expected member is back. Bounded: past the bound, every topic is
   * taken to have been appended to.
   */
  private final java.util.Set<String> appendedApart = new java.util.HashSet<>();
  static final int MAX_APART = 100_000;
  private boolean apartOverflow;

  /**
   * Confirms, before anything read from history is delivered or answered, that this node still
   * belongs to the majority: a node cut off moments ago still owns its partitions, whose copies hold
   * appends the majority will never have (their backups did not arrive).
   */
  private final dev.switchboard.cluster.MajorityProbe probe;

  TopicLog(Vertx vertx, HazelcastInstance hz, Context hub, Map<String, TopicState> topics,
           dev.switchboard.cluster.Quorum quorum, dev.switchboard.cluster.MajorityProbe probe) {
    this.vertx = vertx;
    this.hz = hz;
    this.hub = hub;
    this.topics = topics;
    this.quorum = quorum;
    this.probe = probe;
    this.epochs = hz.getMap(Addresses.EPOCHS);
  }

  /** Epochs of topics this node used recently (bounded), with the highest offset it knows under that epoch. */
  private final Map<String, EpochSeen> epochCache = new java.util.LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, EpochSeen> e) {
      return size() > 10_000;
    }
  };

  /**
   * {@code ring}: the epoch entry says the history may have a ring (this node marked it, or read it so):
   * appends under this epoch go straight to the ring.
   */
  private record EpochSeen(String epoch, long lastOffset, boolean ring) {
  }

  /**
   * Appends to the topic's history and publishes to every node with subscribers. Publications of
   * a topic from this node are appended in the order they were made (one append batch in flight
   * per topic), so one connection's publications get increasing offsets; the batch also keeps
   * Hazelcast calls few under load.
   */
  Future<Position> publish(String topic, JsonNode data, String from) {
    ObjectNode item = Json.MAPPER.createObjectNode();
    item.set("data", data);
    long accepted = TopicEvent.nowMicros(); // the publish→deliver histogram's start (sent as header t)
    item.put("ts", accepted / 1_000);
    if (from != null) {
      item.put("from", from);
    }
    String stored = item.toString();
    Promise<Position> done = Promise.promise();
    hub.runOnContext(v -> {
      Appender a = appenders.computeIfAbsent(topic, t -> new Appender());
      if (a.queue.size() >= MAX_QUEUED) {
        done.fail(new dev.switchboard.protocol.SwitchboardException(dev.switchboard.protocol.ErrorCode.UNAVAILABLE,
            "the topic's history is not keeping up, retry"));
        return;
      }
      a.queue.add(new Pending(stored, accepted, done));
      if (!a.inFlight) {
        appendNext(topic, a);
      }
    });
    return done.future();
  }

  /** Publications of one topic waiting for their append, in order. */
  private static final class Appender {
    final java.util.ArrayDeque<Pending> queue = new java.util.ArrayDeque<>();
    boolean inFlight;
  }

  private record Pending(String item, long acceptedMicros, Promise<Position> promise) {
  }

  private void appendNext(String topic, Appender a) {
    if (a.queue.isEmpty()) {
      appenders.remove(topic);
      return;
    }
    a.inFlight = true;
    List<Pending> batch = new ArrayList<>();
    while (!a.queue.isEmpty() && batch.size() < APPEND_BATCH) {
      batch.add(a.queue.poll());
    }
    List<String> items = new ArrayList<>(batch.size());
    batch.forEach(p -> items.add(p.item()));
    if (!quorum.serving()) {
      batch.forEach(p -> p.promise().tryFail(cutOff()));
      a.inFlight = false;
      hub.runOnContext(v -> appendNext(topic, a));
      return;
    }
    // An epoch taken from the cache may be stale (a loss this node did not see): settle looks again at
    // offset 1. One read from the map (a topic's first append here, or one not yet marked as having
    // a ring) is current, and it marks the entry before the ring is first touched (see EpochEntry).
    EpochSeen seen = epochCache.get(topic);
    boolean cached = seen != null && seen.ring();
    Future<String> epochOfAppend = cached ? Future.succeededFuture(seen.epoch()) : freshEpoch(topic, true);
    epochOfAppend.compose(used -> fromStage(ring(topic).addAllAsync(items, OverflowPolicy.OVERWRITE))
        .compose(lastSeq -> {
          long first = lastSeq - batch.size() + 2; // offset = sequence + 1
          return settle(topic, used, cached, first).map(e -> new Object[] {lastSeq, e});
        }).map(r -> {
      long lastSeq = (Long) r[0];
      String epoch = (String) r[1];
      long first = lastSeq - batch.size() + 2;
      known(topic, epoch, lastSeq + 1);
      if (!quorum.serving()) {
        // Appended, but this side may have been cut off (or paused) meanwhile: a write whose backup
        // did not answer completes after the backup timeout (the member timeout), by which time a
        // side that stopped hearing the others no longer serves. Its copy may be the one the merge
        // discards: not acknowledged, not published (a gap fill elsewhere may still deliver it).
        throw cutOff();
      }
      apart(topic);
      for (int i = 0; i < batch.size(); i++) {
        long offset = first + i;
        vertx.eventBus().publish(Addresses.topic(topic), items.get(i),
            new DeliveryOptions().addHeader("o", Long.toString(offset)).addHeader("e", epoch)
                .addHeader("t", Long.toString(batch.get(i).acceptedMicros())));
        batch.get(i).promise().complete(new Position(offset, epoch));
      }
      return null;
    })).onComplete(ar -> {
      if (ar.failed()) {
        batch.forEach(p -> p.promise().tryFail(ar.cause()));
      }
      a.inFlight = false;
      appendNext(topic, a);
    });
  }

  /**
   * The epoch of an append whose first offset is {@code first}, made under epoch {@code used}. The
   * common case costs nothing: {@code used} is still the cached epoch and {@code first} lies above
   * every offset this node knows of that epoch. Otherwise the map decides (once):
   * <ul>
   *   <li>{@code first} is not above the highest offset this node knows under {@code used} (what it
   *   appended, what its open topic state delivered, the tail it read when it opened the topic):
   *   offsets went backwards, so the history was lost and started over, and its epoch entry with it
   *   (same partition). The knowledge is dropped and a fresh epoch taken (put if absent: whoever
   *   notices first sets it, the others read it);</li>
   *   <li>the cached epoch changed meanwhile (another epoch was seen on the bus): the map's;</li>
   *   <li>{@code first} is 1: a history starts (a new topic, one whose loss nobody here could see, or
   *   one retired as unused, perhaps between this append's read of the map and its landing), and its
   *   epoch is whatever the map holds for it now (a new one, marked as having a ring, if the entry
   *   is gone). Once per history: the one read that keeps a retirement from leaving a ring behind an
   *   entry that says it has none.</li>
   * </ul>
   */
  private Future<String> settle(String topic, String used, boolean cached, long first) {
    EpochSeen seen = epochCache.get(topic);
    if (seen == null || !seen.epoch().equals(used)) {
      return freshEpoch(topic, true);
    }
    if (first <= highestKnown(topic, seen)) {
      epochCache.remove(topic);
      return freshEpoch(topic, true).onSuccess(e -> {
        // The same epoch: the history was not lost (its epoch entry, on the same partition, would have
        // gone with it). This append's answer came after its offsets were delivered: a gap fill read
        // them from history while the answer was on its way (a slow backup, a member leaving).
        if (!e.equals(used)) {
          LOG.atWarn().addKeyValue("topic", topic).addKeyValue("epoch", e).addKeyValue("previous_epoch", used)
              .addKeyValue("cause", "history_lost")
              .log("topic {}: offset {} appended again, history was lost (or retired unused); new epoch {}", topic, first, e);
        }
      });
    }
    if (first == 1) {
      return freshEpoch(topic, true);
    }
    return Future.succeededFuture(used);
  }

  /** The highest offset this node knows of the topic's history under the cached epoch {@code seen}. */
  private long highestKnown(String topic, EpochSeen seen) {
    TopicState st = topics.get(topic);
    long delivered = st != null && st.initialized && seen.epoch().equals(st.epoch) ? st.last : 0;
    return Math.max(seen.lastOffset(), delivered);
  }

  /**
   * This node knows of offset {@code offset} under {@code epoch} (appended it, or delivered it to
   * subscribers): raises the cached highest offset when {@code epoch} is the cached epoch. It never
   * caches an epoch: only the map and appends settled against it do.
   */
  void known(String topic, String epoch, long offset) {
    EpochSeen seen = epochCache.get(topic);
    if (seen != null && seen.epoch().equals(epoch) && seen.lastOffset() < offset) {
      epochCache.put(topic, new EpochSeen(epoch, offset, seen.ring()));
    }
  }

  /** The cached epoch (cheap), else the map's. */
  Future<String> epoch(String topic) {
    EpochSeen cached = epochCache.get(topic);
    if (cached != null) {
      return Future.succeededFuture(cached.epoch());
    }
    return freshEpoch(topic);
  }

  /**
   * The epoch as stored now (creating it with the history's first use, or after its loss or its
   * retirement): an entry created here says the history has no ring yet (see {@link EpochEntry}).
   */
  Future<String> freshEpoch(String topic) {
    return freshEpoch(topic, false);
  }

  /**
   * The epoch as stored now; with {@code ring}, the entry is marked first as one whose history may have
   * a ring (an append follows, or has just been made): created so when absent, or changed from the form
   * without ring under the same epoch.
   */
  private Future<String> freshEpoch(String topic, boolean ring) {
    String fresh = SwitchboardConfig.randomId(8);
    return vertx.executeBlocking(() -> {
      PartitionAwareKey<String, String> key = Addresses.epochKey(topic);
      if (!ring) {
        String prior = epochs.putIfAbsent(key, EpochEntry.noRing(fresh, System.currentTimeMillis()));
        return prior != null ? prior : EpochEntry.noRing(fresh, 0);
      }
      // bounded: each failed round means another node created or marked the entry meanwhile
      for (int i = 0; i < 10; i++) {
        String v = epochs.get(key);
        if (v == null) {
          if (epochs.putIfAbsent(key, EpochEntry.withRing(fresh)) == null) {
            return EpochEntry.withRing(fresh);
          }
        } else if (EpochEntry.mayHaveRing(v)) {
          return v;
        } else if (epochs.replace(key, v, EpochEntry.withRing(EpochEntry.epoch(v)))) {
          return EpochEntry.withRing(EpochEntry.epoch(v));
        }
      }
      throw new dev.switchboard.protocol.SwitchboardException(dev.switchboard.protocol.ErrorCode.UNAVAILABLE,
          "the topic's epoch keeps changing, retry");
    }, false).map(v -> {
      String e = EpochEntry.epoch(v);
      EpochSeen had = epochCache.get(topic);
      epochCache.put(topic, new EpochSeen(e, had != null && had.epoch().equals(e) ? had.lastOffset() : 0,
          EpochEntry.mayHaveRing(v)));
      return e;
    });
  }

  /**
   * The topic's history bounds {head, tail} as sequences, read on a worker: {0, -1} (empty) when the
   * epoch entry says no append was ever made (or there is none), without touching the ring, which
   * Hazelcast would allocate whole. Otherwise the ring's own.
   */
  private long[] bounds(String topic) {
    String v = epochs.get(Addresses.epochKey(topic));
    if (v == null || !EpochEntry.mayHaveRing(v)) {
      return new long[] {0, -1};
    }
    com.hazelcast.ringbuffer.Ringbuffer<String> r = ring(topic);
    return new long[] {r.headSequence(), r.tailSequence()};
  }


  /** Forgets the cached epoch (another epoch was seen on the bus). */
  void forgetEpoch(String topic) {
    epochCache.remove(topic);
  }

  private void apart(String topic) {
    if (!quorum.apart()) {
      appendedApart.clear();
      apartOverflow = false;
    } else if (appendedApart.size() < MAX_APART) {
      appendedApart.add(topic);
    } else {
      apartOverflow = true;
    }
  }

  /**
   * This side was merged into another: what it appended while apart may have been acknowledged under
   * the same epochs and offsets as the other side's publications, which the merge kept. Each such
   * topic gets a fresh epoch (replacing the entry), so its subscribers see an epoch change (resume:
   * {@code recovered:false}) instead of two histories under one epoch. Only possible where both
   * sides served: a fixed {@code cluster.quorum} below a majority, or members joining a minority
   * side during the split. Completes with the number of topics given a new epoch.
   */
  Future<Integer> merged() {
    List<String> diverged = new ArrayList<>(apartOverflow ? epochCache.keySet() : appendedApart);
    if (apartOverflow) {
      diverged.addAll(appendedApart);
    }
    appendedApart.clear();
    apartOverflow = false;
    epochCache.clear();
    if (diverged.isEmpty()) {
      return Future.succeededFuture(0);
    }
    List<String> names = new ArrayList<>(new java.util.LinkedHashSet<>(diverged));
    return vertx.executeBlocking(() -> {
      for (String t : names) {
        // appended to while apart: its history may have a ring
        epochs.put(Addresses.epochKey(t), EpochEntry.withRing(SwitchboardConfig.randomId(8)));
      }
      return names.size();
    }, false).onSuccess(n -> {
      // one line for them all (there may be thousands); each node that holds one logs it as replaced
      LOG.atWarn().addKeyValue("topics", n).addKeyValue("cause", "split")
          .log("{} topic(s) appended to while apart from the cluster got a new epoch", n);
      for (int i = 0; i < names.size(); i += 1000) {
        vertx.eventBus().publish(Addresses.EPOCHS_REPLACED,
            new io.vertx.core.json.JsonArray(names.subList(i, Math.min(names.size(), i + 1000))));
      }
    });
  }

  /** Forgets every cached epoch, except those of open topics (whose knowledge is what they delivered). */
  void forgetEpochs() {
    epochCache.keySet().retainAll(topics.keySet());
  }

  /** A page of history (see {@link TopicHub#history}), its bounds read on a worker. */
  Future<History> history(String topic, long after, int limit) {
    Promise<History> done = Promise.promise();
    hub.runOnContext(v -> epoch(topic).compose(epoch -> vertx.executeBlocking(() -> bounds(topic), false).compose(ht -> probe.confirm(hub).map(ht)).compose(ht -> {
      long latest = ht[1] + 1;
      long from = Math.max(after < 0 ? latest - limit : after, ht[0]);
      int n = (int) Math.max(0, Math.min(limit, latest - from));
      Future<List<TopicEvent>> events = n == 0 ? Future.succeededFuture(List.of()) : read(topic, epoch, from, n);
      return events.map(list -> new History(list, latest, epoch, ht[0] + 1));
    })).onComplete(done));
    return done.future();
  }

  private static dev.switchboard.protocol.SwitchboardException cutOff() {
    return new dev.switchboard.protocol.SwitchboardException(dev.switchboard.protocol.ErrorCode.UNAVAILABLE,
        "this node is cut off from the cluster's majority; retry on another node");
  }

  /** Events from offset {@code after}+1, at most {@code max}, as available now. */
  Future<List<TopicEvent>> read(String topic, String epoch, long after, int max) {
    if (!quorum.serving()) {
      return Future.failedFuture(cutOff());
    }
    // Hazelcast refuses (throws, at once) a read of more than the ring holds: a gap fill reads up
    // to 1,000, and namespaces keep as few as 100 (or fewer, as configured)
    int count = Math.max(1, Math.min(max, capacity(topic)));
    java.util.concurrent.CompletionStage<com.hazelcast.ringbuffer.ReadResultSet<String>> stage;
    try {
      stage = ring(topic).readManyAsync(after, 0, count, null);
    } catch (RuntimeException e) {
      return Future.failedFuture(e); // the caller's failure path runs (a fill clears its flag)
    }
    return fromStage(stage).compose(rs -> probe.confirm(hub).map(rs)).map(rs -> {
      List<TopicEvent> out = new ArrayList<>(rs.size());
      for (int i = 0; i < rs.size(); i++) {
        out.add(new TopicEvent(topic, rs.getSequence(i) + 1, epoch, rs.get(i)));
      }
      return out;
    });
  }

  /** The sequence of the newest item in the topic's history (its offset - 1): a blocking call, run on a worker. */
  Future<Long> tail(String topic) {
    if (!quorum.serving()) {
      return Future.failedFuture(cutOff());
    }
    return vertx.executeBlocking(() -> bounds(topic)[1], false).compose(t -> probe.confirm(hub).map(t));
  }

  /** The topic's history capacity, from the configuration (a local lookup, no call to a member). */
  private int capacity(String topic) {
    return hz.getConfig().findRingbufferConfig(Addresses.history(topic)).getCapacity();
  }

  private com.hazelcast.ringbuffer.Ringbuffer<String> ring(String topic) {
    return hz.getRingbuffer(Addresses.history(topic));
  }

  private <T> Future<T> fromStage(java.util.concurrent.CompletionStage<T> stage) {
    return HzFutures.on(hub, stage);
  }
}
