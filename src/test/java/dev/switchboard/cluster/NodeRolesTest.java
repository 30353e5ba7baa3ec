package dev.switchboard.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.partition.Partition;
import dev.switchboard.Node;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.testsupport.Http;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The two-tier shape (node.role): two data members ({@code data}) hold the partitions, a gateway
 * ({@code gateway}) joins as a Hazelcast lite member and serves clients, and a gateway's departure
 * does not change the majority the data members need (cluster/Quorum counts data members only).
 */
class NodeRolesTest {
  static Node data1;
  static Node data2;
  static Node gateway;
  static Vertx vertx;
  static String members;
  static final int[] PORTS = {TestNode.freePort(), TestNode.freePort(), TestNode.freePort(), TestNode.freePort()};

  @BeforeAll
  static void up() {
    members = String.join(",", java.util.Arrays.stream(PORTS).mapToObj(p -> "127.0.0.1:" + p).toList());
    data1 = start("d1", "data", PORTS[0]);
    data2 = start("d2", "data", PORTS[1]);
    gateway = start("g1", "gateway", PORTS[2]);
    awaitSafe(data1, data2, gateway);
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void down() {
    TestNode.stop(gateway, data1, data2);
    if (vertx != null) {
      vertx.close();
    }
  }

  static Node start(String id, String role, int port) {
    return TestNode.start(Map.of("SB_NODE_ID", id, "SB_NODE_ROLE", role, "SB_CLUSTER_PORT", String.valueOf(port),
        "SB_CLUSTER_MEMBERS", members));
  }

  static HazelcastInstance hz(Node n) {
    return n.context().cluster().getHazelcastInstance();
  }

  static void awaitSafe(Node... nodes) {
    for (Node n : nodes) {
      eventually("partitions safe on " + n.nodeId(), () -> hz(n).getPartitionService().isClusterSafe());
    }
  }

  static void eventually(String what, BooleanSupplier condition) {
    eventually(what, condition, () -> "");
  }

  static void eventually(String what, BooleanSupplier condition, java.util.function.Supplier<String> detail) {
    long deadline = System.currentTimeMillis() + 30_000;
    while (!condition.getAsBoolean()) {
      if (System.currentTimeMillis() > deadline) {
        throw new AssertionError("not within 30 s: " + what + " " + detail.get());
      }
      java.util.concurrent.locks.LockSupport.parkNanos(50_000_000);
    }
  }

  @Test
  void gatewayJoinsAsLiteMemberAndOwnsNoPartition() {
    assertTrue(hz(gateway).getCluster().getLocalMember().isLiteMember(), "gateway is a lite member");
    assertFalse(hz(data1).getCluster().getLocalMember().isLiteMember(), "d1 is a data member");
    assertFalse(hz(data2).getCluster().getLocalMember().isLiteMember(), "d2 is a data member");
    assertEquals(3, hz(gateway).getCluster().getMembers().size());
    for (Partition p : hz(gateway).getPartitionService().getPartitions()) {
      assertNotNull(p.getOwner(), "partition " + p.getPartitionId() + " has an owner");
      assertFalse(p.getOwner().isLiteMember(), "partition " + p.getPartitionId() + " owned by " + p.getOwner());
    }
    // the quorum everywhere expects the two data members, the gateway not counted
    for (Node n : List.of(data1, data2, gateway)) {
      assertEquals(2, quorum(n).expected(), "data members expected by " + n.nodeId());
    }
  }

  @Test
  void gatewayServesTopicsWhoseHistoryTheDataMembersHold() {
    String topic = "chat:roles-" + System.nanoTime();
    assertEquals(200, Http.get(gateway.port(), "/health/ready").statusCode());
    try (WsClient sub = WsClient.connect(vertx, gateway.port(), Tokens.user("alice", "chat:*"));
         WsClient pub = WsClient.connect(vertx, gateway.port(), Tokens.user("bob", "chat:*"))) {
      JsonNode r = sub.call("topic.subscribe", WsClient.params().put("topic", topic));
      assertEquals("result", r.get("type").asText(), r.toString());
      JsonNode p = pub.call("topic.publish", WsClient.params().put("topic", topic).put("data", "hello"));
      assertEquals(1, p.at("/result/offset").asLong(), p.toString());
      JsonNode e = sub.await(f -> "event".equals(f.path("type").asText()) && topic.equals(f.path("topic").asText()),
          Duration.ofSeconds(10));
      assertEquals(1, e.get("offset").asLong());
      assertEquals("hello", e.get("data").asText());
      JsonNode h = sub.call("topic.history", WsClient.params().put("topic", topic));
      assertEquals("result", h.get("type").asText(), h.toString());
    }
    // the history ring's partition is owned by a data member, which holds the event
    String ring = Addresses.history(topic);
    Partition owner = hz(gateway).getPartitionService().getPartition(ring.substring(ring.indexOf('@') + 1));
    assertTrue(List.of(hz(data1).getCluster().getLocalMember(), hz(data2).getCluster().getLocalMember())
        .contains(owner.getOwner()), "ring owned by " + owner.getOwner());
    assertEquals(0, hz(data1).getRingbuffer(ring).tailSequence(), "one event in the ring");
  }

  @Test
  void dataNodeServesProbesAndMetricsButNoClient() {
    assertEquals(200, Http.get(data1.port(), "/health/live").statusCode());
    assertEquals(200, Http.get(data1.port(), "/health/ready").statusCode());
    assertTrue(Http.get(data1.port(), "/metrics").body().contains("jvm_"), "metrics served");
    assertEquals(404, Http.get(data1.port(), "/api/v1/cluster").statusCode());
    WsClient.Upgrade ws = WsClient.open(vertx, data1.port(), "/ws?token=" + Tokens.user("alice"), Map.of(), null);
    assertEquals(404, ws.status(), "no WebSocket on a data node");
    // listed with its role, so that nothing looks for clients or warm-up rounds there
    JsonArray nodes = TestNode.await(gateway.context().directory().nodes());
    Map<String, String> roles = new HashMap<>();
    nodes.forEach(o -> roles.put(((JsonObject) o).getString("node_id"), ((JsonObject) o).getString("role")));
    assertEquals("data", roles.get("d1"), nodes.encode());
    assertEquals("gateway", roles.get("g1"), nodes.encode());
  }

  /**
   * A draining gateway announces its departure to every node, as a data member does; the data members
   * then expect one member fewer for a data member only. A gateway's must change nothing: neither the
   * majority the probe waits for while it drains, nor the members expected once it is gone.
   */
  @Test
  void gatewayLeavingDoesNotLowerTheDataMajority() throws Exception {
    Node second = start("g2", "gateway", PORTS[3]);
    List<Node> staying = List.of(data1, data2, gateway);
    int[] removals = staying.stream().mapToInt(n -> quorum(n).removals()).toArray();
    try {
      assertEquals(200, Http.get(second.port(), "/health/ready").statusCode());
      assertEquals(2, quorum(second).expected());
      // what Node#announceLeaving sends at the start of a drain, answered once each node took it in
      String me = hz(second).getCluster().getLocalMember().getUuid().toString();
      for (Node n : staying) {
        TestNode.await(second.context().vertx().eventBus().request(Addresses.quorum(n.nodeId()),
            new JsonObject().put("member", me)));
      }
      for (Node n : staying) {
        assertFalse(quorum(n).leaving(hz(second).getCluster().getLocalMember()), "g2 not counted as leaving by " + n.nodeId());
        assertFalse(quorum(n).holdsAmongStaying(1), "one data member of two is no majority, on " + n.nodeId());
        assertTrue(quorum(n).holdsAmongStaying(2), "both data members are, on " + n.nodeId());
      }
    } finally {
      second.close().await(30, TimeUnit.SECONDS);
    }
    // each quorum has handled g2's removal (the view changes before the quorum hears of it)
    for (int i = 0; i < staying.size(); i++) {
      Node n = staying.get(i);
      int before = removals[i];
      eventually("g2's removal handled by " + n.nodeId(), () -> quorum(n).removals() > before);
    }
    for (Node n : staying) {
      assertEquals(2, quorum(n).expected(), "data members still expected by " + n.nodeId());
    }
  }

  /** Tries again every 2 s, then gives up after the join timeout with one line saying why, leaving nothing running. */
  @Test
  void gatewayWithoutDataMembersGivesUpAfterTheJoinTimeout() {
    String cluster = TestNode.CLUSTER + "-alone";
    Map<String, String> env = TestNode.env(Map.of("SB_NODE_ROLE", "gateway", "SB_CLUSTER_NAME", cluster,
        "SB_CLUSTER_JOIN_TIMEOUT_MS", "3000"));
    int port = TestNode.freePort();
    env.put("SB_CLUSTER_CONFIG", TestNode.CLUSTER_CONFIG);
    env.put("SB_CLUSTER_PORT", String.valueOf(port));
    env.put("SB_CLUSTER_MEMBERS", "127.0.0.1:" + port);
    long vertxInstances = vertxInstances();
    assertTrue(vertxInstances >= 3, "the running nodes' Vert.x instances are seen: " + vertxInstances);
    long began = System.currentTimeMillis();
    Exception e = assertThrows(Exception.class,
        () -> Node.start(ConfigLoader.load(env)).await(60, TimeUnit.SECONDS));
    assertTrue(String.valueOf(e.getMessage()).contains("no data member in cluster " + cluster + " within 3000 ms"),
        String.valueOf(e));
    assertTrue(System.currentTimeMillis() - began >= 2000, "tried again before giving up");
    eventually("the lone gateway's members shut down", () -> members(cluster) == 0);
    // one blocked-thread checker per Vert.x instance, ended by its close (worker threads of the running
    // nodes come and go, so a count of all Vert.x threads says nothing)
    eventually("every attempt's Vert.x closed", () -> vertxInstances() <= vertxInstances);
  }

  /** Deployed together, gateways may start before the data tier: a gateway waits for a data member. */
  @Test
  void gatewayStartedBeforeAnyDataMemberJoinsOnceOneIsUp() throws Exception {
    String cluster = TestNode.CLUSTER + "-late";
    int gatewayPort = TestNode.freePort();
    int dataPort = TestNode.freePort();
    String list = "127.0.0.1:" + gatewayPort + ",127.0.0.1:" + dataPort;
    var starting = java.util.concurrent.CompletableFuture.supplyAsync(() -> TestNode.start(Map.of("SB_NODE_ID", "late-g",
        "SB_NODE_ROLE", "gateway", "SB_CLUSTER_NAME", cluster, "SB_CLUSTER_JOIN_TIMEOUT_MS", "30000",
        "SB_CLUSTER_PORT", String.valueOf(gatewayPort), "SB_CLUSTER_MEMBERS", list)));
    Node late = null;
    Node data = null;
    try {
      // its first attempt found no data member and closed its Hazelcast member
      eventually("the gateway's first attempt", () -> members(cluster) > 0);
      eventually("the gateway's first attempt given up", () -> members(cluster) == 0 || starting.isDone());
      assertFalse(starting.isDone(), "the gateway waits");
      data = TestNode.start(Map.of("SB_NODE_ID", "late-d", "SB_NODE_ROLE", "data", "SB_CLUSTER_NAME", cluster,
          "SB_CLUSTER_PORT", String.valueOf(dataPort), "SB_CLUSTER_MEMBERS", list));
      late = starting.get(60, TimeUnit.SECONDS);
      assertTrue(hz(late).getCluster().getLocalMember().isLiteMember());
      assertEquals(200, Http.get(late.port(), "/health/ready").statusCode());
    } finally {
      if (late == null) {
        late = starting.handle((n, err) -> n).get(60, TimeUnit.SECONDS);
      }
      TestNode.stop(late, data);
    }
  }

  static long members(String cluster) {
    return com.hazelcast.core.Hazelcast.getAllHazelcastInstances().stream()
        .filter(i -> i.getConfig().getClusterName().equals(cluster)).count();
  }

  static long vertxInstances() {
    return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("vertx-blocked-thread-checker"))
        .count();
  }

  static Quorum quorum(Node n) {
    return Quorum.of(hz(n));
  }
}
