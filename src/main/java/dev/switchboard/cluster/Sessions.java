package dev.switchboard.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastJsonValue;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.map.IMap;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.DataSerializableFactory;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import com.hazelcast.partition.PartitionService;
import dev.switchboard.topics.Subscriptions;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

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
 * have ({@link #register}, from Node.hazelcastConfig).
 */
public final class Sessions {
  /** How often a connection with new positions writes them. */
  public static final long SAVE_EVERY_MS = 2000;
  /** Hazelcast data-serializable factory id of the session processors (unique among the cluster's factories). */
  static final int FACTORY_ID = 0x5b02;
  private static final int CLAIM = 1;
  private static final int SAVE = 2;
  private static final int END = 3;
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

  /** Lets a member (de)serialise the session processors. */
  public static Config register(Config hz) {
    DataSerializableFactory factory = type -> switch (type) {
      case CLAIM -> new Claim();
      case SAVE -> new Save();
      case END -> new End();
      default -> null;
    };
    hz.getSerializationConfig().addDataSerializableFactory(FACTORY_ID, factory);
    return hz;
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
    return HzFutures.on(ctx, map.submitToKey(sessionId, new Claim(user, conn, ttlMs)))
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
      Save save = new Save(part, ttlMs);
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
    return HzFutures.on(ctx, map.submitToKey(sessionId, new End(conn, ttlMs)));
  }

  // ------------------------------------------------------------------ entry processors

  /** What every processor shares: its factory, and the time-to-live its writes set. */
  private abstract static class Processor<R> implements EntryProcessor<String, HazelcastJsonValue, R>,
      IdentifiedDataSerializable {
    long ttlMs;

    @Override
    public final int getFactoryId() {
      return FACTORY_ID;
    }

    /** Sets the value with the session's time-to-live (a write refreshes it). */
    final void store(Map.Entry<String, HazelcastJsonValue> entry, String value) {
      HazelcastJsonValue v = new HazelcastJsonValue(value);
      if (entry instanceof ExtendedMapEntry<String, HazelcastJsonValue> e) {
        e.setValue(v, ttlMs, TimeUnit.MILLISECONDS);
      } else {
        entry.setValue(v);
      }
    }
  }

  /** Makes a connection the session's owner and returns the stored value, or null (none, ended, another user's). */
  static final class Claim extends Processor<String> {
    private String user;
    private String conn;

    Claim() {
    }

    Claim(String user, String conn, long ttlMs) {
      this.user = user;
      this.conn = conn;
      this.ttlMs = ttlMs;
    }

    @Override
    public int getClassId() {
      return CLAIM;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeString(user);
      out.writeString(conn);
      out.writeLong(ttlMs);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      user = in.readString();
      conn = in.readString();
      ttlMs = in.readLong();
    }

    @Override
    public String process(Map.Entry<String, HazelcastJsonValue> entry) {
      HazelcastJsonValue stored = entry.getValue();
      if (stored == null) {
        return null;
      }
      JsonObject o;
      try {
        o = new JsonObject(stored.getValue());
      } catch (RuntimeException e) {
        return null;
      }
      if (o.getBoolean("ended", false) || !user.equals(o.getString("user"))) {
        return null;
      }
      JsonObject owned = new JsonObject().put("conn", conn);
      o.forEach(f -> {
        if (!"conn".equals(f.getKey())) {
          owned.put(f.getKey(), f.getValue());
        }
      });
      store(entry, owned.encode());
      return stored.getValue();
    }
  }

  /** Writes the sessions of one partition, each only for its owner (or when absent, for a creating write). */
  static final class Save extends Processor<Boolean> {
    private String[] ids;
    private String[] conns;
    private String[] values;
    private boolean[] create;
    /** Index by session id; built once (the processor may be shared by the partition threads of a member). */
    private Map<String, Integer> index;

    Save() {
    }

    Save(List<Write> writes, long ttlMs) {
      int n = writes.size();
      ids = new String[n];
      conns = new String[n];
      values = new String[n];
      create = new boolean[n];
      for (int i = 0; i < n; i++) {
        Write w = writes.get(i);
        ids[i] = w.sessionId();
        conns[i] = w.conn();
        values[i] = w.value();
        create[i] = w.create();
      }
      this.ttlMs = ttlMs;
      index();
    }

    private void index() {
      if (ids.length > 1) {
        index = new HashMap<>(ids.length * 2);
        for (int i = 0; i < ids.length; i++) {
          index.put(ids[i], i);
        }
      }
    }

    @Override
    public int getClassId() {
      return SAVE;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeLong(ttlMs);
      out.writeInt(ids.length);
      for (int i = 0; i < ids.length; i++) {
        out.writeString(ids[i]);
        out.writeString(conns[i]);
        out.writeString(values[i]);
        out.writeBoolean(create[i]);
      }
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      ttlMs = in.readLong();
      int n = in.readInt();
      ids = new String[n];
      conns = new String[n];
      values = new String[n];
      create = new boolean[n];
      for (int i = 0; i < n; i++) {
        ids[i] = in.readString();
        conns[i] = in.readString();
        values[i] = in.readString();
        create[i] = in.readBoolean();
      }
      index();
    }

    @Override
    public Boolean process(Map.Entry<String, HazelcastJsonValue> entry) {
      Integer i = index == null ? (ids.length == 1 && ids[0].equals(entry.getKey()) ? Integer.valueOf(0) : null)
          : index.get(entry.getKey());
      if (i == null) {
        return false;
      }
      HazelcastJsonValue stored = entry.getValue();
      if (stored == null ? !create[i] : !owned(stored, conns[i])) {
        return false; // another connection's (or ended, or expired): fenced
      }
      store(entry, values[i]);
      return true;
    }
  }

  /** Ends a session its connection still owns: a tombstone owned by nobody replaces it. */
  static final class End extends Processor<Boolean> {
    private String conn;

    End() {
    }

    End(String conn, long ttlMs) {
      this.conn = conn;
      this.ttlMs = ttlMs;
    }

    @Override
    public int getClassId() {
      return END;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeString(conn);
      out.writeLong(ttlMs);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      conn = in.readString();
      ttlMs = in.readLong();
    }

    @Override
    public Boolean process(Map.Entry<String, HazelcastJsonValue> entry) {
      if (!owned(entry.getValue(), conn)) {
        return false;
      }
      store(entry, TOMBSTONE);
      return true;
    }
  }
}
