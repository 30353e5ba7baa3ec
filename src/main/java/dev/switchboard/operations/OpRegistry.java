package dev.switchboard.operations;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastJsonValue;
import com.hazelcast.map.IMap;
import com.hazelcast.query.Predicates;
import dev.switchboard.cluster.Addresses;
import dev.switchboard.cluster.HzFutures;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The cluster-wide operation registry (Hazelcast IMaps): op id → user, method, state, stage, seq
 * and the node running it; and the dedupe keys of operations in flight. Finished operations stay
 * for op_retention, then expire.
 */
public final class OpRegistry {
  private final Vertx vertx;
  private final IMap<String, HazelcastJsonValue> ops;
  private final IMap<String, String> dedupe;
  /** user → live operations per worker member (see {@link OpSlots}). */
  private final IMap<String, String> slots;
  private final long retentionMs;

  private final long staleClaimMs;

  public OpRegistry(Vertx vertx, HazelcastInstance hz, long retentionMs) {
    this(vertx, hz, retentionMs, STALE_CLAIM_MS);
  }

  OpRegistry(Vertx vertx, HazelcastInstance hz, long retentionMs, long staleClaimMs) {
    this.vertx = vertx;
    this.ops = hz.getMap(Addresses.OPS);
    this.dedupe = hz.getMap(Addresses.OP_DEDUPE);
    this.slots = hz.getMap(Addresses.OP_SLOTS);
    this.retentionMs = retentionMs;
    this.staleClaimMs = staleClaimMs;
  }

  /**
   * A worker's status write (final ones expire after op_retention). It does not apply once the entry
   * was marked lost ({@link #markLost}): its clients were told NODE_LOST, and the entry keeps saying so.
   */
  public Future<Void> put(Context ctx, JsonObject op) {
    boolean done = isFinal(op.getString("state"));
    return HzFutures.on(ctx, ops.submitToKey(op.getString("op_id"),
        new OpProcessors.Write(op.encode(), done ? Math.max(1, retentionMs) : 0))).mapEmpty();
  }

  /**
   * The worker running {@code opId} left: marks the entry lost unless it is final, and returns it as
   * it then is (a final one carries the kept terminal its clients get instead of NODE_LOST). An
   * absent entry (the worker left before its first write) is recorded from {@code absent} when given.
   */
  public Future<JsonObject> markLost(Context ctx, String opId, JsonObject absent) {
    return HzFutures.on(ctx, ops.submitToKey(opId,
            new OpProcessors.MarkLost(absent == null ? null : absent.encode(), Math.max(1, retentionMs))))
        .map(v -> v == null ? null : new JsonObject(v));
  }

  public Future<JsonObject> get(Context ctx, String opId) {
    return HzFutures.on(ctx, ops.getAsync(opId)).map(v -> v == null ? null : new JsonObject(v.getValue()));
  }

  /** The user's operations that have not finished. */
  public Future<List<JsonObject>> live(String user) {
    return vertx.executeBlocking(() -> {
      List<JsonObject> out = new ArrayList<>();
      for (HazelcastJsonValue v : ops.values(Predicates.equal("user", user))) {
        JsonObject o = new JsonObject(v.getValue());
        if (!isFinal(o.getString("state"))) {
          out.add(o);
        }
      }
      out.sort((a, b) -> Long.compare(a.getLong("created_at", 0L), b.getLong("created_at", 0L)));
      return out;
    }, false);
  }

  /**
   * Operations matching every given filter (null: any), newest first, at most {@code limit}: for the
   * admin API. Runs the query off the event loop (a full pass over the registry without a user filter).
   */
  public Future<List<JsonObject>> query(String state, String user, String method, String node, int limit) {
    return vertx.executeBlocking(() -> {
      List<com.hazelcast.query.Predicate<String, HazelcastJsonValue>> all = new ArrayList<>();
      if (state != null) {
        all.add(Predicates.equal("state", state));
      }
      if (user != null) {
        all.add(Predicates.equal("user", user));
      }
      if (method != null) {
        all.add(Predicates.equal("method", method));
      }
      if (node != null) {
        all.add(Predicates.equal("node", node));
      }
      @SuppressWarnings("unchecked")
      com.hazelcast.query.Predicate<String, HazelcastJsonValue> p = all.isEmpty() ? Predicates.alwaysTrue()
          : Predicates.and(all.toArray(new com.hazelcast.query.Predicate[0]));
      List<JsonObject> out = new ArrayList<>();
      for (HazelcastJsonValue v : ops.values(p)) {
        out.add(new JsonObject(v.getValue()));
      }
      out.sort((a, b) -> Long.compare(b.getLong("created_at", 0L), a.getLong("created_at", 0L)));
      return out.size() > limit ? new ArrayList<>(out.subList(0, limit)) : out;
    }, false);
  }

  /**
   * Claims a dedupe key for {@code opId}; the future holds the op id already holding it, or null.
   * Asynchronous (no worker thread per claim); completes on the caller's context.
   */
  public Future<String> claim(String key, String opId) {
    return HzFutures.on(vertx.getOrCreateContext(), dedupe.submitToKey(key, new OpProcessors.PutIfAbsent(opId)));
  }

  public void release(String key, String opId) {
    if (key != null) {
      // remove(key, value) has no async form; a one-entry processor is the same single operation
      dedupe.submitToKey(key, new OpProcessors.RemoveIf(opId));
    }
  }

