package dev.switchboard.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import com.hazelcast.partition.PartitionService;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.SwitchboardException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Confirms that this node still belongs to the cluster's majority, by an operation answered by enough
 * members: for what this node read from history before it is delivered. A member cut off from the
 * others is their partition owner until its removal; its copy then holds appends whose backups never
 * arrived (their publishers were never answered), which the majority, promoting the backups, will not
 * have: delivering one would fork the topic for that client. Until its view changes (the member
 * timeout) or it stops hearing the others (half of it) nothing else tells it so. A member answers an
 * operation only while it counts the sender as a member (Hazelcast refuses non-members' operations),
 * so answers from a majority, to operations sent after the read, show the read was of the majority's
 * history. Rounds are shared: a confirmation asked for while a round runs waits for the next one (a
 * round must start after the read it confirms), so a storm of reads costs a round trip per member
 * every round, not per read. Nothing is sent in a one-member cluster or when the quorum is off.
 */
public final class MajorityProbe {
  private static final io.vertx.core.internal.logging.Logger LOG =
      io.vertx.core.internal.logging.LoggerFactory.getLogger(MajorityProbe.class);
  /** How long a round waits for the answers. */
  static final long ROUND_MS = 1000;

  private final io.vertx.core.Vertx vertx;
  private final HazelcastInstance hz;
  private final Quorum quorum;
  private final IMap<String, String> probes;
  private final PartitionService partitions;
  /** A key of the probe map owned by each member (found by trying names; recomputed when owners move). */
  private final Map<UUID, String> keys = new ConcurrentHashMap<>();
  private final Object lock = new Object();
  /** Confirmations waiting for the next round (guarded by lock). */
  private List<Promise<Void>> next = new ArrayList<>();
  private boolean running;

  public MajorityProbe(io.vertx.core.Vertx vertx, HazelcastInstance hz, Quorum quorum) {
    this.vertx = vertx;
    this.hz = hz;
    this.quorum = quorum;
    this.probes = hz.getMap(Addresses.PROBES);
    this.partitions = hz.getPartitionService();
  }

  /**
   * Completes (on {@code ctx}) once a majority answered a round that started after this call; fails with
   * UNAVAILABLE when it does not within {@link #ROUND_MS}.
   */
  public Future<Void> confirm(Context ctx) {
    if (quorum.holds(1)) {
      return Future.succeededFuture(); // one member is enough: nothing to ask
    }
    Promise<Void> p = Promise.promise();
    boolean start;
    synchronized (lock) {
      next.add(p);
      start = !running;
      running |= start;
    }
    if (start) {
      round();
    }
    Promise<Void> on = Promise.promise();
    p.future().onComplete(ar -> ctx.runOnContext(v -> on.handle(ar)));
    return on.future();
  }

  private void round() {
    List<Promise<Void>> waiting;
    synchronized (lock) {
      waiting = next;
      next = new ArrayList<>();
    }
    Promise<Void> done = Promise.promise();
    // a round that cannot be confirmed fails when its time is up (set first: nothing below may leave it open)
    vertx.setTimer(ROUND_MS, t -> done.tryFail(new SwitchboardException(ErrorCode.UNAVAILABLE,
        "this node is cut off from the cluster's majority; retry on another node")));
    try {
      AtomicInteger answered = new AtomicInteger(1); // this member
      if (quorum.holds(1)) {
        done.tryComplete();
      }
      for (Member m : hz.getCluster().getMembers()) {
        String key = m.localMember() || m.isLiteMember() ? null : keyOwnedBy(m);
        if (key == null) {
          continue;
        }
        // answered on Hazelcast's response thread: counting needs no other (and the common pool would
        // start a thread per callback on two cores)
        probes.getAsync(key).whenCompleteAsync((v, err) -> {
          if (err == null && quorum.holds(answered.incrementAndGet())) {
            done.tryComplete();
          }
        }, Runnable::run);
      }
    } catch (RuntimeException e) {
      LOG.warn("majority probe failed to start: " + e);
      done.tryFail(new SwitchboardException(ErrorCode.UNAVAILABLE, "cluster membership is changing; retry"));
    }
    done.future().onComplete(ar -> {
      waiting.forEach(w -> w.handle(ar));
      boolean again;
      synchronized (lock) {
        again = !next.isEmpty();
        running = again;
      }
      if (again) {
        // not on the thread that completed this round: Hazelcast's response threads may not call out
        vertx.runOnContext(v -> round());
      }
    });
  }

  /** A key of the probe map whose partition {@code m} owns now, or null when none is found. */
  private String keyOwnedBy(Member m) {
    String key = keys.get(m.getUuid());
    if (key != null && m.equals(partitions.getPartition(key).getOwner())) {
      return key;
    }
    for (int i = 0; i < 10_000; i++) {
      String candidate = "probe-" + i;
      if (m.equals(partitions.getPartition(candidate).getOwner())) {
        keys.put(m.getUuid(), candidate);
        return candidate;
      }
    }
    return null; // owns no partition (yet): it cannot confirm anything
  }
}
