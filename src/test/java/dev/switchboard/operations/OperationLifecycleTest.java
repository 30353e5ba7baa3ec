package dev.switchboard.operations;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.WsClient;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Races, orphans and backpressure of operations, on two real nodes. */
@Cluster(nodes = 2, env = {"SB_ORPHAN_TIMEOUT_MS=500", "SB_RATE_PER_SEC=100000", "SB_RATE_BURST=100000",
    "SB_MAX_CONCURRENT_OPS=100", "SB_OPS_MAX_PER_USER=1000"})
class OperationLifecycleTest {
  static Nodes nodes;

  static WsClient connect(int node, String user) {
    return nodes.client(node, user);
  }

  @Test
  void cancelRacingCompletionGivesExactlyOneTerminalEveryTime() {
    try (WsClient c = connect(0, "racer"); WsClient other = connect(1, "racer")) {
      java.util.Set<Integer> opRequests = new java.util.HashSet<>();
      java.util.List<JsonNode> seen = new java.util.ArrayList<>();
      for (int i = 0; i < 100; i++) {
        int id = c.request("demo.count", WsClient.params().put("to", 1 + (i % 3)).put("interval_ms", 0));
        opRequests.add(id);
        JsonNode first = null;
        while (first == null) {
          JsonNode f = c.next(WsClient.WAIT);
          seen.add(f);
          if (f.path("id").asInt(-1) == id) {
            first = f;
          }
        }
        // cancel from this connection or from the other node, racing the count's own completion
        (i % 2 == 0 ? c : other).request("op.cancel", WsClient.params().put("op_id", first.get("op_id").asText()));
        boolean ended = WsClient.isTerminal(first);
        while (!ended) {
          JsonNode f = c.next(WsClient.WAIT);
          seen.add(f);
          ended = f.path("id").asInt(-1) == id && WsClient.isTerminal(f);
        }
      }
      // a last request on the same connection: whatever was in flight before it has arrived
      int ping = c.request("system.ping", null);
      while (true) {
        JsonNode f = c.next(WsClient.WAIT);
        seen.add(f);
        if (f.path("id").asInt(-1) == ping) {
          break;
        }
      }
      java.util.Map<Integer, Integer> terminals = new java.util.HashMap<>();
      for (JsonNode f : seen) {
        int id = f.path("id").asInt(-1);
        if (opRequests.contains(id) && WsClient.isTerminal(f)) {
          assertTrue("result".equals(f.get("type").asText()) || "CANCELLED".equals(f.at("/error/code").asText()),
              f.toString());
          terminals.merge(id, 1, Integer::sum);
        }
      }
      assertEquals(100, terminals.size());
      assertTrue(terminals.values().stream().allMatch(n -> n == 1), "exactly one terminal per request: " + terminals);
    }
  }

  @Test
  void anOperationNobodyFollowsIsCancelledAfterTheOrphanTimeout() {
    String opId;
    try (WsClient c = connect(0, "orphan")) {
      int id = c.request("demo.count", WsClient.params().put("to", 100_000).put("interval_ms", 50));
      opId = c.await(x -> x.path("id").asInt(-1) == id, WsClient.WAIT).get("op_id").asText();
    }
    try (WsClient later = connect(1, "orphan")) {
      long deadline = System.currentTimeMillis() + 10_000;
      String state = "";
      while (System.currentTimeMillis() < deadline && !"cancelled".equals(state)) {
        state = later.call("op.status", WsClient.params().put("op_id", opId)).at("/result/state").asText();
      }
      assertEquals("cancelled", state);
    }
  }

  @Test
  void aClientReattachesFromAnotherNodeAfterItsConnectionDrops() {
    String opId;
    long lastSeq;
    try (WsClient c = connect(0, "mover")) {
      int id = c.request("demo.count", WsClient.params().put("to", 40).put("interval_ms", 30));
      JsonNode f = c.await(x -> x.path("id").asInt(-1) == id && x.path("data").path(0).asInt() == 3, WsClient.WAIT);
      opId = f.get("op_id").asText();
      lastSeq = f.get("seq").asLong();
    }
    try (WsClient again = connect(1, "mover")) {
      int id = again.request("op.attach", WsClient.params().put("op_id", opId).put("after_seq", lastSeq));
      long seq = lastSeq;
      int expectNext = 4;
      while (true) {
        JsonNode f = again.await(x -> x.path("id").asInt(-1) == id, Duration.ofSeconds(15));
        assertTrue(f.get("seq").asLong() > seq);
        seq = f.get("seq").asLong();
        if ("stream".equals(f.get("type").asText())) {
          assertEquals(expectNext++, f.get("data").get(0).asInt(), "nothing lost, nothing repeated");
        }
        if (WsClient.isTerminal(f)) {
          assertEquals(40, f.at("/result/count").asInt());
          break;
        }
      }
      assertEquals(41, expectNext);
    }
  }

  @Test
  void aClientThatStopsReadingPausesTheProducer() throws Exception {
    try (WsClient c = connect(0, "sloth"); WsClient watch = connect(1, "sloth")) {
      int id = c.request("demo.count", WsClient.params().put("to", 1_000_000).put("interval_ms", 0));
      String opId = c.await(x -> x.path("id").asInt(-1) == id, WsClient.WAIT).get("op_id").asText();
      c.socket().pause(); // stop reading: the socket buffers fill, then the node's queue, then the producer waits
      long seqA = 0;
      long seqB = -1;
      long deadline = System.currentTimeMillis() + 20_000;
      // the producer's seq stops growing once everything on the path is full
      while (System.currentTimeMillis() < deadline && seqA != seqB) {
        seqA = watch.call("op.status", WsClient.params().put("op_id", opId)).at("/result/seq").asLong();
        Thread.sleep(1500); // a paused producer's seq stays put over a while (the count runs ~µs a frame)
        seqB = watch.call("op.status", WsClient.params().put("op_id", opId)).at("/result/seq").asLong();
      }
      assertEquals(seqA, seqB, "the producer is paused");
      assertTrue(seqB < 1_000_000, "and far from done");
      assertEquals("running", watch.call("op.status", WsClient.params().put("op_id", opId)).at("/result/state").asText());
      c.socket().resume();
      watch.call("op.cancel", WsClient.params().put("op_id", opId));
    }
  }
}
