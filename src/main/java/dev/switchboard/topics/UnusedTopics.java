package dev.switchboard.topics;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.multimap.MultiMap;
import com.hazelcast.partition.PartitionAwareKey;
import dev.switchboard.cluster.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Frees what the cluster holds for topics nobody uses any more. Every data member looks, every
 * {@link #periodMs}, at the epoch entries it owns (and the history rings of its partitions that have
 * no entry left) and retires, with {@link TopicRetire}, each topic that
 * <ul>
 *   <li>has no subscriber on any node: no clustered event-bus registration for its address (a node
 *   holds one while it has the topic open);</li>
 *   <li>and whose history is empty: no append ever made and the entry older than the namespace's
 *   history time-to-live, or every item of its ring expired (a namespace without time-to-live keeps
 *   its appended histories for good).</li>
 * </ul>
 * The subscriber check and the retirement are not one step: a node that opens the topic in between
 * reads an epoch that is then retired; the topic's next append starts a new epoch and that node's
 * subscribers follow it (they are told of a new epoch, as after a loss: never a false recovery).
 * A topic with an append is looked at (the subscriber check costs a call) once its ring stayed the
 * same over a period (see {@link #quiet}).
 * Sweeps run one at a time, on a worker.
 */
final class UnusedTopics {
  private static final Logger LOG = LoggerFactory.getLogger(UnusedTopics.class);
  /** Longest period between sweeps; a shorter history time-to-live in some namespace makes it shorter. */
  static final long MAX_PERIOD_MS = 60_000;
  static final long MIN_PERIOD_MS = 1_000;

  private final Vertx vertx;
  private final HazelcastInstance hz;
  private final Namespaces namespaces;
  private final IMap<PartitionAwareKey<String, String>, String> epochs;
  private final AtomicBoolean running = new AtomicBoolean();
  final long periodMs;
  /** Ring → its state at the previous sweep (see {@link #quiet}); touched by one sweep at a time. */
  private Map<String, Long> tails = new HashMap<>();

  UnusedTopics(Vertx vertx, HazelcastInstance hz, Namespaces namespaces) {
    this.vertx = vertx;
    this.hz = hz;
    this.namespaces = namespaces;
    this.epochs = hz.getMap(Addresses.EPOCHS);
    long shortest = MAX_PERIOD_MS;
    for (Namespaces.Options o : namespaces.all()) {
      if (o.historyTtlSeconds() > 0) {
        shortest = Math.min(shortest, o.historyTtlSeconds() * 1000L);
      }
    }
    this.periodMs = Math.max(MIN_PERIOD_MS, shortest);
  }

  void start() {
    vertx.setPeriodic(periodMs, t -> sweep());
  }

  /** One sweep now (unless one is running: then 0); completes with the number of topics retired. */
  Future<Integer> sweep() {
    if (!running.compareAndSet(false, true)) {
      return Future.succeededFuture(0);
    }
    return vertx.executeBlocking(this::sweepHere, false).onComplete(ar -> {
      running.set(false);
      if (ar.failed()) {
        LOG.atDebug().log("topic sweep failed: {}", String.valueOf(ar.cause().getMessage()));
      } else if (ar.result() > 0) {
        LOG.atDebug().addKeyValue("topics", ar.result()).log("{} unused topic(s) retired", ar.result());
      }
    });
  }

  private int sweepHere() {
    if (hz.getCluster().getLocalMember().isLiteMember()) {
      return 0;
    }
    MultiMap<String, Object> subs = hz.getMultiMap("__vertx.subs");
    Map<String, Long> seenTails = new HashMap<>();
    Set<String> withEntry = new HashSet<>();
    java.util.List<String> names = new java.util.ArrayList<>();
    int retired = 0;
    long now = System.currentTimeMillis();
    for (PartitionAwareKey<String, String> key : epochs.localKeySet()) {
      String topic = key.getKey();
      String ring = Addresses.history(topic);
      withEntry.add(ring);
      String v = epochs.get(key);
      if (v == null) {
        continue;
      }
      long graceMs = namespaces.of(topic).historyTtlSeconds() * 1000L;
      boolean candidate = EpochEntry.mayHaveRing(v) ? quiet(ring, seenTails) : now - EpochEntry.created(v) >= graceMs;
      if (!candidate || subs.containsKey(Addresses.topic(topic))) {
        continue;
      }
      if (Boolean.TRUE.equals(epochs.executeOnKey(key, new TopicRetire.Retire(ring, v, graceMs)))) {
        retired++;
        names.add(topic);
      }
    }
    // rings left without an entry (one read or created while their topic was being retired)
    for (String ring : TopicRetire.ownedRings(hz)) {
      if (withEntry.contains(ring) || !quiet(ring, seenTails)) {
        continue;
      }
      String pk = ring.substring(ring.lastIndexOf('@') + 1);
      if (Boolean.TRUE.equals(epochs.executeOnKey(new PartitionAwareKey<>(pk, pk), new TopicRetire.Retire(ring, null, 0)))) {
        retired++;
      }
    }
    tails = seenTails;
    // nodes that appended to these topics cached their epochs: without this, a node's next append
    // would label the new history's offsets with the old epoch until it notices (TopicLog#settle)
    for (int i = 0; i < names.size(); i += 1000) {
      vertx.eventBus().publish(Addresses.EPOCHS_RETIRED,
          new io.vertx.core.json.JsonArray(names.subList(i, Math.min(names.size(), i + 1000))));
    }
    return retired;
  }

  /**
   * The ring here is as it was at the previous sweep (absent, or the same size and tail): a period at
   * least since its last change. A ring just marked for a first append, or created empty by a read
   * after the marking, is never a candidate at the first sweep that sees it: the append lands first.
   */
  private boolean quiet(String ring, Map<String, Long> seenTails) {
    long[] here = TopicRetire.ringHere(hz, ring);
    // absent: -2; empty: -4 - tail (tail >= -1, so <= -3); holding items: the tail (>= 0)
    long state = here == null ? -2 : here[0] == 0 ? -4 - here[1] : here[1];
    seenTails.put(ring, state);
    Long before = tails.get(ring);
    return before != null && before == state;
  }
}
