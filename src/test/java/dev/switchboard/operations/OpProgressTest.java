package dev.switchboard.operations;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.routing.ParamSchema;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Progress frames carry the figures an operation knows and leave out the ones it does not: a known
 * total in every progress frame (the generic queued and running ones included), never a made-up 0.
 */
@Cluster(env = "SB_OPS_EXTERNAL=" + OpProgressTest.OPEN_ENDED)
class OpProgressTest {
  /** A kind with no total known in advance, served by the node's own worker (listed as external). */
  static final String OPEN_ENDED = "test.open";
  static Nodes nodes;

  @BeforeAll
  static void up() {
    TestNode.await(nodes.node().context().ops().hub().worker().register(new OperationKind() {
      @Override
      public String name() {
        return OPEN_ENDED;
      }

      @Override
      public ParamSchema params() {
        return ParamSchema.OPEN;
      }

      @Override
      public void start(OpContext ctx) {
        ctx.progress("processing", 5, -1, null, -1, "five so far");
        ctx.complete(new JsonObject().put("done", 5));
      }
    }));
  }

  static List<JsonNode> progressFrames(WsClient c, String method, com.fasterxml.jackson.databind.node.ObjectNode params) {
    int id = c.request(method, params);
    List<JsonNode> out = new ArrayList<>();
    while (true) {
      JsonNode f = c.await(x -> x.path("id").asInt(-1) == id, Duration.ofSeconds(20));
      if (WsClient.isTerminal(f)) {
        assertEquals("result", f.get("type").asText(), f.toString());
        return out;
      }
      if ("progress".equals(f.get("type").asText())) {
        out.add(f);
      }
    }
  }

  @Test
  void everyProgressFrameOfPrimesCarriesItsTotal() {
    try (WsClient c = nodes.client(0, "prog")) {
      List<JsonNode> ps = progressFrames(c, "demo.primes", WsClient.params().put("limit", 2_000_000).put("batch", 10_000));
      assertEquals("queued", ps.get(0).get("stage").asText());
      assertEquals("running", ps.get(1).get("stage").asText());
      assertTrue(ps.stream().anyMatch(p -> "processing".equals(p.get("stage").asText())), ps.toString());
      for (JsonNode p : ps) {
        assertEquals(2_000_000, p.at("/progress/total").asLong(), p.toString());
        assertEquals("numbers", p.at("/progress/unit").asText(), p.toString());
        long done = p.at("/progress/done").asLong(-1);
        assertTrue(done >= 0 && done <= 2_000_000, p.toString());
      }
      assertEquals(0, ps.get(1).at("/progress/done").asLong(), "running: nothing done yet, of the total");
    }
  }

  @Test
  void countsQueuedAndRunningFramesCarryTheirTotal() {
    try (WsClient c = nodes.client(0, "prog")) {
      List<JsonNode> ps = progressFrames(c, "demo.count", WsClient.params().put("to", 3).put("interval_ms", 0));
      assertEquals(2, ps.size(), ps.toString());
      for (JsonNode p : ps) {
        assertEquals(3, p.at("/progress/total").asLong(), p.toString());
        assertEquals(0, p.at("/progress/done").asLong(), p.toString());
      }
    }
  }

  @Test
  void aKindWithoutAKnownTotalSendsNoZeros() {
    try (WsClient c = nodes.client(0, "prog")) {
      List<JsonNode> ps = progressFrames(c, OPEN_ENDED, WsClient.params());
      assertEquals(List.of("queued", "running", "processing"), ps.stream().map(p -> p.get("stage").asText()).toList());
      for (JsonNode p : ps.subList(0, 2)) {
        assertEquals(0, p.get("progress").size(), "no figure is known yet: " + p);
      }
      JsonNode own = ps.get(2).get("progress");
      assertEquals(5, own.get("done").asLong());
      assertFalse(own.has("total"), own.toString());
      assertFalse(own.has("eta_ms"), own.toString());
      assertEquals("five so far", own.get("message").asText());
    }
  }
}