  /**
   * Takes one of the user's {@code max} operation slots for {@code opId}, counted on this worker's
   * {@code member} (see {@link OpSlots}): true when taken. A refusal that counts members no longer in
   * the cluster drops them from the entry (their operations ended with them) and asks once more.
   */
  public Future<Boolean> acquireSlot(Context ctx, String user, String opId, String member, int max,
                                     java.util.function.Predicate<String> isMember) {
    return HzFutures.on(ctx, slots.submitToKey(user, new OpSlots.Acquire(opId, member, max))).compose(refused -> {
      if (refused == null) {
        return Future.succeededFuture(true);
      }
      List<String> gone = new ArrayList<>();
      for (String m : refused.split("\t")) {
        if (!m.isEmpty() && !isMember.test(m)) {
          gone.add(m);
        }
      }
      if (gone.isEmpty()) {
        return Future.succeededFuture(false);
      }
      return HzFutures.on(ctx, slots.submitToKey(user, new OpSlots.DropMembers(gone)))
          .compose(d -> HzFutures.on(ctx, slots.submitToKey(user, new OpSlots.Acquire(opId, member, max))))
          .map(again -> again == null);
    });
  }

  /** Gives back the slot {@link #acquireSlot} took (fire and forget: a lost release is dropped with its member). */
  public void releaseSlot(String user, String opId, String member) {
    slots.submitToKey(user, new OpSlots.Release(opId, member));
  }

  /**
   * A dedupe key this old whose operation the registry does not know was claimed by a start that
   * never reached a worker (its node died between the claim and the send; a live starter releases
   * it within its send timeout, a worker writes the entry before the first frame). The age is the
   * entry's creation time, which the map's per-entry statistics keep (HazelcastSetup#dedupeConfig).
   */
  static final long STALE_CLAIM_MS = 30_000;

  /**
   * Frees the dedupe keys nobody else will: those of operations the registry keeps as final (a
   * worker that died between its final write and its release) and stale claims (see
   * {@link #STALE_CLAIM_MS}). Run by the oldest member every {@link OpHub#CLAIM_SWEEP_MS}; the map
   * holds only the deduplicated operations in flight. The future holds how many were freed.
   */
  public Future<Integer> sweepClaims() {
    return vertx.executeBlocking(() -> {
      java.util.Map<String, String> claims = new java.util.HashMap<>();
      for (java.util.Map.Entry<String, String> e : dedupe.entrySet()) {
        claims.put(e.getKey(), e.getValue());
      }
      java.util.Map<String, HazelcastJsonValue> known = ops.getAll(new java.util.HashSet<>(claims.values()));
      int freed = 0;
      for (java.util.Map.Entry<String, String> c : claims.entrySet()) {
        HazelcastJsonValue op = known.get(c.getValue());
        boolean free;
        if (op != null) {
          free = isFinal(new JsonObject(op.getValue()).getString("state"));
        } else {
          com.hazelcast.core.EntryView<String, String> view = dedupe.getEntryView(c.getKey());
          // no creation time (a member owning it without the dedupe map's config): never stale
          free = view != null && c.getValue().equals(view.getValue()) && view.getCreationTime() > 0
              && System.currentTimeMillis() - view.getCreationTime() > staleClaimMs;
        }
        if (free && dedupe.remove(c.getKey(), c.getValue())) {
          freed++;
        }
      }
      return freed;
    }, false);
  }

  /**
   * Operations that ran on a departed member end as errors (their clients got NODE_LOST), and stop
   * counting against their users' caps.
   */
  public void memberLost(String member) {
    dropSlots(member, 1);
    vertx.executeBlocking(() -> {
      for (HazelcastJsonValue v : ops.values(Predicates.equal("member", member))) {
        JsonObject o = new JsonObject(v.getValue());
        if (!isFinal(o.getString("state"))) {
          // "lost": its seq is the last recorded, not a terminal's (see OpAttach#endedAt); not over a
          // final entry that landed meanwhile
          ops.executeOnKey(o.getString("op_id"), new OpProcessors.MarkLost(null, Math.max(1, retentionMs)));
          String key = o.getString("dedupe");
          if (key != null) {
            dedupe.remove(key, o.getString("op_id"));
          }
        }
      }
      return null;
    }, false);
  }

  /** Right after a member leaves partitions migrate and a pass over the map can fail: retried a few times. */
  private void dropSlots(String member, int attempt) {
    vertx.executeBlocking(() -> slots.executeOnEntries(new OpSlots.DropMembers(List.of(member))), false)
        .onFailure(err -> {
          if (attempt < 8) {
            vertx.setTimer(500L * attempt, t -> dropSlots(member, attempt + 1));
          }
        });
  }

  /** The entry {@link #markLost} records for an operation whose worker left before writing one. */
  static JsonObject lostEntry(String opId, String user, String method, String dedupeKey, long seq, String node,
                              String member) {
    return new JsonObject().put("op_id", opId).put("user", user).put("method", method).put("state", "error")
        .put("node", node).put("member", member).put("stage", (String) null).put("seq", seq).put("lost", true)
        .put("dedupe", dedupeKey).put("created_at", System.currentTimeMillis());
  }

  public static boolean isFinal(String state) {
    return "done".equals(state) || "error".equals(state) || "cancelled".equals(state);
  }
}
