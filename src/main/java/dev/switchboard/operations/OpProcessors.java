package dev.switchboard.operations;

import com.hazelcast.config.Config;
import com.hazelcast.core.HazelcastJsonValue;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.map.ExtendedMapEntry;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.DataSerializableFactory;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The entry processors the operation registry writes through, run on the operation's partition, so
 * that a worker's write and a survivor's "lost" verdict cannot both win: a worker's status write
 * applies unless the entry was already marked lost (its node was given up: its clients got
 * NODE_LOST, and a late write of the dead worker, still in flight when it died, must not turn the
 * entry into "done" behind their back); the lost mark applies unless the entry is already final
 * (then the final entry, with its kept terminal, is what the clients get). IdentifiedDataSerializable:
 * every member registers {@link #register}.
 */
public final class OpProcessors {
  /** Hazelcast data-serializable factory id (unique among the cluster's factories). */
  static final int FACTORY_ID = 0x5b03;
  private static final int WRITE = 1;
  private static final int MARK_LOST = 2;
  static final int SLOT_ACQUIRE = 3;
  static final int SLOT_RELEASE = 4;
  static final int SLOT_DROP_MEMBERS = 5;
  private static final int REMOVE_IF = 6;
  private static final int PUT_IF_ABSENT = 7;

  private OpProcessors() {
  }

  /** Lets a member (de)serialise the registry's processors (and the per-user slots', see OpSlots). */
  public static Config register(Config hz) {
    DataSerializableFactory factory = type -> switch (type) {
      case WRITE -> new Write();
      case MARK_LOST -> new MarkLost();
      case SLOT_ACQUIRE -> new OpSlots.Acquire();
      case SLOT_RELEASE -> new OpSlots.Release();
      case SLOT_DROP_MEMBERS -> new OpSlots.DropMembers();
      case REMOVE_IF -> new RemoveIf();
      case PUT_IF_ABSENT -> new PutIfAbsent();
      default -> null;
    };
    hz.getSerializationConfig().addDataSerializableFactory(FACTORY_ID, factory);
    return hz;
  }

  static boolean isFinal(JsonObject o) {
    return OpRegistry.isFinal(o.getString("state"));
  }

  private static JsonObject parse(HazelcastJsonValue v) {
    if (v == null) {
      return null;
    }
    try {
      return new JsonObject(v.getValue());
    } catch (RuntimeException e) {
      return null;
    }
  }

  private abstract static class Processor<R> implements EntryProcessor<String, HazelcastJsonValue, R>,
      IdentifiedDataSerializable {
    @Override
    public final int getFactoryId() {
      return FACTORY_ID;
    }

    /** Sets the value, with a time-to-live when {@code ttlMs} is positive (a final entry's retention). */
    static void store(Map.Entry<String, HazelcastJsonValue> entry, String value, long ttlMs) {
      HazelcastJsonValue v = new HazelcastJsonValue(value);
      if (ttlMs > 0 && entry instanceof ExtendedMapEntry<String, HazelcastJsonValue> e) {
        e.setValue(v, ttlMs, TimeUnit.MILLISECONDS);
      } else {
        entry.setValue(v);
      }
    }
  }

  /** A worker's status write; true when it applied (false: the entry was marked lost). */
  static final class Write extends Processor<Boolean> {
    private String value;
    private long ttlMs;

    Write() {
    }

    Write(String value, long ttlMs) {
      this.value = value;
      this.ttlMs = ttlMs;
    }

    @Override
    public int getClassId() {
      return WRITE;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeString(value);
      out.writeLong(ttlMs);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      value = in.readString();
      ttlMs = in.readLong();
    }

    @Override
    public Boolean process(Map.Entry<String, HazelcastJsonValue> entry) {
      JsonObject have = parse(entry.getValue());
      if (have != null && have.getBoolean("lost", false)) {
        return false;
      }
      store(entry, value, ttlMs);
      return true;
    }
  }

  /**
   * Marks an operation lost (state error, {@code lost}) unless its entry is final, and returns the
   * entry as it then is; an absent entry becomes {@code absent} (the worker left before its first
   * write), or stays absent when that is null.
   */
  static final class MarkLost extends Processor<String> {
    private String absent;
    private long ttlMs;

    MarkLost() {
    }

    MarkLost(String absent, long ttlMs) {
      this.absent = absent;
      this.ttlMs = ttlMs;
    }

    @Override
    public int getClassId() {
      return MARK_LOST;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeString(absent);
      out.writeLong(ttlMs);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      absent = in.readString();
      ttlMs = in.readLong();
    }

    @Override
    public String process(Map.Entry<String, HazelcastJsonValue> entry) {
      JsonObject have = parse(entry.getValue());
      if (have == null) {
        if (absent != null) {
          store(entry, absent, ttlMs);
        }
        return absent;
      }
      if (isFinal(have)) {
        return have.encode();
      }
      have.put("state", "error").put("lost", true);
      String v = have.encode();
      store(entry, v, ttlMs);
      return v;
    }
  }

  /** {@code remove(key, value)} of a String map as one asynchronous entry operation: true when it removed. */
  static final class RemoveIf implements EntryProcessor<String, String, Boolean>, IdentifiedDataSerializable {
    private String value;

    RemoveIf() {
    }

    RemoveIf(String value) {
      this.value = value;
    }

    @Override
    public int getFactoryId() {
      return FACTORY_ID;
    }

    @Override
    public int getClassId() {
      return REMOVE_IF;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeString(value);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      value = in.readString();
    }

    @Override
    public Boolean process(Map.Entry<String, String> entry) {
      if (value.equals(entry.getValue())) {
        entry.setValue(null);
        return true;
      }
      return false;
    }
  }

  /** {@code putIfAbsent(key, value)} of a String map as one asynchronous entry operation: the value there before, or null. */
  static final class PutIfAbsent implements EntryProcessor<String, String, String>, IdentifiedDataSerializable {
    private String value;

    PutIfAbsent() {
    }

    PutIfAbsent(String value) {
      this.value = value;
    }

    @Override
    public int getFactoryId() {
      return FACTORY_ID;
    }

    @Override
    public int getClassId() {
      return PUT_IF_ABSENT;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeString(value);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      value = in.readString();
    }

    @Override
    public String process(Map.Entry<String, String> entry) {
      String have = entry.getValue();
      if (have == null) {
        entry.setValue(value);
      }
      return have;
    }
  }
}
