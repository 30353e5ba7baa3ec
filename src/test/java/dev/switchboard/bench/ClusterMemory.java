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
                         long busEntries, int ringProxies) {
    public long totalBytes() {
      return ringBytes + epochBytes;
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
    for (HazelcastInstance hz : members) {
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
    return new Snapshot(containers, ringBytes, epochEntries, epochBytes, bus, proxies);
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
