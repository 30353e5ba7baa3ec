package dev.switchboard.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testsupport.ChildNode;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node in its own JVM is killed with SIGKILL: its client reconnects through another node with its
 * session_id and misses nothing; its presence is cleaned up from the membership event.
 */
@Cluster(nodes = 2)
class NodeCrashTest {
  static Nodes nodes;

  @Test
  void clientsOfAKilledNodeResumeElsewhereWithoutLossAndItsPresenceIsCleanedUp() {
    String topic = "chat:crash-" + System.nanoTime();
    try (ChildNode child = ChildNode.start("child", nodes.members(), Map.of());
         WsClient pub = nodes.client(0, "pub", "chat:*");
         WsClient watcher = nodes.client(1, "watcher", "chat:*")) {
      watcher.call("topic.subscribe", WsClient.params().put("topic", topic));
      WsClient victim = WsClient.open(nodes.vertx(), child.port, "/ws?token=" + Tokens.user("vic", "chat:*") + "&device_id=v1",
          Map.of(), null).ok();
      String session = victim.connected().get("session_id").asText();
      assertEquals("result", victim.call("topic.subscribe", WsClient.params().put("topic", topic)).get("type").asText());
      watcher.await(f -> "presence".equals(f.path("type").asText()) && "vic".equals(f.path("user_id").asText()),
          WsClient.WAIT);
      long last = 0;
      for (int k = 1; k <= 20; k++) {
        pub.call("topic.publish", WsClient.params().put("topic", topic).put("data", k));
      }
      for (int k = 1; k <= 20; k++) {
        last = victim.await(f -> "event".equals(f.path("type").asText()), WsClient.WAIT).get("offset").asLong();
      }
      assertEquals(20, last);

      child.kill();
      victim.awaitClose(Duration.ofSeconds(15));
      victim.close();
      // the membership event removes the dead node's presence and tells the others
      JsonNode leave = watcher.await(f -> "presence".equals(f.path("type").asText())
          && "leave".equals(f.path("action").asText()) && "vic".equals(f.path("user_id").asText()), Duration.ofSeconds(15));
      assertEquals("v1", leave.get("device_id").asText());
      for (int k = 21; k <= 30; k++) {
        pub.call("topic.publish", WsClient.params().put("topic", topic).put("data", k));
      }
      try (WsClient again = nodes.open(1, "/ws?token=" + Tokens.user("vic", "chat:*")
          + "&device_id=v1&session_id=" + session, Map.of(), null).ok()) {
        assertTrue(again.connected().get("resumed").asBoolean(), "session survives its node's crash");
        // after a crash the replay may repeat what the client had (positions are saved every 2 s):
        // the client drops offsets at or below the last it processed, and must then see 21..30 in order
        long expect = last + 1;
        while (expect <= 30) {
          long off = again.await(f -> "event".equals(f.path("type").asText()), Duration.ofSeconds(15)).get("offset").asLong();
          if (off <= last) {
            continue;
          }
          assertEquals(expect, off, "no gap after the crash");
          expect++;
        }
      }
      JsonNode p = watcher.call("topic.presence", WsClient.params().put("topic", topic)).get("result");
      assertTrue(p.toString().contains("watcher"));
    }
  }
}
