package dev.switchboard.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.Node;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A rolling restart: the drained node's clients resume on another node exactly where they were. */
@Cluster(nodes = 2, env = "SB_DRAIN_MS=200")
class DrainResumeTest {
  static Nodes nodes;

  @Test
  void aClientOfADrainedNodeResumesElsewhereWithNothingRepeatedOrMissed() throws Exception {
    Node leaving = nodes.node(0);
    Node staying = nodes.node(1);
    try (WsClient pub = nodes.open(1, "/ws?token=" + Tokens.user("pub", "chat:*"), Map.of(), null).ok()) {
      String topic = "chat:drain-" + System.nanoTime();
      WsClient c = nodes.open(0, "/ws?token=" + Tokens.user("rolly", "chat:*"), Map.of(), null).ok();
      String session = c.connected().get("session_id").asText();
      c.call("topic.subscribe", WsClient.params().put("topic", topic));
      for (int k = 1; k <= 5; k++) {
        pub.call("topic.publish", WsClient.params().put("topic", topic).put("data", k));
        assertEquals(k, event(c, topic).get("offset").asLong());
      }
      leaving.shutdown().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertEquals(1012, c.awaitClose(Duration.ofSeconds(10)));
      c.close();
      for (int k = 6; k <= 8; k++) {
        pub.call("topic.publish", WsClient.params().put("topic", topic).put("data", k));
      }
      try (WsClient again = nodes.open(1, "/ws?token=" + Tokens.user("rolly", "chat:*")
          + "&session_id=" + session, Map.of(), null).ok()) {
        assertTrue(again.connected().get("resumed").asBoolean(), again.connected().toString());
        for (int k = 6; k <= 8; k++) {
          assertEquals(k, event(again, topic).get("offset").asLong(), "resumes exactly after the last event it read");
        }
      }
    }
  }

  private static JsonNode event(WsClient c, String topic) {
    return c.await(f -> "event".equals(f.path("type").asText()) && topic.equals(f.path("topic").asText()),
        Duration.ofSeconds(10));
  }
}
