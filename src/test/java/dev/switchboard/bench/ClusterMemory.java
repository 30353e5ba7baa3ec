package dev.switchboard.bench;

import com.hazelcast.core.DistributedObject;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.instance.impl.HazelcastInstanceProxy;
import com.hazelcast.map.LocalMapStats;
import com.hazelcast.ringbuffer.impl.RingbufferContainer;
import com.hazelcast.ringbuffer.impl.RingbufferService;
import dev.switchboard.cluster.Addresses;

import java.util.List;
import java.util.Map;

/**
 * What the cluster holds for topics, counted in Hazelcast's own structures on every member (owner and
 * backup copies), not timed: the history rings' containers (Hazelcast allocates a ring's whole
 * capacity when the container is created: an {@code Object[capacity]}, plus a {@code long[capacity]}
 * of expiry times when the namespace has a time-to-live), the epoch map's entries (Hazelcast's own
 * entry cost), the clustered event-bus registrations in {@code __vertx.subs} and the ring proxies
 * each member keeps. Reads Hazelcast's internals (RingbufferService), test scope only.
 */
public final class ClusterMemory {
  private ClusterMemory() {
  }

  /** Object header + length, and each container's own objects (container, ring, expiry policy, namespace, map node): an estimate. */
  static final long ARRAY_HEADER = 16;
  static final long CONTAINER_OVERHEAD = 300;

  /** The figures summed over members. */
  public record Snapshot(int ringContainers, long ringBytes, long epochEntries, long epochBytes,
                         long busEntries, long busBytes, int ringProxies) {
    public long totalBytes() {
      return ringBytes + epochBytes + busBytes;
    }

    @Override
    public String toString() {
      return "ring containers " + ringContainers + " (" + ringBytes + " B), epoch entries " + epochEntries + " ("
          + epochBytes + " B), __vertx.subs entries " + busEntries + ", ring proxies " + ringProxies;
    }
  }

  public static Snapshot of(List<HazelcastInstance> members) {
    int containers = 0;
    long ringBytes = 0;
    long epochEntries = 0;
    long epochBytes = 0;
    long bus = 0;
    int proxies = 0;
    long busBytes = 0;
    for (HazelcastInstance hz : members) {
      busBytes += topicRegistrationBytes(hz);
      RingbufferService rs = nodeEngine(hz).getService(RingbufferService.SERVICE_NAME);
      for (Map<com.hazelcast.internal.services.ObjectNamespace, RingbufferContainer> part : rs.getContainers().values()) {
        for (RingbufferContainer c : part.values()) {
          if (!c.getNamespace().getObjectName().startsWith("sb.h.")) {
            continue;
          }
          containers++;
          long cap = c.getCapacity();
          ringBytes += CONTAINER_OVERHEAD + ARRAY_HEADER + 4 * cap; // Object[capacity], compressed oops
          if (c.getConfig().getTimeToLiveSeconds() > 0) {
            ringBytes += ARRAY_HEADER + 8 * cap; // long[capacity] of expiry times
          }
        }
      }
      LocalMapStats epochs = hz.getMap(Addresses.EPOCHS).getLocalMapStats();
      epochEntries += epochs.getOwnedEntryCount() + epochs.getBackupEntryCount();
      epochBytes += epochs.getOwnedEntryMemoryCost() + epochs.getBackupEntryMemoryCost();
      com.hazelcast.multimap.LocalMultiMapStats subs = hz.getMultiMap("__vertx.subs").getLocalMultiMapStats();
      bus += subs.getOwnedEntryCount() + subs.getBackupEntryCount();
      for (DistributedObject o : hz.getDistributedObjects()) {
        if (RingbufferService.SERVICE_NAME.equals(o.getServiceName()) && o.getName().startsWith("sb.h.")) {
          proxies++;
        }
      }
    }
    return new Snapshot(containers, ringBytes, epochEntries, epochBytes, bus, busBytes, proxies);
  }

  /** Per key: its MultiMapValue, the set holding its records and the map node; per record: the record and its set node. */
  static final long SUBS_KEY_OVERHEAD = 200;
  static final long SUBS_RECORD_OVERHEAD = 60;

  /**
   * This member's copies (owner and backup) of the clustered event-bus registrations of topic
   * addresses ({@code sb.t.*}) in {@code __vertx.subs}: the serialised keys and values as Hazelcast
   * holds them ({@code Data.getHeapCost()}) plus an estimate of the collections around them.
   */
  static long topicRegistrationBytes(HazelcastInstance hz) {
    com.hazelcast.spi.impl.NodeEngineImpl ne = nodeEngine(hz);
    com.hazelcast.multimap.impl.MultiMapService ms = ne.getService(com.hazelcast.multimap.impl.MultiMapService.SERVICE_NAME);
    long bytes = 0;
    for (int p = 0; p < ne.getPartitionService().getPartitionCount(); p++) {
      com.hazelcast.multimap.impl.MultiMapContainer c = ms.getPartitionContainer(p).getMultiMapContainer("__vertx.subs", false);
      if (c == null) {
        continue;
      }
      for (Map.Entry<com.hazelcast.internal.serialization.Data, java.util.Collection<com.hazelcast.multimap.impl.MultiMapRecord>> e
          : c.copyCollections().entrySet()) {
        Object key = ne.getSerializationService().toObject(e.getKey());
        if (!String.valueOf(key).startsWith(Addresses.topic(""))) {
          continue;
        }
        bytes += e.getKey().getHeapCost() + SUBS_KEY_OVERHEAD;
        for (com.hazelcast.multimap.impl.MultiMapRecord r : e.getValue()) {
          Object v = r.getObject();
          bytes += SUBS_RECORD_OVERHEAD + (v instanceof com.hazelcast.internal.serialization.Data d ? d.getHeapCost() : 64);
        }
      }
    }
    return bytes;
  }

  /** How many ring containers (owner or backup) of this topic's history exist on these members. */
  public static int ringCopies(List<HazelcastInstance> members, String topic) {
    String name = Addresses.history(topic);
    int n = 0;
    for (HazelcastInstance hz : members) {
      RingbufferService rs = nodeEngine(hz).getService(RingbufferService.SERVICE_NAME);
      for (Map<com.hazelcast.internal.services.ObjectNamespace, RingbufferContainer> part : rs.getContainers().values()) {
        if (part.containsKey(RingbufferService.getRingbufferNamespace(name))) {
          n++;
        }
      }
    }
    return n;
  }

  static com.hazelcast.spi.impl.NodeEngineImpl nodeEngine(HazelcastInstance hz) {
    return ((HazelcastInstanceProxy) hz).getOriginal().node.getNodeEngine();
  }
}
