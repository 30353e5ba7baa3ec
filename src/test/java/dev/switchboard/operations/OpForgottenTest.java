package dev.switchboard.operations;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A session that outlives what the cluster remembers of its operation (op_retention shorter than
 * session_ttl): the resume still ends it, with UNKNOWN_OPERATION, rather than leave it silent.
 */
@Cluster(env = "SB_OP_RETENTION_MS=1000")
class OpForgottenTest {
  static Nodes nodes;

  @Test
  void anOperationForgottenByWorkerAndRegistryEndsTheResumedRequestWithUnknownOperation() throws Exception {
    try (WsClient watch = nodes.client(0, "gone")) {
      String session;
      OpFaultTest.Started op;
      JsonNode result;
      // it reads the whole operation and acknowledges nothing (no pong)
      try (RawClient raw = new RawClient(nodes.port(0), "/ws?token=" + Tokens.user("gone"), false)) {
        session = raw.connected.get("session_id").asText();
        int id = raw.request("demo.count", WsClient.params().put("to", 3).put("interval_ms", 0));
        result = raw.await(f -> f.path("id").asInt(-1) == id && WsClient.isTerminal(f), WsClient.WAIT);
        op = new OpFaultTest.Started(id, result.get("op_id").asText());
        raw.abort();
      }
      // forgotten: the registry entry expired, and the worker dropped the run (two clocks of op_retention)
      long deadline = System.currentTimeMillis() + 15_000;
      while (!"UNKNOWN_OPERATION".equals(watch.call("op.status", WsClient.params().put("op_id", op.opId()))
          .at("/error/code").asText()) || TestNode.await(nodes.node().context().ops().hub().worker().holds(op.opId()))) {
        assertTrue(System.currentTimeMillis() < deadline, "never forgotten");
        Thread.sleep(100); // expiries are clocks, not events
      }
      OpFaultTest.Started started = op;
      try (WsClient again = nodes.open(0, "/ws?token=" + Tokens.user("gone") + "&session_id=" + session,
          Map.of(), null).ok()) {
        assertTrue(again.connected().get("resumed").asBoolean());
        JsonNode end = again.await(f -> f.path("id").asInt(-1) == started.id(), Duration.ofSeconds(15));
        assertEquals("UNKNOWN_OPERATION", end.at("/error/code").asText(), end.toString());
        assertEquals(started.opId(), end.get("op_id").asText());
        again.sendEnvelope(WsClient.params().put("id", "ping").put("method", "system.ping"));
        again.await(x -> "ping".equals(x.path("id").asText()), WsClient.WAIT);
        assertFalse(again.drain().stream().anyMatch(f -> f.path("id").asInt(-1) == started.id()), "one terminal");
      }
    }
  }
}
