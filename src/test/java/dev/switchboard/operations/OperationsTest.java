package dev.switchboard.operations;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.WsClient;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Operations across three real nodes: frames and seq, cancel and attach from other nodes, dedupe, status, limits. */
@Cluster(nodes = 3, env = "SB_MAX_CONCURRENT_OPS=3")
class OperationsTest {
  static Nodes nodes;

  static WsClient connect(int node, String user) {
    return nodes.client(node, user);
  }

  /** All frames of one request until its terminal, asserting seq 1, 2, 3… with one terminal. */
  static List<JsonNode> frames(WsClient c, int id, Duration timeout) {
    List<JsonNode> out = new ArrayList<>();
    while (true) {
      JsonNode f = c.await(x -> x.path("id").asInt(-1) == id, timeout);
      out.add(f);
      if (WsClient.isTerminal(f)) {
        return out;
      }
    }
  }

  @Test
  void countStreamsEveryNumberWithContiguousSeqAndOneTerminal() {
    try (WsClient c = connect(0, "ann")) {
      int id = c.request("demo.count", WsClient.params().put("to", 50).put("interval_ms", 0));
      List<JsonNode> fs = frames(c, id, Duration.ofSeconds(20));
      assertEquals("progress", fs.get(0).get("type").asText());
      assertEquals("queued", fs.get(0).get("stage").asText());
      String opId = fs.get(0).get("op_id").asText();
      long seq = 0;
      int n = 0;
      for (JsonNode f : fs) {
        assertEquals(opId, f.get("op_id").asText());
        assertTrue(f.get("seq").asLong() > seq, "seq grows");
        if ("stream".equals(f.get("type").asText())) {
          assertEquals(seq + 1, f.get("seq").asLong(), "no gap before a stream frame");
          assertEquals(++n, f.get("data").get(0).asInt());
        }
        seq = f.get("seq").asLong();
      }
      assertEquals(50, n);
      JsonNode last = fs.get(fs.size() - 1);
      assertEquals("result", last.get("type").asText());
      assertEquals(50, last.at("/result/count").asInt());
      // the registry records the end right after the terminal frame went out: poll briefly
      JsonNode status = c.call("op.status", WsClient.params().put("op_id", opId));
      long deadline = System.currentTimeMillis() + 5000;
      while (!"done".equals(status.at("/result/state").asText()) && System.currentTimeMillis() < deadline) {
        status = c.call("op.status", WsClient.params().put("op_id", opId));
      }
      assertEquals("done", status.at("/result/state").asText(), status.toString());
      assertEquals(last.get("seq").asLong(), status.at("/result/seq").asLong());
    }
  }

  @Test
  void cancelFromAnotherNodeEndsAPrimesRunWithCancelledOnce() {
    try (WsClient a = connect(0, "bob"); WsClient b = connect(2, "bob")) {
      int id = a.request("demo.primes", WsClient.params().put("limit", 1_000_000_000_000L).put("batch", 1000));
      JsonNode first = a.await(x -> x.path("id").asInt(-1) == id, WsClient.WAIT);
      String opId = first.get("op_id").asText();
      a.await(x -> x.path("id").asInt(-1) == id && "stream".equals(x.path("type").asText()), Duration.ofSeconds(20));
      long t0 = System.nanoTime();
      JsonNode r = b.call("op.cancel", WsClient.params().put("op_id", opId));
      assertEquals("result", r.get("type").asText(), r.toString());
      JsonNode terminal = a.await(x -> x.path("id").asInt(-1) == id && WsClient.isTerminal(x), Duration.ofSeconds(10));
      assertEquals("CANCELLED", terminal.at("/error/code").asText());
      assertTrue(System.nanoTime() - t0 < 5_000_000_000L);
      // nothing after the terminal
      assertTrue(a.call("system.ping", null).has("result"));
      assertFalse(a.drain().stream().anyMatch(x -> x.path("id").asInt(-1) == id));
    }
  }

