package dev.switchboard.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.RawWs;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Resume positions count only what the client acknowledged (found by review). */
@Cluster(env = {"SB_HEARTBEAT_MS=500", "SB_IDLE_TIMEOUT_MS=3000"})
class ResumeAckTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static Nodes nodes;

  @Test
  void aClientThatNeverAnsweredPingsAndWasClosedIdleResumesFromWhereItSubscribed() throws Exception {
    String topic = "chat:stall-" + System.nanoTime();
    String token = Tokens.user("lee", "chat:*");
    try (WsClient pub = nodes.open(0, "/ws?token=" + Tokens.user("pub", "chat:*"), Map.of(), null).ok()) {
      String session;
      try (RawWs raw = new RawWs(nodes.port(0), "/ws?token=" + token)) {
        session = JSON.readTree(raw.read(WsClient.WAIT).text()).get("session_id").asText();
        raw.sendText("{\"id\":1,\"method\":\"topic.subscribe\",\"params\":{\"topic\":\"" + topic + "\"}}");
        JSON.readTree(raw.read(WsClient.WAIT).text());
        for (int k = 1; k <= 20; k++) {
          pub.call("topic.publish", WsClient.params().put("topic", topic).put("data", k));
        }
        // it answers no ping: the node's acknowledgement stays unanswered until the idle timeout (4000)
        RawWs.Frame close = raw.awaitClose(Duration.ofSeconds(10));
        assertEquals(4000, close.closeCode());
        raw.abort();
      }
      try (WsClient again = nodes.open(0, "/ws?token=" + token + "&session_id=" + session,
          Map.of(), null).ok()) {
        assertTrue(again.connected().get("resumed").asBoolean());
        JsonNode first = again.await(f -> "event".equals(f.path("type").asText()), Duration.ofSeconds(10));
        assertEquals(1, first.get("offset").asLong(), "nothing it never acknowledged counts as read");
      }
    }
  }
}
