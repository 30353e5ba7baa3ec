package dev.switchboard.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.Node;
import dev.switchboard.testsupport.Http;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The live figures on {@code $sys:nodes} and {@code $sys:ops} (api/SysFeed) on a real two-node
 * cluster with a 100 ms interval: nothing is published while nobody subscribes (the nodes' tick and
 * publication counters, and the topic's offset), an admin gets every node's figures over WebSocket,
 * a non-admin is refused, and publishing stops again once the admin leaves.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SysFeedTest {
  static List<Node> nodes;
  static Vertx vertx;
  static final String ADMIN = Tokens.hs256(Tokens.claims("root", 600).put("roles", new JsonArray().add("admin")));

  @BeforeAll
  static void up() {
    nodes = TestNode.cluster(2, Map.of("SB_ADMIN_LIVE_INTERVAL_MS", "100"));
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void down() {
    TestNode.stop(nodes.toArray(new Node[0]));
    vertx.close();
  }

  static double counter(Node n, String name) {
    var c = n.context().metrics().registry().find(name).counter();
    return c == null ? -1 : c.count();
  }

  static double ticks(Node n) {
    return counter(n, "sb_sys_feed_ticks");
  }

  static double published(Node n) {
    return counter(n, "sb_sys_publications");
  }

  static void await(BooleanSupplier condition, String what) {
    long deadline = System.currentTimeMillis() + 10_000;
    while (!condition.getAsBoolean()) {
      if (System.currentTimeMillis() > deadline) {
        throw new AssertionError("not within 10 s: " + what);
      }
      java.util.concurrent.locks.LockSupport.parkNanos(20_000_000);
    }
  }

  /** Waits until every node has ticked {@code n} more times than now. */
  static void ticksPass(int n) {
    double[] from = nodes.stream().mapToDouble(SysFeedTest::ticks).toArray();
    await(() -> {
      for (int i = 0; i < nodes.size(); i++) {
        if (ticks(nodes.get(i)) < from[i] + n) {
          return false;
        }
      }
      return true;
    }, n + " ticks on every node");
  }

  static long offset(String topic) {
    return TestNode.await(nodes.get(0).context().topics().history(topic, -1, 1)).offset();
  }

  @Test
  @Order(1)
  void nothingIsPublishedWhileNobodySubscribes() {
    ticksPass(5);
    for (Node n : nodes) {
      assertEquals(0.0, published(n), n.nodeId());
    }
    assertEquals(0, offset("$sys:nodes"));
    assertEquals(0, offset("$sys:ops"));
  }

  @Test
  @Order(2)
  void onlyAdminsSubscribeAndNobodyPublishes() {
    try (WsClient user = WsClient.connect(vertx, nodes.get(0).port(), Tokens.user("eve", "*"));
         WsClient admin = WsClient.connect(vertx, nodes.get(0).port(), ADMIN)) {
      for (String topic : List.of("$sys:nodes", "$sys:ops")) {
        assertEquals("FORBIDDEN", user.call("topic.subscribe", WsClient.params().put("topic", topic)).at("/error/code").asText());
        assertEquals("FORBIDDEN", user.call("topic.history", WsClient.params().put("topic", topic)).at("/error/code").asText());
        assertEquals("FORBIDDEN", admin.call("topic.publish", WsClient.params().put("topic", topic).put("data", 1))
            .at("/error/code").asText());
      }
      // other $ names are not topics at all
      assertEquals("INVALID_PARAMS", admin.call("topic.subscribe", WsClient.params().put("topic", "$sys:secrets"))
          .at("/error/code").asText());
      String service = Tokens.hs256(Tokens.claims("svc", 600).put("roles", new JsonArray().add("service")));
      var r = Http.post(nodes.get(0).port(), "/api/v1/publish", "{\"topic\":\"$sys:nodes\",\"data\":1}",
          "Authorization", "Bearer " + service, "content-type", "application/json");
      assertEquals(403, r.statusCode(), r.body());
    }
    assertEquals(0, offset("$sys:nodes"));
  }

  @Test
  @Order(3)
  void anAdminGetsEveryNodesFiguresAndOperations() {
    try (WsClient admin = WsClient.connect(vertx, nodes.get(0).port(), ADMIN);
         WsClient worker = WsClient.connect(vertx, nodes.get(1).port(), Tokens.user("opper"))) {
      JsonNode sub = admin.call("topic.subscribe", WsClient.params().put("topic", "$sys:nodes"));
      assertEquals("$sys:nodes", sub.at("/result/topic").asText(), sub.toString());
      Set<String> from = new HashSet<>();
      long deadline = System.currentTimeMillis() + 10_000;
      while (from.size() < 2 && System.currentTimeMillis() < deadline) {
        JsonNode e = admin.await(f -> "event".equals(f.path("type").asText()), WsClient.WAIT);
        assertEquals("$sys:nodes", e.get("topic").asText());
        JsonNode d = e.get("data");
        assertTrue(d.has("connections") && d.has("heap_used_bytes") && d.has("event_loop_delay_ms")
            && d.has("operations_running") && d.has("draining"), d.toString());
        from.add(d.get("node_id").asText());
      }
      assertEquals(Set.of("n1", "n2"), from);

      int id = worker.request("demo.count", WsClient.params().put("to", 1000).put("interval_ms", 50));
      String opId = worker.await(f -> f.path("id").asInt(-1) == id, WsClient.WAIT).get("op_id").asText();
      admin.call("topic.subscribe", WsClient.params().put("topic", "$sys:ops"));
      JsonNode ops = admin.await(f -> "$sys:ops".equals(f.path("topic").asText())
          && f.at("/data/ops").toString().contains(opId), WsClient.WAIT);
      assertTrue(Set.of("n1", "n2").contains(ops.at("/data/node_id").asText()), "run on any node: " + ops);
      assertEquals(1, ops.at("/data/ops/0/attached").asInt(), ops.toString());
      worker.call("op.cancel", WsClient.params().put("op_id", opId));
    }
  }

  @Test
  @Order(4)
  void publishingStopsOnceNobodySubscribes() {
    // the admin of the previous test has gone: the watch words expire within a few intervals
    ticksPass(SysFeed.WATCH_INTERVALS + 3);
    double[] before = nodes.stream().mapToDouble(SysFeedTest::published).toArray();
    long offset = offset("$sys:nodes");
    assertTrue(offset > 0);
    ticksPass(5);
    for (int i = 0; i < nodes.size(); i++) {
      assertEquals(before[i], published(nodes.get(i)), nodes.get(i).nodeId());
    }
    assertEquals(offset, offset("$sys:nodes"));
  }
}
