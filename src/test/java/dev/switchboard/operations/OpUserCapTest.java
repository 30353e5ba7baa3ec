package dev.switchboard.operations;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.Node;
import dev.switchboard.testsupport.ChildNode;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code ops.max_per_user} across nodes (counted per user and worker member, see OpSlots): a user's
 * live operations anywhere count, an ended one gives its slot back, a deduplicated request starts
 * nothing and is not refused, and the operations of a node that dies stop counting.
 */
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class OpUserCapTest {
  static final int CAP = 3;
  static final Map<String, String> ENV = Map.of("SB_OPS_MAX_PER_USER", String.valueOf(CAP),
      "SB_MAX_CONCURRENT_OPS", "100", "SB_RATE_PER_SEC", "100000", "SB_RATE_BURST", "100000");
  static List<Node> nodes;
  static Vertx vertx;

  @BeforeAll
  static void up() {
    nodes = TestNode.cluster(2, ENV);
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void down() {
    TestNode.stop(nodes.toArray(new Node[0]));
    vertx.close();
  }

  static WsClient connect(int node, String user) {
    return WsClient.connect(vertx, nodes.get(node).port(), Tokens.user(user));
  }

  /** Starts a long demo.count (distinct params per {@code k}); its first frame. */
  static JsonNode start(WsClient c, int k) {
    int id = c.request("demo.count", WsClient.params().put("to", 1_000_000).put("interval_ms", 10_000 + k));
    return c.await(x -> x.path("id").asInt(-1) == id, WsClient.WAIT);
  }

  /**
   * {@link #start}, after a member died: work sent over a route to the dead node that the event bus
   * still had fails after its send timeout (UNAVAILABLE, retryable), as for any client; retried.
   */
  static JsonNode startAfterLoss(WsClient c, int k) {
    JsonNode f = null;
    for (int i = 0; i < 5; i++) {
      int id = c.request("demo.count", WsClient.params().put("to", 1_000_000).put("interval_ms", 10_000 + k + i));
      f = c.await(x -> x.path("id").asInt(-1) == id, Duration.ofSeconds(25));
      if (!"UNAVAILABLE".equals(f.at("/error/code").asText())) {
        return f;
      }
    }
    return f;
  }

  static void cancel(WsClient c, String opId) {
    assertEquals("result", c.call("op.cancel", WsClient.params().put("op_id", opId)).path("type").asText());
  }

  static boolean refusedByCap(JsonNode f) {
    return "RATE_LIMITED".equals(f.at("/error/code").asText())
        && f.at("/error/message").asText().contains("for this user");
  }

  @Test
  @org.junit.jupiter.api.Order(1)
  void theCapCountsTheUsersOperationsOnEveryNodeAndAnEndedOneGivesItsSlotBack() {
    try (WsClient a = connect(0, "capped"); WsClient b = connect(1, "capped")) {
      List<String> ops = new ArrayList<>();
      for (int k = 0; k < CAP; k++) {
        JsonNode f = start(k % 2 == 0 ? a : b, k);
        assertEquals("progress", f.path("type").asText(), f.toString());
        ops.add(f.get("op_id").asText());
      }
      JsonNode over = start(b, 99);
      assertTrue(refusedByCap(over), over.toString());
      assertTrue(over.at("/error/retry_after_ms").asLong() > 0);
      // an identical request joins the running operation: it starts nothing and is not refused
      int join = a.request("demo.count", WsClient.params().put("to", 1_000_000).put("interval_ms", 10_000));
      JsonNode joined = a.await(x -> x.path("id").asInt(-1) == join, WsClient.WAIT);
      assertEquals(ops.get(0), joined.path("op_id").asText(), joined.toString());
      assertTrue(joined.path("deduplicated").asBoolean(), joined.toString());
      // another user is not concerned
      try (WsClient other = connect(1, "uncapped")) {
        JsonNode f = start(other, 0);
        assertEquals("progress", f.path("type").asText(), f.toString());
        cancel(other, f.get("op_id").asText());
      }
      cancel(b, ops.remove(1));
      JsonNode again = start(b, 100); // the cancelled one's slot is free once its run ended
      for (int i = 0; i < 50 && refusedByCap(again); i++) {
        // the slot is given back when the worker ends the run, just after the cancel's answer
        again = start(b, 101 + i);
      }
      assertEquals("progress", again.path("type").asText(), again.toString());
      ops.add(again.get("op_id").asText());
      assertTrue(refusedByCap(start(a, 200)));
      for (String op : ops) {
        cancel(a, op);
      }
    }
  }

  @Test
  @org.junit.jupiter.api.Order(2) // last: routes to the killed node may linger for a while
  void theOperationsOfANodeThatDiesStopCounting() {
    String members = nodes.stream().map(n -> "127.0.0.1:" + n.context().config().cluster().port())
        .reduce((x, y) -> x + "," + y).orElseThrow();
    try (ChildNode child = ChildNode.start("capchild", members, ENV);
         WsClient a = connect(0, "capdies")) {
      // fill the cap with operations, at least one of them run by the child (work goes round-robin)
      List<String> onChild = new ArrayList<>();
      List<String> elsewhere = new ArrayList<>();
      List<String> seen = new ArrayList<>();
      for (int k = 0; k < 60 && (onChild.isEmpty() || onChild.size() + elsewhere.size() < CAP); k++) {
        JsonNode f = start(a, k);
        assertEquals("progress", f.path("type").asText(), f.toString());
        String op = f.get("op_id").asText();
        JsonNode status = a.call("op.status", WsClient.params().put("op_id", op));
        String node = status.at("/result/node_id").asText();
        seen.add(node.isEmpty() ? status.toString() : node);
        if ("capchild".equals(node)) {
          onChild.add(op);
        } else if (elsewhere.size() < CAP - 1) {
          elsewhere.add(op);
        } else {
          cancel(a, op); // keep a slot for one on the child
        }
      }
      assertFalse(onChild.isEmpty(), "no operation ran on the child node: " + seen);
      assertEquals(CAP, onChild.size() + elsewhere.size());
      JsonNode over = null;
      for (int i = 0; i < 50 && (over == null || !refusedByCap(over)); i++) {
        over = start(a, 1000 + i); // cancelled ones give their slot back just after the answer
        if (!refusedByCap(over)) {
          cancel(a, over.get("op_id").asText());
        }
      }
      assertTrue(refusedByCap(over), over.toString());

      child.kill();
      for (int i = 0; i < onChild.size(); i++) {
        JsonNode lost = a.await(x -> WsClient.isTerminal(x) && "NODE_LOST".equals(x.at("/error/code").asText()),
            Duration.ofSeconds(20));
        assertTrue(onChild.contains(lost.path("op_id").asText()), lost.toString());
      }
      // their slots went with their member: as many operations start again
      for (int i = 0; i < onChild.size(); i++) {
        JsonNode f = startAfterLoss(a, 2000 + 10 * i);
        assertEquals("progress", f.path("type").asText(), f.toString());
        elsewhere.add(f.get("op_id").asText());
      }
      JsonNode refused = startAfterLoss(a, 3000);
      assertTrue(refusedByCap(refused), refused.toString());
      for (String op : elsewhere) {
        cancel(a, op);
      }
    }
  }
}
