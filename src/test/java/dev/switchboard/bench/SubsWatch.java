package dev.switchboard.bench;

import com.hazelcast.client.HazelcastClient;
import com.hazelcast.client.config.ClientConfig;
import com.hazelcast.core.DistributedObject;
import com.hazelcast.core.HazelcastInstance;
import dev.switchboard.cluster.Addresses;

import java.util.List;

/**
 * Watches a running Switchboard cluster from outside (a Hazelcast client: no member, no partitions)
 * and prints, every INTERVAL seconds for at most SECONDS, Vert.x's clustered event-bus registrations
 * ({@code __vertx.subs}: entries = (address, node) pairs, keys = addresses), the Switchboard maps'
 * entry counts and the topic Ringbuffers; at the end the maximum of each. Used by bench/topics2n.sh
 * beside the shared harness's run.
 *
 * <p>Usage: SubsWatch CLUSTER_NAME HOST:PORT[,HOST:PORT...] SECONDS [INTERVAL=5]
 */
public final class SubsWatch {
  public static void main(String[] args) throws Exception {
    ClientConfig cfg = new ClientConfig();
    cfg.setClusterName(args[0]);
    for (String a : args[1].split(",")) {
      cfg.getNetworkConfig().addAddress(a);
    }
    cfg.getConnectionStrategyConfig().getConnectionRetryConfig().setClusterConnectTimeoutMillis(120_000);
    long until = System.currentTimeMillis() + Long.parseLong(args[2]) * 1000;
    long interval = (args.length > 3 ? Long.parseLong(args[3]) : 5) * 1000;
    HazelcastInstance hz = HazelcastClient.newHazelcastClient(cfg);
    List<String> maps = List.of(Addresses.DEVICES, Addresses.SESSIONS, Addresses.PRESENCE, Addresses.EPOCHS);
    long maxEntries = 0;
    long maxKeys = 0;
    long maxRings = 0;
    long[] maxMaps = new long[maps.size()];
    try {
      while (System.currentTimeMillis() < until && hz.getLifecycleService().isRunning()) {
        long entries = hz.getMultiMap("__vertx.subs").size();
        long keys = hz.getMultiMap("__vertx.subs").keySet().size();
        long rings = 0;
        for (DistributedObject o : hz.getDistributedObjects()) {
          if (o.getName().startsWith("sb.h.")) {
            rings++;
          }
        }
        StringBuilder sb = new StringBuilder(String.format("SUBS t=%d vertx_subs_entries=%d addresses=%d rings=%d",
            System.currentTimeMillis() / 1000, entries, keys, rings));
        for (int i = 0; i < maps.size(); i++) {
          long s = hz.getMap(maps.get(i)).size();
          maxMaps[i] = Math.max(maxMaps[i], s);
          sb.append(' ').append(maps.get(i)).append('=').append(s);
        }
        System.out.println(sb);
        maxEntries = Math.max(maxEntries, entries);
        maxKeys = Math.max(maxKeys, keys);
        maxRings = Math.max(maxRings, rings);
        Thread.sleep(interval);
      }
    } catch (Exception e) {
      System.out.println("SUBS stopped: " + e);
    } finally {
      StringBuilder sb = new StringBuilder(String.format("RESULT max vertx_subs_entries=%d addresses=%d rings=%d", maxEntries, maxKeys, maxRings));
      for (int i = 0; i < maps.size(); i++) {
        sb.append(' ').append(maps.get(i)).append('=').append(maxMaps[i]);
      }
      System.out.println(sb);
      hz.shutdown();
    }
    System.exit(0);
  }
}
