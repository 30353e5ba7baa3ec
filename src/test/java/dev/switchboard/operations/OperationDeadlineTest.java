package dev.switchboard.operations;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.WsClient;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An operation past the node's deadline ends with one TIMEOUT terminal (retryable), and its producer stops. */
@Cluster(env = "SB_OPS_DEADLINE_MS=400")
class OperationDeadlineTest {
  static Nodes nodes;

  @Test
  void aSlowOperationEndsWithTimeoutAtTheDeadline() {
    try (WsClient c = nodes.client(0, "tim")) {
      long t0 = System.nanoTime();
      int id = c.request("demo.count", WsClient.params().put("to", 1000).put("interval_ms", 50));
      JsonNode end = c.await(f -> f.path("id").asInt(-1) == id && WsClient.isTerminal(f), Duration.ofSeconds(10));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertEquals("TIMEOUT", end.at("/error/code").asText(), end.toString());
      assertTrue(end.at("/error/retryable").asBoolean());
      assertTrue(ms >= 350 && ms < 5000, "ended at the deadline, after " + ms + " ms");
      JsonNode status = c.call("op.status", WsClient.params().put("op_id", end.get("op_id").asText()));
      assertEquals("error", status.at("/result/state").asText());
      long seq = status.at("/result/seq").asLong();
      // the producer stopped: no frame of it after the terminal
      c.call("system.ping", null);
      assertTrue(c.drain().stream().noneMatch(f -> f.path("id").asInt(-1) == id));
      assertEquals(end.get("seq").asLong(), seq);
    }
  }
}
