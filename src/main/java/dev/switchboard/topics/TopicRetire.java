package dev.switchboard.topics;

import com.hazelcast.config.Config;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastInstanceAware;
import com.hazelcast.instance.impl.HazelcastInstanceImpl;
import com.hazelcast.instance.impl.HazelcastInstanceProxy;
import com.hazelcast.map.EntryProcessor;
import com.hazelcast.nio.ObjectDataInput;
import com.hazelcast.nio.ObjectDataOutput;
import com.hazelcast.nio.serialization.IdentifiedDataSerializable;
import com.hazelcast.partition.PartitionAwareKey;
import com.hazelcast.ringbuffer.impl.RingbufferContainer;
import com.hazelcast.ringbuffer.impl.RingbufferService;
import com.hazelcast.spi.impl.NodeEngineImpl;
import com.hazelcast.spi.impl.proxyservice.impl.ProxyServiceImpl;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Retires a topic nobody uses any more: its history ring and its epoch entry go, together, on the
 * topic's partition thread (an entry processor on the epoch entry, which shares the ring's partition,
 * see Addresses#history), so no append can land between the check and the removal. On the owner it
 * applies only when the entry is still the value the sweep saw (nobody appended, marked or replaced
 * it meanwhile), an entry without ring is older than the grace, and the ring is absent or holds no
 * item any more (all expired); the backup then does the same to its copy. The ring goes through
 * Hazelcast's local destroy of the distributed object: its container, this member's proxy and the
 * service's per-name cache. A later append starts a new history at offset 1 and finds no epoch entry:
 * it takes a new epoch (TopicLog#settle), as after a loss.
 *
 * <p>Framework internals (RingbufferService's containers, the proxy service) are read here and only
 * here: TopicMemoryTest pins what they do with the Hazelcast version in use.
 */
public final class TopicRetire {
  /** Hazelcast data-serializable factory id (unique among the cluster's factories). */
  static final int FACTORY_ID = 0x5b05;
  private static final int RETIRE = 1;

  private TopicRetire() {
  }

  /** Lets a member (de)serialise the processor. */
  public static Config register(Config hz) {
    hz.getSerializationConfig().addDataSerializableFactory(FACTORY_ID, type -> type == RETIRE ? new Retire() : null);
    return hz;
  }

  /** The processor: {@code expected} null retires a ring whose entry is gone (an orphan). */
  static final class Retire implements EntryProcessor<PartitionAwareKey<String, String>, String, Boolean>,
      IdentifiedDataSerializable, HazelcastInstanceAware {
    private String ring;
    private String expected;
    private long graceMs;
    private boolean backup;
    private transient HazelcastInstance hz;
    private transient boolean retired;

    Retire() {
    }

    Retire(String ring, String expected, long graceMs) {
      this.ring = ring;
      this.expected = expected;
      this.graceMs = graceMs;
    }

    @Override
    public void setHazelcastInstance(HazelcastInstance hz) {
      this.hz = hz;
    }

    @Override
    public Boolean process(Map.Entry<PartitionAwareKey<String, String>, String> entry) {
      NodeEngineImpl ne = nodeEngine(hz);
      if (backup) {
        destroyRing(ne, ring);
        if (entry.getValue() != null) {
          entry.setValue(null);
        }
        return true;
      }
      String v = entry.getValue();
      if (!Objects.equals(v, expected)) {
        return false;
      }
      if (v != null && !EpochEntry.mayHaveRing(v) && System.currentTimeMillis() - EpochEntry.created(v) < graceMs) {
        return false;
      }
      RingbufferContainer<?, ?> c = container(ne, ring);
      if (c != null) {
        c.cleanup(); // drops the expired items
        if (c.size() > 0) {
          return false;
        }
      } else if (v == null) {
        return false;
      }
      destroyRing(ne, ring);
      if (v != null) {
        entry.setValue(null);
      }
      retired = true;
      return true;
    }

    @Override
    public EntryProcessor<PartitionAwareKey<String, String>, String, Boolean> getBackupProcessor() {
      if (!retired) {
        return null;
      }
      Retire b = new Retire(ring, expected, graceMs);
      b.backup = true;
      return b;
    }

    @Override
    public int getFactoryId() {
      return FACTORY_ID;
    }

    @Override
    public int getClassId() {
      return RETIRE;
    }

    @Override
    public void writeData(ObjectDataOutput out) throws IOException {
      out.writeString(ring);
      out.writeString(expected);
      out.writeLong(graceMs);
      out.writeBoolean(backup);
    }

    @Override
    public void readData(ObjectDataInput in) throws IOException {
      ring = in.readString();
      expected = in.readString();
      graceMs = in.readLong();
      backup = in.readBoolean();
    }
  }

  // ------------------------------------------------------------------ Hazelcast internals (one seam)

  static NodeEngineImpl nodeEngine(HazelcastInstance hz) {
    if (hz instanceof HazelcastInstanceProxy p) {
      return p.getOriginal().node.getNodeEngine();
    }
    return ((HazelcastInstanceImpl) hz).node.getNodeEngine();
  }

  /** This member's container of the ring (owner or backup copy), or null: reads only, creates nothing. */
  static RingbufferContainer<?, ?> container(NodeEngineImpl ne, String ring) {
    RingbufferService rs = ne.getService(RingbufferService.SERVICE_NAME);
    return rs.getContainerOrNull(rs.getRingbufferPartitionId(ring), RingbufferService.getRingbufferNamespace(ring));
  }

  /**
   * This member's copy of the ring as {size, tail sequence}, or null when it has none: a hint read off
   * the partition thread (the processor decides), so that the sweep asks about subscribers only for
   * topics whose history may be empty.
   */
  static long[] ringHere(HazelcastInstance hz, String ring) {
    RingbufferContainer<?, ?> c = container(nodeEngine(hz), ring);
    return c == null ? null : new long[] {c.size(), c.tailSequence()};
  }

  /** Names of the history rings whose partitions this member owns (their primary copies). */
  static List<String> ownedRings(HazelcastInstance hz) {
    NodeEngineImpl ne = nodeEngine(hz);
    RingbufferService rs = ne.getService(RingbufferService.SERVICE_NAME);
    List<String> out = new ArrayList<>();
    for (Map.Entry<Integer, Map<com.hazelcast.internal.services.ObjectNamespace, RingbufferContainer>> p
        : rs.getContainers().entrySet()) {
      if (!ne.getPartitionService().isPartitionOwner(p.getKey())) {
        continue;
      }
      for (com.hazelcast.internal.services.ObjectNamespace ns : p.getValue().keySet()) {
        if (ns.getObjectName().startsWith("sb.h.")) {
          out.add(ns.getObjectName());
        }
      }
    }
    return out;
  }

  /**
   * A lite member (a gateway) drops its proxy of a retired topic's ring: it owns no partition, so it
   * holds no container a destroy could take (the owner and backup dropped theirs in the processor).
   * Data members that hold no copy of the ring keep theirs: a migration may be bringing them one.
   */
  static void dropProxyIfLite(HazelcastInstance hz, String ring) {
    if (hz.getCluster().getLocalMember().isLiteMember()) {
      destroyRing(nodeEngine(hz), ring);
    }
  }

  private static void destroyRing(NodeEngineImpl ne, String ring) {
    ((ProxyServiceImpl) ne.getProxyService()).destroyLocalDistributedObject(RingbufferService.SERVICE_NAME, ring,
        ne.getLocalMember().getUuid(), false);
  }
}
