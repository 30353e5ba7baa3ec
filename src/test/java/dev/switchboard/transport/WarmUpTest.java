package dev.switchboard.transport;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.Node;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The start-up warm-up runs its rounds over loopback and leaves nothing behind. */
class WarmUpTest {

  @Test
  void aNodeWarmsUpBeforeItIsReadyAndLeavesNoConnectionDeviceOrPresenceBehind() throws Exception {
    // a tight per-IP connect rate: the warm-up's 1,000 loopback connections must not be charged to it
    Node node = TestNode.start(Map.of("SB_NODE_WARMUP_MS", "20000", "SB_CONNECT_RATE_PER_IP", "5"));
    Vertx vertx = Vertx.vertx();
    try {
      assertTrue(node.context().ready(), "ready once started, warm-up done");
      assertEquals(0, node.context().local().size(), "every warm-up connection is closed");
      List<?> devices = node.context().directory().devicesOf("sb-warmup-" + node.nodeId() + "-0-0")
          .toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
      assertTrue(devices.isEmpty(), "its device entries are gone");
      Map<String, List<String>> members = node.context().directory().members(WarmUp.TOPIC)
          .toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
      assertTrue(members.isEmpty(), "and its presence records: " + members);
      // the rounds did run: every publication of every round is in the warm-up topic's history
      try (WsClient c = WsClient.open(vertx, node.port(), "/ws?token=" + Tokens.user("after", "sb-warmup:*"), Map.of(), null).ok()) {
        JsonNode history = c.call("topic.history", WsClient.params().put("topic", WarmUp.TOPIC).put("limit", 1));
        assertEquals(WarmUp.publications(),
            history.at("/result/offset").asLong(), history.toString());
        // and a client from the same address connects as usual (the warm-up was not charged to its rate)
        assertEquals("result", c.call("system.ping", WsClient.params()).get("type").asText());
      }
    } finally {
      TestNode.stop(node);
      vertx.close();
    }
  }
}