  @Test
  void otherUsersCannotCancelOrAttach() {
    try (WsClient a = connect(0, "cat"); WsClient eve = connect(1, "eve")) {
      int id = a.request("demo.count", WsClient.params().put("to", 1000).put("interval_ms", 50));
      String opId = a.await(x -> x.path("id").asInt(-1) == id, WsClient.WAIT).get("op_id").asText();
      assertEquals("FORBIDDEN", eve.call("op.cancel", WsClient.params().put("op_id", opId)).at("/error/code").asText());
      assertEquals("FORBIDDEN", eve.call("op.attach", WsClient.params().put("op_id", opId)).at("/error/code").asText());
      assertEquals("UNKNOWN_OPERATION", eve.call("op.status", WsClient.params().put("op_id", "op_nope")).at("/error/code").asText());
      a.call("op.cancel", WsClient.params().put("op_id", opId));
    }
  }

  @Test
  void attachFromAnotherNodeReplaysThenFollowsToTheTerminal() {
    try (WsClient a = connect(0, "dan"); WsClient b = connect(1, "dan")) {
      int id = a.request("demo.count", WsClient.params().put("to", 30).put("interval_ms", 20));
      String opId = a.await(x -> x.path("id").asInt(-1) == id, WsClient.WAIT).get("op_id").asText();
      a.await(x -> x.path("id").asInt(-1) == id && x.path("data").path(0).asInt() == 5, WsClient.WAIT);
      int att = b.request("op.attach", WsClient.params().put("op_id", opId).put("after_seq", 0));
      List<JsonNode> fs = frames(b, att, Duration.ofSeconds(20));
      assertEquals(1, fs.get(0).get("seq").asLong());
      for (int i = 1; i < fs.size(); i++) {
        assertTrue(fs.get(i).get("seq").asLong() > fs.get(i - 1).get("seq").asLong());
      }
      assertEquals(30, fs.get(fs.size() - 1).at("/result/count").asInt());
      JsonNode list = b.call("op.list", null).get("result");
      assertFalse(list.toString().contains(opId), "finished operations are not listed");
    }
  }

  @Test
  void anIdenticalRequestOnAnotherNodeJoinsTheRunningOperation() {
    try (WsClient a = connect(0, "fin"); WsClient b = connect(2, "fin")) {
      int id1 = a.request("demo.count", WsClient.params().put("to", 20).put("interval_ms", 50));
      String opId = a.await(x -> x.path("id").asInt(-1) == id1, WsClient.WAIT).get("op_id").asText();
      int id2 = b.request("demo.count", WsClient.params().put("interval_ms", 50).put("to", 20));
      JsonNode first = b.await(x -> x.path("id").asInt(-1) == id2, WsClient.WAIT);
      assertEquals(opId, first.get("op_id").asText());
      assertTrue(first.get("deduplicated").asBoolean(), first.toString());
      List<JsonNode> rest = frames(b, id2, Duration.ofSeconds(20));
      assertEquals(20, rest.get(rest.size() - 1).at("/result/count").asInt());
    }
  }

  @Test
  void overTheConnectionLimitIsRateLimited() {
    try (WsClient c = connect(1, "gil")) {
      List<String> ops = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        int id = c.request("demo.count", WsClient.params().put("to", 1000).put("interval_ms", 100 + i));
        ops.add(c.await(x -> x.path("id").asInt(-1) == id, WsClient.WAIT).get("op_id").asText());
      }
      JsonNode over = c.call("demo.count", WsClient.params().put("to", 1000).put("interval_ms", 999));
      assertEquals("RATE_LIMITED", over.at("/error/code").asText(), over.toString());
      assertTrue(over.at("/error/retry_after_ms").asLong() > 0);
      assertEquals(3, c.call("op.list", null).at("/result/ops").size());
      for (String op : ops) {
        c.call("op.cancel", WsClient.params().put("op_id", op));
      }
    }
  }
}
