package dev.switchboard.chaos;

import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.stream.Collectors;

/**
 * The node processes of a chaos run and the load balancer's view of them. Every slot keeps its
 * ports across restarts; a health poller asks each node's {@code /health/ready} every 250 ms (700 ms
 * timeout, so a frozen node drops out within about a second) and {@link #pickLive} chooses among the
 * ready ones, as a load balancer with health checks would.
 *
 * <p>Node settings for the run (beside the test defaults of {@link TestNode#env}): a cluster name of
 * its own, the run's heartbeat timeout as the member timeout ({@code SB_CLUSTER_MEMBER_TIMEOUT_S}), a
 * merge every 2 s once a split heals, a copy of {@code cluster.xml} with 1 s Hazelcast heartbeats (the
 * node reads its Hazelcast XML from {@code SB_CLUSTER_CONFIG}), pings every second and idle close after
 * 6 s, a connect rate per IP that 200 clients reconnecting at once from loopback do not hit (a load
 * balancer would spread them over its own addresses), a 1 s drain and 6 s for operations at SIGTERM.
 */
public final class ChaosCluster implements AutoCloseable {
  static final long READY_TIMEOUT_MS = 90_000;

  private final Vertx vertx;
  private final HttpCalls http;
  private final List<NodeProcess> nodes = new ArrayList<>();
  private Map<String, String> env;
  private final List<String> jvmArgs;
  private final String serviceToken;
  private final boolean[] ready;
  private final Path dir;
  private final String clusterName;
  private final ChaosNet net;
  private long poller = -1;

