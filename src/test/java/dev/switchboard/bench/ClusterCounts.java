package dev.switchboard.bench;

import com.hazelcast.core.DistributedObject;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.instance.impl.HazelcastInstanceProxy;
import com.hazelcast.partition.MigrationListener;
import com.hazelcast.partition.MigrationState;
import com.hazelcast.partition.ReplicaMigrationEvent;
import dev.switchboard.Node;
import dev.switchboard.cluster.Addresses;
import io.vertx.core.eventbus.DeliveryContext;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts (not times) what a cluster of in-JVM nodes holds and does, for the scaling model
 * (docs/scaling.md): entries of every Hazelcast structure, Vert.x's clustered event-bus
 * registrations, and, as running counters per node, event-bus messages by address family,
 * Hazelcast operations executed and Hazelcast events processed. Reads Hazelcast internals
 * (executed operation count, events processed) for counting only; a bench, not product code.
 */
final class ClusterCounts {
  /** Per node: event-bus messages handed to consumers, by address family (sb.t., sb.node., ...). */
  final Map<String, Map<String, LongAdder>> inbound = new ConcurrentHashMap<>();
  /** Per node: event-bus messages sent or published from it, by address family. */
  final Map<String, Map<String, LongAdder>> outbound = new ConcurrentHashMap<>();
  /** Replica migrations completed (partition owner or backup moved), seen from the master's listener. */
  final AtomicLong migrations = new AtomicLong();

  /** Installs the event-bus interceptors on a node (once per node). */
  void watch(Node n) {
    String id = n.nodeId();
    Map<String, LongAdder> in = inbound.computeIfAbsent(id, k -> new ConcurrentHashMap<>());
    Map<String, LongAdder> out = outbound.computeIfAbsent(id, k -> new ConcurrentHashMap<>());
    n.context().vertx().eventBus().addInboundInterceptor((DeliveryContext<Object> dc) -> {
      in.computeIfAbsent(family(dc.message().address()), k -> new LongAdder()).increment();
      dc.next();
    });
    n.context().vertx().eventBus().addOutboundInterceptor((DeliveryContext<Object> dc) -> {
      out.computeIfAbsent(family(dc.message().address()), k -> new LongAdder()).increment();
      dc.next();
    });
  }

  /** Counts the replica migrations the given member is told of (ScaleModel registers it on one member only, so each is counted once). */
  void watchMigrations(Node n) {
    n.context().cluster().getHazelcastInstance().getPartitionService().addMigrationListener(new MigrationListener() {
      @Override
      public void migrationStarted(MigrationState s) {
      }

      @Override
      public void migrationFinished(MigrationState s) {
      }

      @Override
      public void replicaMigrationCompleted(ReplicaMigrationEvent e) {
        migrations.incrementAndGet();
      }

      @Override
      public void replicaMigrationFailed(ReplicaMigrationEvent e) {
      }
    });
  }

  static String family(String address) {
    if (address.startsWith("sb.t.")) {
      return "sb.t.*";
    }
    if (address.startsWith("__vertx.reply")) {
      return "reply";
    }
    int dot = address.indexOf('.', 3);
    return dot > 0 ? address.substring(0, dot) + ".*" : address;
  }

  static long sum(Map<String, Map<String, LongAdder>> m, String family) {
    long s = 0;
    for (Map<String, LongAdder> byFam : m.values()) {
      LongAdder a = byFam.get(family);
      if (a != null) {
        s += a.sum();
      }
    }
    return s;
  }

  static long sumAll(Map<String, Map<String, LongAdder>> m) {
    long s = 0;
    for (Map<String, LongAdder> byFam : m.values()) {
      for (LongAdder a : byFam.values()) {
        s += a.sum();
      }
    }
    return s;
  }

  /** Hazelcast operations executed on every member so far (partition and generic operations, backups included). */
  static long hzOperations(List<Node> nodes) {
    long s = 0;
    for (Node n : nodes) {
      s += original(n).node.getNodeEngine().getOperationService().getExecutedOperationCount();
    }
    return s;
  }

  /** Hazelcast events (entry, membership, ...) processed by listeners on every member so far. */
  static long hzEvents(List<Node> nodes) {
    long s = 0;
    for (Node n : nodes) {
      Object es = original(n).node.getNodeEngine().getEventService();
      try {
        java.lang.reflect.Method m = es.getClass().getDeclaredMethod("eventsProcessed");
        m.setAccessible(true);
        s += (Long) m.invoke(es);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("Hazelcast's EventServiceImpl changed: " + e, e);
      }
    }
    return s;
  }

  private static com.hazelcast.instance.impl.HazelcastInstanceImpl original(Node n) {
    HazelcastInstance hz = n.context().cluster().getHazelcastInstance();
    return ((HazelcastInstanceProxy) hz).getOriginal();
  }

  /**
   * Entries of every cluster structure the model counts, read through one member (owned entries,
   * backups not counted): Vert.x's registrations ({@code __vertx.subs}: values = (address, node)
   * pairs; keys = distinct addresses), the Switchboard maps, and the topic Ringbuffers that exist.
   */
  /**
   * Heap the maps' entries cost in all copies (owner + backup), in bytes, as Hazelcast itself
   * accounts them (LocalMapStats owned + backup entry memory cost, summed over the members).
   */
  static Map<String, Long> memory(List<Node> nodes) {
    Map<String, Long> out = new LinkedHashMap<>();
    for (String name : List.of("__vertx.subs", Addresses.DEVICES, Addresses.SESSIONS, Addresses.PRESENCE, Addresses.EPOCHS)) {
      long bytes = 0;
      for (Node n : nodes) {
        HazelcastInstance hz = n.context().cluster().getHazelcastInstance();
        com.hazelcast.map.LocalMapStats st = name.startsWith("__vertx")
            ? hz.getMultiMap(name).getLocalMultiMapStats() : hz.getMap(name).getLocalMapStats();
        bytes += st.getOwnedEntryMemoryCost() + st.getBackupEntryMemoryCost();
      }
      out.put("bytes:" + name, bytes);
    }
    return out;
  }

  static Map<String, Long> structures(Node any) {
    HazelcastInstance hz = any.context().cluster().getHazelcastInstance();
    Map<String, Long> out = new LinkedHashMap<>();
    com.hazelcast.multimap.MultiMap<Object, Object> subs = hz.getMultiMap("__vertx.subs");
    out.put("__vertx.subs entries", (long) subs.size());
    out.put("__vertx.subs addresses", (long) subs.keySet().size());
    for (String name : List.of(Addresses.DEVICES, Addresses.SESSIONS, Addresses.PRESENCE, Addresses.EPOCHS,
        Addresses.NODES, Addresses.OPS, Addresses.OP_DEDUPE, "__vertx.nodeInfo", "__vertx.haInfo")) {
      out.put(name, (long) hz.getMap(name).size());
    }
    long rings = 0;
    long ringCapacity = 0;
    for (DistributedObject o : hz.getDistributedObjects()) {
      if (o.getName().startsWith("sb.h.") && o instanceof com.hazelcast.ringbuffer.Ringbuffer<?> r) {
        rings++;
        ringCapacity += r.capacity();
      }
    }
    out.put("ringbuffers sb.h.*", rings);
    out.put("ringbuffer slots (capacity, one copy)", ringCapacity);
    return out;
  }
}
