package dev.switchboard.cluster;

import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastJsonValue;
import com.hazelcast.map.IMap;
import dev.switchboard.topics.Subscriptions;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Resumable sessions (PROTOCOL.md section 7) in a Hazelcast IMap with a time-to-live of
 * {@code session_ttl}: the user and, per subscribed topic, the last position delivered. A live
 * connection refreshes its entry while its positions change (and before the TTL runs out), so a
 * node crash loses at most the last few seconds of positions: the replay may then repeat events,
 * which clients drop by offset.
 */
public final class Sessions {
  /** How often a connection with new positions writes them. */
  public static final long SAVE_EVERY_MS = 2000;

  private final IMap<String, HazelcastJsonValue> map;
  private final long ttlMs;

  public Sessions(HazelcastInstance hz, long ttlMs) {
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

  public Future<Stored> load(Context ctx, String sessionId) {
    if (!enabled()) {
      return Future.succeededFuture(null);
    }
    return HzFutures.on(ctx, map.getAsync(sessionId)).map(v -> {
      if (v == null) {
        return null;
      }
      JsonObject o = new JsonObject(v.getValue());
      Map<String, Subscriptions.Position> topics = new LinkedHashMap<>();
      JsonObject t = o.getJsonObject("topics", new JsonObject());
      for (String topic : t.fieldNames()) {
        JsonObject p = t.getJsonObject(topic);
        topics.put(topic, p == null ? null : new Subscriptions.Position(p.getLong("offset"), p.getString("epoch")));
      }
      return new Stored(o.getString("user"), topics, o.getJsonObject("ops", new JsonObject()));
    });
  }

  /** A session entry: the user, the positions by topic and the operations followed. */
  public static HazelcastJsonValue encode(String user, Map<String, Subscriptions.Position> topics, JsonObject ops) {
    JsonObject t = new JsonObject();
    topics.forEach((topic, p) -> t.put(topic, p == null ? null
        : new JsonObject().put("offset", p.offset()).put("epoch", p.epoch())));
    return new HazelcastJsonValue(new JsonObject().put("user", user).put("topics", t)
        .put("ops", ops == null ? new JsonObject() : ops).encode());
  }

  /**
   * Writes many sessions in one call (one operation per partition); they live for the map's
   * time-to-live, which is {@code session_ttl} (see Node).
   */
  public Future<Void> saveAll(Context ctx, Map<String, HazelcastJsonValue> entries) {
    if (!enabled() || entries.isEmpty()) {
      return Future.succeededFuture();
    }
    return HzFutures.on(ctx, map.setAllAsync(entries));
  }

  /** A clean close (1000) ends the session. */
  public Future<Void> end(Context ctx, String sessionId) {
    return HzFutures.on(ctx, map.removeAsync(sessionId)).mapEmpty();
  }
}
