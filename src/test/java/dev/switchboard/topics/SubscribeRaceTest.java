package dev.switchboard.topics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.RawWs;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Subscribes racing publications, presence records and closes (found by review). */
@Cluster(env = {
    // a small outbound limit: a replay to a client that reads nothing waits early and stays in progress
    "SB_OUTBOUND_QUEUE_BYTES=" + (256 * 1024), "SB_RATE_PER_SEC=100000", "SB_RATE_BURST=100000"})
class SubscribeRaceTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static Nodes nodes;

  static WsClient connect(String user, String extra) {
    return nodes.open(0, "/ws?token=" + Tokens.user(user, "chat:*") + extra, Map.of(), null).ok();
  }

  @Test
  void theSubscribeResultComesBeforeEveryEventAndPresenceFrameOfItsTopic() throws Exception {
    int n = 30;
    List<String> topics = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      topics.add("chat:first-" + System.nanoTime() + "-" + i);
    }
    try (WsClient pub = connect("pub", ""); WsClient sub = connect("sub", ""); WsClient other = connect("oth", "")) {
      for (String t : topics) {
        other.call("topic.subscribe", WsClient.params().put("topic", t));
      }
      AtomicBoolean run = new AtomicBoolean(true);
      Thread publisher = new Thread(() -> {
        // bounded: stops when the test ends, or after 200,000 publications
        for (int k = 0; run.get() && k < 200_000; k++) {
          pub.request("topic.publish", WsClient.params().put("topic", topics.get(k % n)).put("data", k));
          try {
            Thread.sleep(0, 200_000);
          } catch (InterruptedException e) {
            return;
          }
        }
      });
      publisher.start();
      try {
        String t0 = topics.get(0);
        other.await(f -> "event".equals(f.path("type").asText()) && t0.equals(f.path("topic").asText()), WsClient.WAIT);
        for (String topic : topics) {
          int id = sub.request("topic.subscribe", WsClient.params().put("topic", topic));
          JsonNode first = sub.await(f -> topic.equals(f.path("topic").asText()) || f.path("id").asInt(-1) == id,
              WsClient.WAIT);
          assertEquals(id, first.path("id").asInt(-1), "the first frame about " + topic + " is the subscribe result: " + first);
        }
      } finally {
        run.set(false);
        publisher.join(10_000);
      }
    }
  }

  @Test
  void aSubscriberClosedDuringItsReplayLeavesPresence() throws Exception {
    String topic = "chat:ghost-" + System.nanoTime();
    String data = "x".repeat(20_000);
    String token = Tokens.user("amy", "chat:*");
    try (WsClient pub = connect("pub2", ""); WsClient obs = connect("obs", "")) {
      String epoch = null;
      for (int k = 1; k <= 300; k++) { // 6 MB of history
        JsonNode r = pub.call("topic.publish", WsClient.params().put("topic", topic).put("data", data));
        assertEquals("result", r.get("type").asText(), r.toString());
        epoch = r.at("/result/epoch").asText();
      }
      obs.call("topic.subscribe", WsClient.params().put("topic", topic));
      try (RawWs amy = new RawWs(nodes.port(0), "/ws?token=" + token + "&device_id=d1", 4096)) {
        amy.read(WsClient.WAIT); // connected
        amy.sendText("{\"id\":1,\"method\":\"topic.subscribe\",\"params\":{\"topic\":\"" + topic
            + "\",\"since\":{\"offset\":0,\"epoch\":\"" + epoch + "\"}}}");
        JsonNode answer = JSON.readTree(amy.read(WsClient.WAIT).text());
        assertTrue(answer.at("/result/recovered").asBoolean(), answer.toString());
        assertTrue(members(obs, topic).contains("amy"), "recorded in presence while its replay runs");
        // it reads nothing more: its replay waits; the same device elsewhere replaces it (4009) meanwhile
        try (WsClient again = connect("amy", "&device_id=d1")) {
          long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
          while (members(obs, topic).contains("amy")) {
            if (System.nanoTime() > deadline) {
              fail("the replaced subscriber is still in presence: " + members(obs, topic));
            }
            Thread.sleep(50); // polling a cluster-wide record: no event to await
          }
        }
      }
    }
  }

  @Test
  void aSubscribeWithSinceOnATopicAlreadyFollowedDeliversNothingTwice() {
    String topic = "chat:again-" + System.nanoTime();
    try (WsClient pub = connect("pub3", ""); WsClient sub = connect("sub3", "")) {
      sub.call("topic.subscribe", WsClient.params().put("topic", topic));
      String epoch = null;
      for (int k = 1; k <= 3; k++) {
        epoch = pub.call("topic.publish", WsClient.params().put("topic", topic).put("data", k)).at("/result/epoch").asText();
        assertEquals(k, event(sub, topic).get("offset").asLong());
      }
      JsonNode again = sub.call("topic.subscribe", WsClient.params().put("topic", topic)
          .set("since", WsClient.params().put("offset", 0).put("epoch", epoch)));
      assertEquals(3, again.at("/result/offset").asLong(), again.toString());
      pub.call("topic.publish", WsClient.params().put("topic", topic).put("data", 4));
      assertEquals(4, event(sub, topic).get("offset").asLong(), "no replay of 1..3 to a live subscriber");
    }
  }

  @Test
  void aSubscribeAndAnUnsubscribeInOneSegmentLeaveNoTopicOpen() throws Exception {
    for (int i = 0; i < 10; i++) {
      String topic = "chat:open-race-" + System.nanoTime();
      try (RawWs raw = new RawWs(nodes.port(0), "/ws?token=" + Tokens.user("racer" + i, "chat:*"))) {
        raw.read(WsClient.WAIT); // connected
        // both land in one read while the topic is still opening on this node
        raw.sendBatch(RawWs.TEXT, List.of(
            ("{\"id\":1,\"method\":\"topic.subscribe\",\"params\":{\"topic\":\"" + topic + "\"}}").getBytes(StandardCharsets.UTF_8),
            ("{\"id\":2,\"method\":\"topic.unsubscribe\",\"params\":{\"topic\":\"" + topic + "\"}}").getBytes(StandardCharsets.UTF_8)));
        int answered = 0;
        while (answered < 2) {
          RawWs.Frame frame = raw.read(WsClient.WAIT);
          assertTrue(frame != null, "both requests answered; got " + answered + " answers");
          if (frame.opcode() != RawWs.TEXT) {
            continue;
          }
          JsonNode f = JSON.readTree(frame.text());
          if (f.has("id")) {
            answered++;
          }
        }
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (nodes.node().context().topics().isOpen(topic).toCompletionStage().toCompletableFuture()
          .get(5, java.util.concurrent.TimeUnit.SECONDS)) {
        if (System.nanoTime() > deadline) {
          fail("topic " + topic + " stays open with nobody subscribed");
        }
        Thread.sleep(20); // the close runs on the hub after the socket's cleanup: poll, bounded
      }
    }
  }

  private static JsonNode event(WsClient c, String topic) {
    return c.await(f -> "event".equals(f.path("type").asText()) && topic.equals(f.path("topic").asText()), WsClient.WAIT);
  }

  private static String members(WsClient c, String topic) {
    return c.call("topic.presence", WsClient.params().put("topic", topic)).path("result").path("members").toString();
  }
}
