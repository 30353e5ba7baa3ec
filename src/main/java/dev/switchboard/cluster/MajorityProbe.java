package dev.switchboard.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.IExecutorService;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.SwitchboardException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionStage;
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
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(MajorityProbe.class);
  private final io.vertx.core.Vertx vertx;
  private final HazelcastInstance hz;
  private final Quorum quorum;
  private final IExecutorService probes;
  /**
   * How long a round waits for the answers: a side that stops hearing the others no longer serves
   * after that anyway, and a partition migrating (a member joined) can hold an answer for seconds.
   */
  private final long roundMs;
  private final Object lock = new Object();
  /** Confirmations waiting for the next round (guarded by lock). */
  private List<Promise<Void>> next = new ArrayList<>();
  private boolean running;

  public MajorityProbe(io.vertx.core.Vertx vertx, HazelcastInstance hz, Quorum quorum) {
    this.vertx = vertx;
    this.hz = hz;
    this.quorum = quorum;
    this.probes = hz.getExecutorService(Addresses.PROBES);
    this.roundMs = quorum.toleranceMs();
  }

  /**
   * Completes (on {@code ctx}) once a majority answered a round that started after this call; fails with
   * UNAVAILABLE when it does not within the quorum's tolerance (half the member timeout).
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
    // this member counts when it is a data member; a gateway (lite member) is not one of those the
    // majority is made of, so there every answer must come from the data members
    AtomicInteger answered = new AtomicInteger(hz.getCluster().getLocalMember().isLiteMember() ? 0 : 1);
    long deadline = System.nanoTime() + roundMs * 1_000_000;
    // judged again every 100 ms as well as on every answer: a member that announced its departure
    // meanwhile is no longer waited for; a round that cannot be confirmed fails when its time is up
    vertx.setPeriodic(0, 100, t -> {
      if (quorum.holdsAmongStaying(answered.get())) {
        done.tryComplete();
      } else if (System.nanoTime() > deadline) {
        done.tryFail(new SwitchboardException(ErrorCode.UNAVAILABLE,
            "no majority of the cluster answered this node in time; retry on another node"));
      }
      if (done.future().isComplete()) {
        vertx.cancelTimer(t);
      }
    });
    try {
      for (Member m : hz.getCluster().getMembers()) {
        if (m.localMember() || m.isLiteMember() || quorum.leaving(m)) {
          continue;
        }
        // a task to the member itself (not a partition operation: a member that just joined owns no
        // partition yet); answered on Hazelcast's response thread, where counting needs no other
        // (the common pool would start a thread per callback on two cores)
        ((CompletionStage<Boolean>) probes.submitToMember(new Ping(), m)).whenCompleteAsync((v, err) -> {
          if (err == null && quorum.holdsAmongStaying(answered.incrementAndGet())) {
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

  /** What a member runs for the probe: nothing. It answers only while it counts the sender as a member. */
  static final class Ping implements Callable<Boolean>, Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public Boolean call() {
      return Boolean.TRUE;
    }
  }
}
