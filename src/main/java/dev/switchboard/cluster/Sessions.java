package dev.switchboard.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastJsonValue;
import com.hazelcast.map.IMap;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import com.hazelcast.partition.PartitionService;
import dev.switchboard.topics.Subscriptions;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Resumable sessions (PROTOCOL.md section 7) in a Hazelcast IMap, one entry per session id:
 * {@code {"conn", "user", "topics", "ops"}}, the owning connection first, then the user and, per
 * subscribed topic, the last position delivered. A live connection refreshes its entry while its
 * positions change (and before the TTL runs out), so a node crash loses at most the last few
 * seconds of positions: the replay may then repeat events, which clients drop by offset.
 *
 * <p><b>One owner.</b> Every change is an entry processor on the session's partition that applies
 * only for the entry's owner ({@code conn}): a resume {@linkplain #claim claims} the session for the
 * new connection (and fails when there is none: never stored, expired, or ended), and from then on
 * only that connection's writes and end apply. An older connection of the same session (half-open,
 * closed seconds later) is fenced: its writes, its close-time save and its end change nothing. A
 * brand-new session's first write creates the entry (only when absent); an end leaves a tombstone
 * owned by nobody for {@code session_ttl}, so that nothing brings an ended session back.
 *
 * <p>Every write sets the entry's time-to-live to {@code session_ttl} itself (not only the map's
 * configuration, which a member without it, such as an example worker, would not apply). The
 * processors are {@link IdentifiedDataSerializable} with their own factory, which every member must
 * have ({@link #register}, from HazelcastSetup.hazelcastConfig).
 */
public final class Sessions {
  /** How often a connection with new positions writes them. */
  public static final long SAVE_EVERY_MS = 2000;
  /** What an end leaves: owned by no connection, resumed by none. */
  static final String TOMBSTONE = "{\"conn\":null,\"ended\":true}";

  private final HazelcastInstance hz;
  private final IMap<String, HazelcastJsonValue> map;
  private final long ttlMs;

  public Sessions(HazelcastInstance hz, long ttlMs) {
    this.hz = hz;
    this.map = hz.getMap(Addresses.SESSIONS);
    this.ttlMs = ttlMs;
  }

  public boolean enabled() {
    return ttlMs > 0;
  }

  public long ttlMs() {
    return ttlMs;
  }

  /** A stored session: its user and positions by topic (null position: subscribed, nothing delivered yet). */
  public record Stored(String user, Map<String, Subscriptions.Position> topics, JsonObject ops) {
  }

  /** The session as stored now, or null (none, or ended); reads only (a resume {@linkplain #claim claims}). */
  public Future<Stored> load(Context ctx, String sessionId) {
    if (!enabled()) {
      return Future.succeededFuture(null);
    }
    return HzFutures.on(ctx, map.getAsync(sessionId)).map(v -> v == null ? null : decode(v.getValue()));
  }

  /**
   * Takes the session over for connection {@code conn} of {@code user} and returns it as it was
   * stored; null, and nothing changed, when there is none (never stored, expired, ended) or it is
   * another user's. From then on only {@code conn}'s writes apply (an older connection is fenced).
   */
  public Future<Stored> claim(Context ctx, String sessionId, String user, String conn) {
    if (!enabled()) {
      return Future.succeededFuture(null);
    }
    return HzFutures.on(ctx, map.submitToKey(sessionId, new SessionProcessors.Claim(user, conn, ttlMs)))
        .map(v -> v == null ? null : decode(v));
  }

  private static Stored decode(String value) {
    JsonObject o = new JsonObject(value);
    if (o.getBoolean("ended", false)) {
      return null;
    }
    Map<String, Subscriptions.Position> topics = new LinkedHashMap<>();
    JsonObject t = o.getJsonObject("topics", new JsonObject());
    for (String topic : t.fieldNames()) {
      JsonObject p = t.getJsonObject(topic);
      topics.put(topic, p == null ? null : new Subscriptions.Position(p.getLong("offset"), p.getString("epoch")));
    }
    return new Stored(o.getString("user"), topics, o.getJsonObject("ops", new JsonObject()));
  }

  /** A session entry: its owning connection (first, see {@link #owned}), the user, the positions by topic and the operations followed. */
  public static String encode(String conn, String user, Map<String, Subscriptions.Position> topics, JsonObject ops) {
    JsonObject t = new JsonObject();
    topics.forEach((topic, p) -> t.put(topic, p == null ? null
        : new JsonObject().put("offset", p.offset()).put("epoch", p.epoch())));
    return new JsonObject().put("conn", conn).put("user", user).put("topics", t)
        .put("ops", ops == null ? new JsonObject() : ops).encode();
  }

  /** Whether a stored value belongs to connection {@code conn}: a prefix test, no parsing (encode writes conn first). */
  static boolean owned(HazelcastJsonValue stored, String conn) {
    if (stored == null) {
      return false;
    }
    String v = stored.getValue();
    int n = 9 + conn.length();
    // {"conn":"<conn>",  (connection ids are [A-Za-z0-9_-]: nothing escaped)
    return v.length() > n + 1 && v.startsWith("{\"conn\":\"") && v.startsWith(conn, 9)
        && v.charAt(n) == '"' && v.charAt(n + 1) == ',';
  }

  /**
   * Writes sessions as they are, unfenced (one batched put, the map's time-to-live): for the writes
   * of live clients, see SessionKeeper#save. The values carry their connection as owner.
   */
  public Future<Void> putAll(Context ctx, Map<String, String> values) {
    if (!enabled() || values.isEmpty()) {
      return Future.succeededFuture();
    }
    Map<String, HazelcastJsonValue> entries = new HashMap<>(values.size() * 2);
    values.forEach((k, v) -> entries.put(k, new HazelcastJsonValue(v)));
    return HzFutures.on(ctx, map.setAllAsync(entries));
  }

  /** One session write of a batch: its value is written only while {@code conn} owns the session (or, with {@code create}, when there is none). */
  public record Write(String sessionId, String conn, String value, boolean create) {
  }

  /**
   * Writes a batch of sessions: one entry processor per partition, carrying only that partition's
   * values (one processor for the whole batch would be backed up whole to every partition it
   * touches). Each write applies only for its session's owner, and sets the session's time-to-live.
   * Completes with the ids of the sessions whose write was refused (owned by another connection,
   * or gone); fails if any part failed (the caller writes them all again: a write is idempotent).
   */
  public Future<Set<String>> saveAll(Context ctx, Collection<Write> writes) {
    if (!enabled() || writes.isEmpty()) {
      return Future.succeededFuture(Set.of());
    }
    PartitionService partitions = hz.getPartitionService();
    Map<Integer, List<Write>> byPartition = new HashMap<>();
    for (Write w : writes) {
      byPartition.computeIfAbsent(partitions.getPartition(w.sessionId()).getPartitionId(), p -> new ArrayList<>(1)).add(w);
    }
    List<Future<?>> parts = new ArrayList<>(byPartition.size());
    Set<String> refused = new HashSet<>();
    for (List<Write> part : byPartition.values()) {
      SessionProcessors.Save save = new SessionProcessors.Save(part, ttlMs);
      if (part.size() == 1) {
        // the usual case: one key, a direct operation (synchronous backup)
        String id = part.get(0).sessionId();
        parts.add(HzFutures.on(ctx, map.submitToKey(id, save)).map(ok -> {
          if (!Boolean.TRUE.equals(ok)) {
            refused.add(id);
          }
          return null;
        }));
      } else {
        Set<String> keys = new HashSet<>();
        part.forEach(w -> keys.add(w.sessionId()));
        parts.add(HzFutures.on(ctx, map.submitToKeys(keys, save)).map(results -> {
          keys.forEach(id -> {
            if (!Boolean.TRUE.equals(results.get(id))) {
              refused.add(id);
            }
          });
          return null;
        }));
      }
    }
    // join, not all: every part has landed (or failed) before the writer sends its next batch, so
    // a slow part never lands after a newer write
    return Future.join(parts).map(cf -> refused);
  }

  /**
   * A clean close (1000) ends the session, if connection {@code conn} owns it: a tombstone replaces
   * it for {@code session_ttl}. Completes with whether it did.
   */
  public Future<Boolean> end(Context ctx, String sessionId, String conn) {
    if (!enabled()) {
      return Future.succeededFuture(false);
    }
    return HzFutures.on(ctx, map.submitToKey(sessionId, new SessionProcessors.End(conn, ttlMs)));
  }

  // ------------------------------------------------------------------ entry processors
}