  ChaosCluster(Vertx vertx, ChaosOptions o, ChaosNet net) {
    this.vertx = vertx;
    this.net = net;
    this.http = new HttpCalls(vertx);
    this.clusterName = "sb-chaos-" + UUID.randomUUID().toString().substring(0, 8);
    try {
      this.dir = Files.createTempDirectory("sb-chaos-");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    List<String> members = new ArrayList<>();
    // the two-tier shape (--data D): the data members take the first slots (they start first: a
    // gateway needs one to join), the --nodes slots after them are gateways (lite members)
    for (int i = 0; i < o.slots(); i++) {
      String role = o.dataMembers() == 0 ? "all" : i < o.dataMembers() ? "data" : "gateway";
      NodeProcess n = new NodeProcess(i + 1, net.host(i), net.httpPort(i), net.clusterPort(i), net.prefix(i), dir, role);
      nodes.add(n);
      members.add(n.host + ":" + n.clusterPort);
    }
    this.ready = new boolean[o.slots()];
    Map<String, String> e = new HashMap<>(TestNode.env(Map.of()));
    e.put("SB_CLUSTER_NAME", clusterName);
    e.put("SB_CLUSTER_MEMBERS", String.join(",", members));
    e.put("SB_CLUSTER_CONFIG", chaosClusterXml().toString());
    e.put("SB_CLUSTER_MEMBER_TIMEOUT_S", Integer.toString(o.heartbeatTimeoutS()));
    e.put("SB_CLUSTER_MERGE_DELAY_S", System.getProperty("chaos.mergeDelayS", "30"));
    // op.status knows a finished operation for op_retention (300 s by default), and the checker asks
    // about every operation at the end: kept for the whole run and 5 minutes more
    e.put("SB_OP_RETENTION_MS", Long.toString(Math.max(300_000L, o.durationMs() + 300_000L)));
    e.put("SB_HEARTBEAT_MS", "1000");
    e.put("SB_IDLE_TIMEOUT_MS", "6000");
    e.put("SB_CONNECT_RATE_PER_IP", "5000");
    e.put("SB_DRAIN_MS", Integer.toString(o.drainMs()));
    e.put("SB_SHUTDOWN_GRACE_MS", "6000");
    e.remove("SB_SHUTDOWN_DRAIN_MS");
    this.env = Map.copyOf(e);
    List<String> jvm = new java.util.ArrayList<>(List.of("-Xmx256m", "-Xss512k", "-XX:+UseSerialGC",
        "-Djava.util.concurrent.ForkJoinPool.common.parallelism=4"));
    jvm.addAll(dev.switchboard.testsupport.ChildNode.HAZELCAST_ACCESS);
    this.jvmArgs = List.copyOf(jvm);
    this.serviceToken = Tokens.hs256(Tokens.claims("chaos-service", 24 * 3600)
        .put("roles", new JsonArray().add("service")));
  }

  /** cluster.xml with 1 s heartbeats, written to the run's directory. */
  private Path chaosClusterXml() {
    try {
      String xml = Files.readString(Path.of("cluster.xml"));
      String out = xml
          .replaceFirst("(<property name=\"hazelcast.heartbeat.interval.seconds\">)\\d+(</property>)", "$11$2");
      if (out.equals(xml)) {
        throw new IllegalStateException("cluster.xml has no hazelcast.heartbeat.interval.seconds property to lower");
      }
      Path p = dir.resolve("cluster-chaos.xml");
      Files.writeString(p, out);
      return p;
    } catch (IOException e) {
      throw new IllegalStateException("cluster.xml not found (run from the project directory)", e);
    }
  }

  /** Every node slot, data members included. */
  public List<NodeProcess> nodes() {
    return nodes;
  }

  /** The slots that take clients (all of them, except the data members of the two-tier shape). */
  public List<NodeProcess> gateways() {
    return nodes.stream().filter(NodeProcess::servesClients).toList();
  }

  public String clusterName() {
    return clusterName;
  }

  public Path directory() {
    return dir;
  }

  /** Where the slots live (loopback or namespaces); what a partition cuts. */
  ChaosNet net() {
    return net;
  }

  String serviceToken() {
    return serviceToken;
  }

  HttpCalls http() {
    return http;
  }

  /** More node settings, over the run's own (the soak's time-to-lives); before {@link #startAll}. */
  void addEnv(Map<String, String> more) {
    Map<String, String> e = new HashMap<>(env);
    e.putAll(more);
    env = Map.copyOf(e);
  }

  /** Starts every node (one after the other: the first forms the cluster) and the health poller. */
  void startAll() {
    for (NodeProcess n : nodes) {
      n.start(jvmArgs, env);
      if (!awaitReady(n, READY_TIMEOUT_MS)) {
        throw new IllegalStateException("node " + n.nodeId() + " not ready within " + READY_TIMEOUT_MS + " ms: "
            + n.output());
      }
      setReady(n, true);
    }
    poller = vertx.setPeriodic(250, t -> poll());
  }

  /** Starts a new incarnation of the slot (its previous process must be gone) and waits for /health/ready. */
  public void restart(NodeProcess n) {
    synchronized (ready) {
      ready[n.slot - 1] = false;
    }
    n.start(jvmArgs, env);
    if (awaitReady(n, READY_TIMEOUT_MS)) {
      setReady(n, true);
    }
  }

  /** Waits (bounded) until the node answers /health/ready with 200; false when it did not or exited. */
  public boolean awaitReady(NodeProcess n, long timeoutMs) {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (System.currentTimeMillis() < deadline) {
      if (!n.alive()) {
        return false;
      }
      if (http.get(n, "/health/ready", null, 1_000).ok()) {
        return true;
      }
      sleep(200);
    }
    return false;
  }

  private void poll() {
    for (NodeProcess n : nodes) {
      if (!n.alive()) {
        setReady(n, false);
        continue;
      }
      http.call(HttpMethod.GET, n, "/health/ready", null, null, 700).onComplete(ar ->
          setReady(n, ar.succeeded() && ar.result().ok() && n.alive()));
    }
  }

  private void setReady(NodeProcess n, boolean r) {
    synchronized (ready) {
      ready[n.slot - 1] = r;
    }
  }

  /** The nodes the load balancer sends new connections to: client-serving, alive and last seen ready. */
  public List<NodeProcess> live() {
    List<NodeProcess> out = new ArrayList<>();
    synchronized (ready) {
      for (NodeProcess n : nodes) {
        if (n.servesClients() && ready[n.slot - 1] && n.alive()) {
          out.add(n);
        }
      }
    }
    return out;
  }

  /** A random live node (the load balancer's pick), or null when none is. */
  public NodeProcess pickLive(Random random) {
    List<NodeProcess> l = live();
    return l.isEmpty() ? null : l.get(random.nextInt(l.size()));
  }

  /**
   * Each client-serving node's view of the cluster ({@code GET /api/v1/cluster}: the node ids in its
   * directory, data members included), by node id; a node that does not answer maps to null. Data
   * members serve no API: they are judged by their readiness alone.
   */
  public Map<String, Set<String>> views() {
    Map<String, Set<String>> out = new java.util.LinkedHashMap<>();
    for (NodeProcess n : gateways()) {
      if (!n.alive() || n.frozen()) {
        out.put(n.nodeId(), null);
        continue;
      }
      HttpCalls.Response r = http.get(n, "/api/v1/cluster", serviceToken, 2_000);
      if (!r.ok()) {
        out.put(n.nodeId(), null);
        continue;
      }
      Set<String> ids = new TreeSet<>();
      for (Object o : new JsonObject(r.body()).getJsonArray("nodes")) {
        ids.add(((JsonObject) o).getString("node_id"));
      }
      out.put(n.nodeId(), ids);
    }
    return out;
  }

  /** The node ids of the current incarnations. */
  public Set<String> currentIds() {
    return nodes.stream().map(NodeProcess::nodeId).collect(Collectors.toCollection(TreeSet::new));
  }

  /** Every node alive, ready, and seeing exactly the current incarnations as the cluster. */
  public boolean whole() {
    Set<String> ids = currentIds();
    for (NodeProcess n : nodes) {
      if (!n.alive() || n.frozen() || !http.get(n, "/health/ready", null, 1_000).ok()) {
        return false;
      }
    }
    for (Set<String> v : views().values()) {
      if (v == null || !v.equals(ids)) {
        return false;
      }
    }
    return true;
  }

  /** Waits until {@link #whole()} holds; false after {@code timeoutMs}. */
  public boolean awaitWhole(long timeoutMs) {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (System.currentTimeMillis() < deadline) {
      if (whole()) {
        return true;
      }
      sleep(300);
    }
    return false;
  }

  @Override
  public void close() {
    if (poller >= 0) {
      vertx.cancelTimer(poller);
    }
    killNodes();
    http.close();
  }

  /** SIGKILLs every node (safe from a shutdown hook while the run's thread still goes on). */
  void killNodes() {
    for (NodeProcess n : nodes) {
      n.kill();
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
