package dev.switchboard.cluster;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastJsonValue;
import com.hazelcast.map.IMap;
import com.hazelcast.query.Predicates;
import dev.switchboard.protocol.Json;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The cluster-wide registries kept in Hazelcast IMaps: live devices (user → device → node,
 * connection), topic presence, and nodes. Entries carry the Hazelcast member that owns them; when
 * a member leaves, the oldest surviving member removes its entries (membership events, not
 * timeouts) and reports the presence it removed so that leave frames can be sent.
 */
public final class Directory {
  /** A device connection as registered. */
  public record Device(String user, String device, String node, String member, String conn, long at) {
  }

  /** A topic member as registered. */
  public record Member(String topic, String user, String device, String node, String member, String conn) {
    static Member of(HazelcastJsonValue v) {
      JsonObject o = new JsonObject(v.getValue());
      return new Member(o.getString("topic"), o.getString("user"), o.getString("device"), o.getString("node"),
          o.getString("member"), o.getString("conn"));
    }

    HazelcastJsonValue json() {
      return new HazelcastJsonValue(new JsonObject().put("topic", topic).put("user", user).put("device", device)
          .put("node", node).put("member", member).put("conn", conn).encode());
    }
  }

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Directory.class);
  static final int CLEANUP_ATTEMPTS = 8;

  private final Vertx vertx;
  private final HazelcastInstance hz;
  private final String nodeId;
  /** user → that user's live devices (see {@link DeviceRegistry}). */
  private final IMap<String, String> devices;
  private final IMap<String, HazelcastJsonValue> presence;
  private final IMap<String, HazelcastJsonValue> nodes;
  private final String role;

  public Directory(Vertx vertx, HazelcastInstance hz, String nodeId, Consumer<List<Member>> onMembersLost) {
    this(vertx, hz, nodeId, "all", onMembersLost);
  }

  /** @param role this node's {@code node.role} as set ({@code all}, {@code gateway}, {@code data}): in its node entry */
  public Directory(Vertx vertx, HazelcastInstance hz, String nodeId, String role, Consumer<List<Member>> onMembersLost) {
    this.role = role;
    this.vertx = vertx;
    this.hz = hz;
    this.nodeId = nodeId;
    this.devices = hz.getMap(Addresses.DEVICES);
    this.presence = hz.getMap(Addresses.PRESENCE);
    this.nodes = hz.getMap(Addresses.NODES);
    hz.getCluster().addMembershipListener(new MembershipListener() {
      @Override
      public void memberAdded(MembershipEvent e) {
      }

      @Override
      public void memberRemoved(MembershipEvent e) {
        String dead = e.getMember().getUuid().toString();
        // only the oldest survivor cleans up, so leave frames go out once
        if (!hz.getCluster().getMembers().iterator().next().localMember()) {
          return;
        }
        cleanupWithRetry(dead, onMembersLost, 1);
      }
    });
  }

  /**
   * This node's Hazelcast member, read each time: a member that merged back after a split has a new
   * uuid, and entries carrying the old one would be taken for a departed member's.
   */
  public String memberId() {
    return hz.getCluster().getLocalMember().getUuid().toString();
  }

  /**
   * Right after a member leaves, partitions migrate and queries can fail ("not member"): retry a few
   * times, then give up with a warning (the device and node entries then stay until replaced).
   */
  private void cleanupWithRetry(String dead, Consumer<List<Member>> onMembersLost, int attempt) {
    vertx.executeBlocking(() -> cleanup(dead), false).onComplete(ar -> {
      if (ar.succeeded()) {
        onMembersLost.accept(ar.result());
      } else if (attempt < CLEANUP_ATTEMPTS) {
        vertx.setTimer(500L * attempt, t -> cleanupWithRetry(dead, onMembersLost, attempt + 1));
      } else {
        LOG.warn("entries of departed member " + dead + " could not be cleaned up: " + ar.cause().getMessage());
      }
    });
  }

  private List<Member> cleanup(String deadMember) {
    DeviceRegistry.dropMember(devices, deadMember);
    nodes.removeAll(Predicates.equal("member", deadMember));
    List<Member> lost = new ArrayList<>();
    for (HazelcastJsonValue v : presence.values(Predicates.equal("member", deadMember))) {
      lost.add(Member.of(v));
    }
    presence.removeAll(Predicates.equal("member", deadMember));
    return lost;
  }

  private static String key(String a, String b) {
    return a + Addresses.US + b;
  }

  // ------------------------------------------------------------------ devices

  /** Registers a device connection; the future holds the connection it replaced, if any. */
  public Future<Device> connected(Context ctx, String user, String device, String conn) {
    return HzFutures.on(ctx, devices.submitToKey(user,
            new DeviceRegistry.Connect(device, nodeId, memberId(), conn, System.currentTimeMillis())))
        .map(old -> {
          if (old == null) {
            return null;
          }
          List<Device> parsed = DeviceRegistry.parse(user, old);
          return parsed.isEmpty() || parsed.get(0).conn().equals(conn) ? null : parsed.get(0);
        });
  }

  /** A device connection this node holds. */
  public record Held(String user, String device, String conn) {
  }

  /** How many re-assertions are in flight at once (a node may hold tens of thousands of connections). */
  static final int REASSERT_BATCH = 256;

  /**
   * Writes the devices of this node's live connections again where the registry has no line for
   * them. A registration can be acknowledged and still lost: a frozen member that owned the user's
   * partition runs the queued write on its own copy when it thaws, answers, and is then removed, and
   * the merge discards that copy while the promoted backup never had the write (chaos, kill,term,stop
   * seed 14). Called after membership changes; a line already there (this connection's, or a newer
   * connection's of that device) is left alone and costs no write. {@code stillHeld} is asked after
   * each write: a connection that closed meanwhile is removed again. Completes with the number of
   * lines written back.
   */
  public Future<Integer> reassertDevices(Context ctx, List<Held> held, java.util.function.Predicate<String> stillHeld) {
    return reassert(ctx, held, 0, stillHeld, 0);
  }

  /** When after a membership change the devices are written back (the merge and migrations settle meanwhile). */
  static final long[] REASSERT_AFTER_MS = {1_000, 3_000, 10_000};

  /**
   * After every membership change (a member joins, leaves, or a side merges back), runs
   * {@link #reassertDevices} at each of {@link #REASSERT_AFTER_MS} with the connections {@code held}
   * then lists.
   */
  public void reassertOnMembershipChanges(java.util.function.Supplier<List<Held>> held,
                                          java.util.function.Predicate<String> stillHeld) {
    afterMembershipChanges(() -> reassertDevices(vertx.getOrCreateContext(), held.get(), stillHeld).onSuccess(n -> {
      if (n > 0) {
        LOG.atWarn().addKeyValue("devices", n)
            .log("{} device connection(s) of this node were missing from the registry and were written back", n);
      }
    }));
  }

  private final java.util.List<Runnable> afterChanges = new java.util.concurrent.CopyOnWriteArrayList<>();

  /**
   * Runs {@code task} at each of {@link #REASSERT_AFTER_MS} after every membership change (a member
   * joins, leaves, or a side merges back), on an event loop: for the writes a change can lose.
   */
  public void afterMembershipChanges(Runnable task) {
    if (afterChanges.isEmpty()) {
      hz.getCluster().addMembershipListener(new MembershipListener() {
        @Override
        public void memberAdded(MembershipEvent e) {
          soon();
        }

        @Override
        public void memberRemoved(MembershipEvent e) {
          soon();
        }

        private void soon() {
          for (long ms : REASSERT_AFTER_MS) {
            vertx.setTimer(ms, t -> afterChanges.forEach(Runnable::run));
          }
        }
      });
    }
    afterChanges.add(task);
  }

  private Future<Integer> reassert(Context ctx, List<Held> held, int from, java.util.function.Predicate<String> stillHeld,
                                   int written) {
    if (from >= held.size()) {
      return Future.succeededFuture(written);
    }
    List<Future<Boolean>> batch = new ArrayList<>();
    for (Held h : held.subList(from, Math.min(held.size(), from + REASSERT_BATCH))) {
      batch.add(HzFutures.on(ctx, devices.submitToKey(h.user(),
          new DeviceRegistry.Ensure(h.device(), nodeId, memberId(), h.conn(), System.currentTimeMillis())))
          .map(added -> {
            if (added && !stillHeld.test(h.conn())) {
              disconnected(ctx, h.user(), h.device(), h.conn()); // closed while written back
            }
            return added;
          }));
    }
    return Future.join(batch).transform(ar -> {
      int n = written;
      for (Future<Boolean> f : batch) {
        n += f.succeeded() && f.result() ? 1 : 0;
      }
      return reassert(ctx, held, from + REASSERT_BATCH, stillHeld, n);
    });
  }

  /** Removes the device entry if it is still this connection's: one operation on the user's partition. */
  public Future<Boolean> disconnected(Context ctx, String user, String device, String conn) {
    return HzFutures.on(ctx, devices.submitToKey(user, new DeviceRegistry.Disconnect(device, conn)));
  }

  /** The user's live devices, oldest connection first. */
  public Future<List<Device>> devicesOf(String user) {
    return HzFutures.on(vertx.getOrCreateContext(), devices.getAsync(user)).map(v -> {
      List<Device> out = DeviceRegistry.parse(user, v);
      out.sort((a, b) -> Long.compare(a.at(), b.at()));
      return out;
    });
  }

  // ------------------------------------------------------------------ presence

  public Future<HazelcastJsonValue> joined(Context ctx, String topic, String user, String device, String conn) {
    return HzFutures.on(ctx, presence.putAsync(key(topic, conn),
        new Member(topic, user, device, nodeId, memberId(), conn).json()));
  }

  /** True when the connection was a member (so a leave is due). */
  public Future<Boolean> left(Context ctx, String topic, String conn) {
    return HzFutures.on(ctx, presence.removeAsync(key(topic, conn))).map(v -> v != null);
  }

  /** Members of a topic grouped by user: {@code user → [device…]}, in first-seen order. */
  public Future<Map<String, List<String>>> members(String topic) {
    return vertx.executeBlocking(() -> {
      Collection<HazelcastJsonValue> values = presence.values(Predicates.equal("topic", topic));
      Map<String, List<String>> byUser = new LinkedHashMap<>();
      for (HazelcastJsonValue v : values) {
        Member m = Member.of(v);
        List<String> devs = byUser.computeIfAbsent(m.user(), u -> new ArrayList<>());
        if (!devs.contains(m.device())) {
          devs.add(m.device());
        }
      }
      return byUser;
    }, false);
  }

  /** A live subscription of this node to a topic whose namespace keeps presence. */
  public record Present(String topic, String user, String device, String conn) {
  }

  /**
   * Writes this node's topic members back where their presence records are missing, or carry an
   * older member id of this node: a record can be acknowledged and lost the way a device line can
   * (see {@link #reassertDevices}), and a node that merged back after a freeze has a new member id,
   * so the survivors' clean-up of its old one removed its records (and sent leave frames) while its
   * subscribers stayed. {@code stillPresent} is asked after each write that added a record: a
   * subscription that ended meanwhile is removed again. Completes with the members added (a join is
   * due for them).
   */
  public Future<List<Member>> reassertPresence(Context ctx, List<Present> held,
                                               java.util.function.Predicate<Present> stillPresent) {
    return reassertPresence(ctx, held, 0, stillPresent, new ArrayList<>());
  }

  private Future<List<Member>> reassertPresence(Context ctx, List<Present> held, int from,
                                                java.util.function.Predicate<Present> stillPresent,
                                                List<Member> added) {
    if (from >= held.size()) {
      return Future.succeededFuture(added);
    }
    List<Future<Member>> batch = new ArrayList<>();
    for (Present p : held.subList(from, Math.min(held.size(), from + REASSERT_BATCH))) {
      Member m = new Member(p.topic(), p.user(), p.device(), nodeId, memberId(), p.conn());
      batch.add(HzFutures.on(ctx, presence.submitToKey(key(p.topic(), p.conn()), new PresenceRecords.Ensure(m.json())))
          .map(found -> {
            if (found != PresenceRecords.ADDED) {
              return null;
            }
            if (!stillPresent.test(p)) {
              left(ctx, p.topic(), p.conn()); // ended while written back
              return null;
            }
            return m;
          }));
    }
    return Future.join(batch).transform(ar -> {
      for (Future<Member> f : batch) {
        if (f.succeeded() && f.result() != null) {
          added.add(f.result());
        }
      }
      return reassertPresence(ctx, held, from + REASSERT_BATCH, stillPresent, added);
    });
  }

  // ------------------------------------------------------------------ nodes

  public Future<Void> announce(Context ctx, int httpPort, int connections, long startedAt) {
    HazelcastJsonValue v = new HazelcastJsonValue(new JsonObject().put("node_id", nodeId).put("member", memberId())
        .put("http_port", httpPort).put("connections", connections).put("started_at", startedAt).put("role", role)
        .encode());
    return HzFutures.on(ctx, nodes.setAsync(nodeId, v));
  }

  public Future<Void> withdraw() {
    return vertx.executeBlocking(() -> {
      nodes.remove(nodeId);
      return null;
    }, false);
  }

  /**
   * Live nodes: only entries whose member is still in the cluster. Each is {@code {node_id, member,
   * http_port, connections, started_at, role}}; a {@code data} node serves no client.
   */
  public Future<JsonArray> nodes() {
    return vertx.executeBlocking(() -> {
      java.util.Set<String> live = new java.util.HashSet<>();
      hz.getCluster().getMembers().forEach(m -> live.add(m.getUuid().toString()));
      JsonArray out = new JsonArray();
      for (HazelcastJsonValue v : nodes.values()) {
        JsonObject o = new JsonObject(v.getValue());
        if (live.contains(o.getString("member"))) {
          out.add(o);
        }
      }
      return out;
    }, false);
  }

  static ObjectNode object() {
    return Json.MAPPER.createObjectNode();
  }
}
