package dev.switchboard.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.core.HazelcastJsonValue;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.DataSerializableFactory;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;

import java.io.IOException;
import java.util.Map;

/**
 * The entry processor that writes a topic member's presence record back where the cluster lost it
 * (see Directory#reassertPresence): one operation on the record's partition, and no write when the
 * record is there as it should be.
 */
public final class PresenceRecords {
  /** Hazelcast data-serializable factory id of this processor (unique among the cluster's factories). */
  static final int FACTORY_ID = 0x5b04;
  private static final int ENSURE = 1;

  /** What {@link Ensure} found: the record was there as given. */
  static final int KEPT = 0;
  /** The record was missing and is written. */
  static final int ADDED = 1;
  /** The record was there with other contents (an older member id of this node) and is rewritten. */
  static final int UPDATED = 2;

  private PresenceRecords() {
  }

  /** Lets a member (de)serialise the processor. */
  public static Config register(Config hz) {
    DataSerializableFactory factory = type -> type == ENSURE ? new Ensure() : null;
    hz.getSerializationConfig().addDataSerializableFactory(FACTORY_ID, factory);
    return hz;
  }

  /** Makes the entry hold the given record; answers {@link #KEPT}, {@link #ADDED} or {@link #UPDATED}. */
  static final class Ensure implements EntryProcessor<String, HazelcastJsonValue, Integer>, IdentifiedDataSerializable {
    private String json;

    Ensure() {
    }

    Ensure(HazelcastJsonValue record) {
      this.json = record.getValue();
    }

    @Override
    public Integer process(Map.Entry<String, HazelcastJsonValue> entry) {
      HazelcastJsonValue have = entry.getValue();
      if (have != null && have.getValue().equals(json)) {
        return KEPT;
      }
      entry.setValue(new HazelcastJsonValue(json));
      return have == null ? ADDED : UPDATED;
    }

    @Override
    public int getFactoryId() {
      return FACTORY_ID;
    }

    @Override
    public int getClassId() {
      return ENSURE;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeString(json);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      json = in.readString();
    }
  }
}
