package dev.switchboard.operations;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import dev.switchboard.cluster.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/**
 * Operations on one node: the registry, the worker that runs operations here, the client side
 * (attachments of this node's connections), and the node's operations address that serves both.
 * Gateways have all of it; an external worker service uses the same class without clients.
 */
public final class OpHub {
  private final Vertx vertx;
  private final String nodeId;
  private final OpRegistry registry;
  private final OpWorker worker;
  private final OpClients clients;
  private final HazelcastInstance hz;

  public OpHub(Vertx vertx, HazelcastInstance hz, String nodeId, int threads, int queued, long orphanMs,
               long retentionMs, boolean withClients) {
    this.vertx = vertx;
    this.hz = hz;
    this.nodeId = nodeId;
    this.registry = new OpRegistry(vertx, hz, retentionMs);
    this.worker = new OpWorker(vertx, nodeId, this::memberId, registry, threads, queued, orphanMs, retentionMs, this::isMember,
        () -> {
          dev.switchboard.cluster.Quorum q = dev.switchboard.cluster.Quorum.of(hz);
          return q == null || q.serving();
        });
    this.clients = withClients ? new OpClients(vertx, nodeId) : null;
    hz.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent e) {
      }

      @Override
      public void memberRemoved(MembershipEvent e) {
        if (!majorityHere()) {
          // this side is cut off, not the others dead: its clients are handed over and re-attach on
          // the majority, which knows whether the operation still runs (a NODE_LOST from here could be
          // the second terminal of an operation that goes on)
          return;
        }
        // membership events, not timeouts: attachments to a dead worker end with NODE_LOST at once
        String dead = e.getMember().getUuid().toString();
        if (clients != null) {
          clients.memberLost(dead);
        }
        worker.memberLost(dead);
        if (oldest()) {
          registry.memberLost(dead);
        }
      }
    });
  }

  /** Whether this member is the cluster's oldest, which cleans up after departed ones. */
  private boolean oldest() {
    return hz.getCluster().getMembers().iterator().next().localMember();
  }

  /**
   * This side holds the majority by its view and has heard from a majority lately. The view alone is
   * not enough: a node cut off from two others removes them one at a time, and after the first
   * removal its view (itself and the other) is still a majority of three, although it has heard from
   * neither for the member timeout. A NODE_LOST from there was the first of two terminals of an
   * operation that went on (the 10-minute partition run).
   */
  private boolean majorityHere() {
    dev.switchboard.cluster.Quorum q = dev.switchboard.cluster.Quorum.of(hz);
    return dev.switchboard.cluster.Quorum.majorityNow(hz) && (q == null || q.serving());
  }

  /** Every so often, attachments whose worker left end even if the membership event never came. */
  static final long SWEEP_MS = 5_000;

  /** How often the oldest member frees dedupe keys nobody else will (see OpRegistry#sweepClaims). */
  static final long CLAIM_SWEEP_MS = 10_000;

  /** Starts serving this node's operations address. */
  public Future<Void> start() {
    vertx.setPeriodic(CLAIM_SWEEP_MS, t -> {
      if (oldest() && majorityHere()) {
        registry.sweepClaims();
      }
    });
    if (clients != null) {
      vertx.setPeriodic(SWEEP_MS, t -> {
        if (majorityHere()) {
          clients.sweep(this::isMember);
        }
      });
    }
    return vertx.eventBus().<JsonObject>consumer(Addresses.opsNode(nodeId), m -> {
      if ("frame".equals(m.body().getString("op"))) {
        if (clients == null) {
          m.reply(new JsonObject());
        } else {
          clients.onFrame(m);
        }
      } else {
        worker.onContext(() -> worker.control(m)); // runs are confined to the worker's context
      }
    }).completion();
  }

  /**
   * Whether this node's side of the cluster serves now (see Quorum#serving): a side cut off from the
   * majority, or just thawed from a pause, starts no operation. What it would write (the session's
   * hold on the operation, the registry's record) lands in copies the merge discards, and its clients
   * are handed to the majority, whose copies know nothing of the operation: no terminal would ever
   * reach them. True for a member configured without Switchboard's quorum.
   */
  public boolean serving() {
    dev.switchboard.cluster.Quorum q = dev.switchboard.cluster.Quorum.of(hz);
    return q == null || q.serving();
  }

  /** Whether a Hazelcast member (by uuid) is in the cluster now; member uuids are never reused. */
  public boolean isMember(String uuid) {
    if (uuid == null) {
      return false;
    }
    for (com.hazelcast.cluster.Member m : hz.getCluster().getMembers()) {
      if (uuid.equals(m.getUuid().toString())) {
        return true;
      }
    }
    return false;
  }

  public String nodeId() {
    return nodeId;
  }

  /** This node's Hazelcast member, read each time: a member that merged back after a split has a new uuid. */
  public String memberId() {
    return hz.getCluster().getLocalMember().getUuid().toString();
  }

  public OpRegistry registry() {
    return registry;
  }

  public OpWorker worker() {
    return worker;
  }

  public OpClients clients() {
    return clients;
  }
}
