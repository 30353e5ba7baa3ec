package dev.switchboard.testsupport;

import dev.switchboard.Node;
import dev.switchboard.config.ConfigLoader;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Starts real nodes in this JVM: ephemeral HTTP port, a free Hazelcast port, loopback TCP-IP join
 * and a cluster name unique to this JVM (two test JVMs never merge).
 */
public final class TestNode {
  public static final String CLUSTER = "sb-test-" + UUID.randomUUID().toString().substring(0, 8);
  public static final String SECRET = "test-secret-0123456789abcdef0123456789";
  /**
   * The shipped cluster.xml with Hazelcast's heartbeat at 1 s instead of 2 s: the file test nodes
   * start with ({@code SB_CLUSTER_CONFIG}) unless a test names another. A node is ready only after
   * Hazelcast first judged its side a majority (Node#majority), which it does once a heartbeat
   * interval after it starts: about 1 s less per node start, over the ~80 in-JVM starts of the suite.
   * Member timeout, backup timeout and the Quorum's tolerance stay as configured (the tolerance is
   * max(2 heartbeats, half the member timeout): 7.5 s either way with the 15 s default). Tests whose
   * subject is failure detection (freezes, cuts, merges, the majority probe) keep the shipped file:
   * {@link #SHIPPED_CLUSTER_CONFIG}.
   */
  public static final String CLUSTER_CONFIG = fastHeartbeatClusterXml();
  /** The shipped cluster.xml, 2 s heartbeat (SB_CLUSTER_CONFIG's default). */
  public static final String SHIPPED_CLUSTER_CONFIG = "cluster.xml";

  private TestNode() {
  }

  /** Settings every test node gets unless overridden: HS256 secret, port 0, generous limits. */
  public static Map<String, String> env(Map<String, String> overrides) {
    Map<String, String> env = new HashMap<>();
    env.put("SB_CONF", "conf/config.json");
    env.put("SB_JWT_SECRET", SECRET);
    env.put("SB_HTTP_PORT", "0");
    env.put("SB_HTTP_HOST", "127.0.0.1");
    env.put("SB_CLUSTER_NAME", CLUSTER);
    env.put("SB_HTTP_EVENT_LOOPS", "2");
    env.put("SB_SHUTDOWN_DRAIN_MS", "200");
    env.put("SB_NODE_WARMUP_MS", "0"); // tests start many nodes: no warm-up rounds
    env.putAll(overrides);
    return env;
  }

  public static Node start(Map<String, String> overrides) {
    int port = freePort();
    Map<String, String> env = env(overrides);
    env.putIfAbsent("SB_CLUSTER_CONFIG", CLUSTER_CONFIG);
    env.putIfAbsent("SB_CLUSTER_PORT", String.valueOf(port));
    env.putIfAbsent("SB_CLUSTER_MEMBERS", "127.0.0.1:" + env.get("SB_CLUSTER_PORT"));
    return await(Node.start(ConfigLoader.load(env)));
  }

  public static Node start() {
    return start(Map.of());
  }

  /** Starts one-member clusters, one per name, in parallel; see {@link #startApart(String, Map)}. */
  private static final java.util.concurrent.ExecutorService APART = java.util.concurrent.Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "test-node-start");
    t.setDaemon(true);
    return t;
  });

  /**
   * Nodes that each form a one-member cluster of their own ({@code SB_CLUSTER_NAME} this JVM's name
   * + {@code -group-name}), started in parallel with their own overrides; in the order given, each
   * waited for 90 s at most. For classes that test one setting against differently configured nodes.
   */
  public static Map<String, Node> startApart(String group, Map<String, Map<String, String>> overridesByName) {
    Map<String, java.util.concurrent.CompletableFuture<Node>> starting = new java.util.LinkedHashMap<>();
    overridesByName.forEach((name, overrides) -> {
      Map<String, String> o = new HashMap<>(overrides);
      o.put("SB_CLUSTER_NAME", CLUSTER + "-" + group + "-" + name);
      // not the common pool: Hazelcast completes its own futures there, and blocking it can stall the start
      starting.put(name, java.util.concurrent.CompletableFuture.supplyAsync(() -> start(o), APART));
    });
    Map<String, Node> started = new java.util.LinkedHashMap<>();
    for (var e : starting.entrySet()) {
      try {
        started.put(e.getKey(), e.getValue().get(90, TimeUnit.SECONDS));
      } catch (Exception ex) {
        throw new AssertionError("node " + e.getKey() + " did not start: " + ex, ex);
      }
    }
    return started;
  }

  /** Starts n nodes that form one cluster (each lists all members), one after another. */
  public static List<Node> cluster(int n, Map<String, String> overrides) {
    List<Integer> ports = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ports.add(freePort());
    }
    String members = String.join(",", ports.stream().map(p -> "127.0.0.1:" + p).toList());
    List<Node> nodes = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Map<String, String> o = new HashMap<>(overrides);
      o.put("SB_CLUSTER_PORT", String.valueOf(ports.get(i)));
      o.put("SB_CLUSTER_MEMBERS", members);
      o.putIfAbsent("SB_NODE_ID", "n" + (i + 1));
      nodes.add(start(o));
    }
    awaitClusterSafe(nodes);
    return nodes;
  }

  /**
   * Waits (30 s at most) until Hazelcast has placed every partition and its backup after the joins:
   * a test that starts while the join's migrations run can have a write wait for a backup that the
   * migration lost, for the whole backup timeout (the member timeout, 15 s), and a WebSocket upgrade
   * that registers its device gave up after 10 s ("upgrade failed" in TopicOrderTest, once in CI).
   */
  static void awaitClusterSafe(List<Node> nodes) {
    if (nodes.size() < 2) {
      return;
    }
    long deadline = System.currentTimeMillis() + 30_000;
    for (Node n : nodes) {
      com.hazelcast.partition.PartitionService ps = n.context().cluster().getHazelcastInstance().getPartitionService();
      while (!ps.isClusterSafe()) {
        if (System.currentTimeMillis() >= deadline) {
          throw new AssertionError("the test cluster's partitions were not safe within 30 s of its start");
        }
        java.util.concurrent.locks.LockSupport.parkNanos(20_000_000);
      }
    }
  }

  public static void stop(Node... nodes) {
    for (Node n : nodes) {
      if (n != null) {
        try {
          n.close().await(30, TimeUnit.SECONDS);
        } catch (Exception ignored) {
          // best effort: the next test uses fresh ports anyway
        }
      }
    }
  }

  public static <T> T await(io.vertx.core.Future<T> f) {
    try {
      return f.await(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("future failed: " + e, e);
    }
  }

  private static String fastHeartbeatClusterXml() {
    String shipped = "<property name=\"hazelcast.heartbeat.interval.seconds\">2</property>";
    try {
      String xml = Files.readString(Path.of("cluster.xml"));
      if (!xml.contains(shipped)) {
        throw new IllegalStateException("cluster.xml no longer sets a 2 s heartbeat as " + shipped
            + ": revisit TestNode.CLUSTER_CONFIG");
      }
      Path f = Files.createTempFile("sb-test-cluster", ".xml");
      f.toFile().deleteOnExit();
      Files.writeString(f, xml.replace(shipped, shipped.replace(">2<", ">1<")));
      return f.toString();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
