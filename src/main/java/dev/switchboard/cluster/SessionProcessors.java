package dev.switchboard.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.core.HazelcastJsonValue;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.DataSerializableFactory;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import dev.switchboard.cluster.Sessions.Write;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The entry processors {@link Sessions} writes through, run on the session's partition: a resume's
 * claim, the fenced save of a batch's sessions of one partition, and the end that leaves a
 * tombstone. Each applies only for the session's owning connection (see {@link Sessions#owned}).
 * IdentifiedDataSerializable: every member registers {@link #register} (crossing the commit that
 * introduced them needs a new cluster name or a full restart, see the README).
 */
public final class SessionProcessors {
  /** Hazelcast data-serializable factory id of the session processors (unique among the cluster's factories). */
  static final int FACTORY_ID = 0x5b02;
  private static final int CLAIM = 1;
  private static final int SAVE = 2;
  private static final int END = 3;

  private SessionProcessors() {
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
      if (stored == null ? !create[i] : !Sessions.owned(stored, conns[i])) {
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
      if (!Sessions.owned(entry.getValue(), conn)) {
        return false;
      }
      store(entry, Sessions.TOMBSTONE);
      return true;
    }
  }
}
