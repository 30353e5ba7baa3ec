package dev.switchboard.chaos;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import dev.switchboard.cluster.Addresses;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the cluster still holds once every client has left, read with a Hazelcast <em>client</em>
 * (not a member: it takes no part in membership, owns no partitions and cannot become the oldest
 * member whose membership listener cleans up after others). No node endpoint exposes map contents,
 * and none needs to for this.
 *
 * <p>Counted as left over: any device or presence entry; a session entry that is not an ended
 * tombstone (a 1000 close leaves one for session_ttl, on purpose); an operation not in a final state
 * (finished ones stay for op_retention, on purpose); any dedupe key.
 */
final class HazelcastLeftovers implements AutoCloseable {
  private final HazelcastInstance client;

  HazelcastLeftovers(ChaosCluster cluster) {
    ClientConfig cfg = new ClientConfig();
    cfg.setClusterName(cluster.clusterName());
    cfg.setProperty("hazelcast.logging.type", "slf4j"); // the harness's log (test-logback.xml: com.hazelcast at WARN)
    for (NodeProcess n : cluster.nodes()) {
      cfg.getNetworkConfig().addAddress(n.host + ":" + n.clusterPort);
    }
    cfg.getConnectionStrategyConfig().getConnectionRetryConfig().setClusterConnectTimeoutMillis(20_000);
    this.client = HazelcastClient.newHazelcastClient(cfg);
  }

  /** Map name → up to 3 examples of what is left (with the count first); empty when nothing is. */
  Map<String, List<String>> read() {
    return read(java.util.Set.of());
  }

  /** As {@link #read()}, not counting the sessions named (left without a 1000 on purpose: they live until session_ttl). */
  Map<String, List<String>> read(java.util.Set<String> liveOnPurpose) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    collect(out, Addresses.DEVICES, (k, v) -> true);
    collect(out, Addresses.PRESENCE, (k, v) -> true);
    collect(out, Addresses.SESSIONS, (k, v) -> !json(v).getBoolean("ended", false) && !liveOnPurpose.contains(k));
    collect(out, Addresses.OPS, (k, v) -> {
      String state = json(v).getString("state", "");
      return !state.equals("done") && !state.equals("error") && !state.equals("cancelled");
    });
    collect(out, Addresses.OP_DEDUPE, (k, v) -> true);
    collect(out, Addresses.OP_SLOTS, (k, v) -> true); // an entry goes when its user's last operation ends
    return out;
  }

  private void collect(Map<String, List<String>> out, String name, java.util.function.BiPredicate<Object, Object> left) {
    IMap<Object, Object> map = client.getMap(name);
    List<String> examples = new ArrayList<>();
    int count = 0;
    for (Map.Entry<Object, Object> e : map.entrySet()) {
      if (left.test(e.getKey(), e.getValue())) {
        count++;
        if (examples.size() < 3) {
          String v = String.valueOf(e.getValue());
          examples.add(String.valueOf(e.getKey()).replace(Addresses.US, '|') + " = "
              + (v.length() > 300 ? v.substring(0, 300) + "…" : v));
        }
      }
    }
    if (count > 0) {
      examples.add(0, count + " entries");
      out.put(name, examples);
    }
  }

  /** Vert.x's clustered event-bus registrations (one per consumer address and node; a MultiMap). */
  static final String VERTX_SUBS = "__vertx.subs";
  /** The sizes() key counting topic histories: Ringbuffers named {@code sb.h.*}. */
  static final String RINGS = "sb.h.*";
  /** The sizes() key counting the sessions not yet expired (what a read sees) within {@link Addresses#SESSIONS}. */
  static final String SESSIONS_UNEXPIRED = "sb.sessions:unexpired";
  /** The sizes() key counting the ended session tombstones among the unexpired sessions. */
  static final String SESSIONS_ENDED = "sb.sessions:ended";
  /** The sizes() key counting the operations not yet expired within {@link Addresses#OPS}. */
  static final String OPS_UNEXPIRED = "sb.ops:unexpired";

  /**
   * How much the cluster holds now, for the soak's samples: the entry count of every Switchboard map
   * (cluster-wide, backups not counted), the topic histories that exist (their Ringbuffers) and
   * Vert.x's event-bus registrations. A map's size counts what its members hold, expired entries
   * included until Hazelcast's background sweep removes them (it visits a few partitions every 5 s:
   * minutes on a small machine); the {@code :unexpired} counts are what a read sees.
   */
  Map<String, Integer> sizes() {
    Map<String, Integer> out = new LinkedHashMap<>();
    for (String name : List.of(Addresses.DEVICES, Addresses.PRESENCE, Addresses.SESSIONS, Addresses.OPS,
        Addresses.OP_DEDUPE, Addresses.OP_SLOTS, Addresses.NODES, Addresses.EPOCHS)) {
      out.put(name, client.getMap(name).size());
    }
    int unexpired = 0;
    int ended = 0;
    for (Object v : client.getMap(Addresses.SESSIONS).values()) {
      unexpired++;
      if (json(v).getBoolean("ended", false)) {
        ended++;
      }
    }
    out.put(SESSIONS_UNEXPIRED, unexpired);
    out.put(SESSIONS_ENDED, ended);
    out.put(OPS_UNEXPIRED, client.getMap(Addresses.OPS).values().size());
    int rings = 0;
    String ringService = com.hazelcast.ringbuffer.impl.RingbufferService.SERVICE_NAME;
    for (com.hazelcast.core.DistributedObject o : client.getDistributedObjects()) {
      if (o.getName().startsWith("sb.h.") && o.getServiceName().equals(ringService)) {
        rings++;
      }
    }
    out.put(RINGS, rings);
    out.put(VERTX_SUBS, client.getMultiMap(VERTX_SUBS).size());
    return out;
  }

  /**
   * Up to {@code n} entries of a map with their times as Hazelcast keeps them (age of the last
   * write, time-to-live, when they expire), to tell a slow expiry from a refreshed entry.
   */
  List<String> describe(String name, int n) {
    IMap<Object, Object> map = client.getMap(name);
    List<String> out = new ArrayList<>();
    long now = System.currentTimeMillis();
    for (Object k : map.keySet()) {
      if (out.size() >= n) {
        break;
      }
      com.hazelcast.core.EntryView<Object, Object> e = map.getEntryView(k);
      if (e == null) {
        continue;
      }
      String v = String.valueOf(e.getValue());
      out.add(String.valueOf(k).replace(Addresses.US, '|') + ": written " + (now - e.getLastUpdateTime()) / 1000
          + " s ago, created " + (now - e.getCreationTime()) / 1000 + " s ago, ttl " + e.getTtl() / 1000
          + " s, expires in " + (e.getExpirationTime() - now) / 1000 + " s: " + (v.length() > 200 ? v.substring(0, 200)
          + "…" : v));
    }
    return out;
  }

  private static JsonObject json(Object v) {
    try {
      return new JsonObject(String.valueOf(v));
    } catch (RuntimeException e) {
      return new JsonObject();
    }
  }

  @Override
  public void close() {
    client.shutdown();
  }
}
