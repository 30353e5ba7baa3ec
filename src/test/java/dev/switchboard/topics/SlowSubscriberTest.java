package dev.switchboard.topics;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.api.Scrape;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.RawWs;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A subscriber that stops reading is closed with 4008 once its unsent bytes pass the outbound limit;
 * the others on the same topic get every event, in order.
 */
@Cluster(env = {"SB_OUTBOUND_QUEUE_BYTES=65536", "SB_RATE_PER_SEC=100000", "SB_RATE_BURST=100000"})
class SlowSubscriberTest {
  static Nodes nodes;

  /** Reads the raw client's frames up to its subscribe result for {@code topic} (10 s for each frame at most). */
  static void awaitSubscribed(RawWs slow, String topic) throws IOException {
    while (true) {
      RawWs.Frame f = slow.read(Duration.ofSeconds(10));
      if (f == null) {
        throw new AssertionError("no subscribe result for the slow client");
      }
      if (f.text().contains("\"result\"") && f.text().contains(topic)) {
        return;
      }
    }
  }

  @Test
  void aNonReadingSubscriberIsClosedWith4008AndTheOthersMissNothing() throws Exception {
    String topic = "chat:slow-" + System.nanoTime();
    String pad = "x".repeat(2000);
    double before = Scrape.now(nodes.port(0), "sb_closes_total", "code=\"4008\"");
    try (WsClient pub = nodes.client(0, "pub", "chat:*");
         WsClient good = nodes.client(0, "good", "chat:*");
         RawWs slow = new RawWs(nodes.port(0), "/ws?token=" + Tokens.user("slow", "chat:*"))) {
      assertEquals(101, slow.status);
      slow.sendText("{\"id\":1,\"method\":\"topic.subscribe\",\"params\":{\"topic\":\"" + topic + "\"}}");
      good.call("topic.subscribe", WsClient.params().put("topic", topic));
      // make sure the slow one is subscribed before it stops reading: read up to its subscribe result
      awaitSubscribed(slow, topic);
      int n = 3000; // ~6 MB: more than loopback's socket buffers hold, so the node's queue must grow
      for (int k = 1; k <= n; k++) {
        pub.request("topic.publish", WsClient.params().put("topic", topic)
            .set("data", WsClient.params().put("k", k).put("pad", pad)));
      }
      // the good subscriber gets all of them in order, whatever happens to the slow one
      for (int k = 1; k <= n; k++) {
        JsonNode e = good.await(f -> "event".equals(f.path("type").asText()), Duration.ofSeconds(30));
        assertEquals(k, e.get("offset").asLong());
      }
      Scrape.until(() -> Scrape.now(nodes.port(0), "sb_closes_total", "code=\"4008\"") > before, Duration.ofSeconds(30),
          "the non-reading subscriber is closed with 4008");
      Scrape.until(() -> Scrape.now(nodes.port(0), "sb_connections") == 2, Duration.ofSeconds(30),
          "only the publisher and the reading subscriber remain (now "
              + Scrape.now(nodes.port(0), "sb_connections") + ")");
    }
  }

  /**
   * Events the node had queued for a slow consumer when it dropped the connection never reached the
   * client, so its resumed session must replay them: the session's position counts only events
   * whose bytes left the nodes.node().
   */
  @Test
  void aSlowConsumersResumedSessionReplaysWhatItsNodeDroppedUnsent() throws Exception {
    String topic = "chat:slow-resume-" + System.nanoTime();
    String pad = "y".repeat(30_000);
    int n = 300; // ~9 MB: far more than loopback's buffers take from a client that does not read
    double before = Scrape.now(nodes.port(0), "sb_closes_total", "code=\"4008\"");
    String session;
    long lastReceived = 0;
    try (WsClient pub = nodes.client(0, "pub2", "chat:*");
         RawWs slow = new RawWs(nodes.port(0), "/ws?token=" + Tokens.user("slow2", "chat:*"))) {
      assertEquals(101, slow.status);
      RawWs.Frame hello = slow.read(Duration.ofSeconds(10));
      session = dev.switchboard.protocol.Json.MAPPER.readTree(hello.text()).get("session_id").asText();
      slow.sendText("{\"id\":1,\"method\":\"topic.subscribe\",\"params\":{\"topic\":\"" + topic + "\"}}");
      awaitSubscribed(slow, topic);
      for (int k = 1; k <= n; k++) {
        pub.request("topic.publish", WsClient.params().put("topic", topic)
            .set("data", WsClient.params().put("k", k).put("pad", pad)));
      }
      Scrape.until(() -> Scrape.now(nodes.port(0), "sb_closes_total", "code=\"4008\"") > before, Duration.ofSeconds(30),
          "the non-reading subscriber is closed with 4008");
      // it still does not read: after the closing timeout the node drops the TCP connection with
      // what it had not handed to the kernel yet
      Scrape.until(() -> Scrape.now(nodes.port(0), "sb_connections") <= 1, Duration.ofSeconds(30),
          "the slow connection is gone");
      // now read what did arrive: events 1..k in order, then the end of the stream
      try {
        while (true) {
          RawWs.Frame f = slow.read(Duration.ofSeconds(5));
          if (f == null || f.opcode() == RawWs.CLOSE) {
            break;
          }
          JsonNode e = dev.switchboard.protocol.Json.MAPPER.readTree(f.text());
          if ("event".equals(e.path("type").asText())) {
            assertEquals(lastReceived + 1, e.get("offset").asLong(), "in order, no gap");
            lastReceived = e.get("offset").asLong();
          }
        }
      } catch (java.io.IOException endOfStream) {
        // the node closed the connection: everything the kernel had was read
      }
    }
    assertTrue(lastReceived < n, "the node dropped some events unsent (the client got " + lastReceived + ")");
    try (WsClient again = nodes.open(0, "/ws?token=" + Tokens.user("slow2", "chat:*")
        + "&session_id=" + session, java.util.Map.of(), null).ok()) {
      assertTrue(again.connected().get("resumed").asBoolean());
      long first = again.await(f -> "event".equals(f.path("type").asText()), Duration.ofSeconds(30)).get("offset").asLong();
      assertTrue(first <= lastReceived + 1, "the replay starts at or before the first event the client never got: "
          + first + " > " + (lastReceived + 1));
      for (long k = first + 1; k <= n; k++) {
        assertEquals(k, again.await(f -> "event".equals(f.path("type").asText()), Duration.ofSeconds(30))
            .get("offset").asLong());
      }
    }
  }

  /**
   * A replay paced by a small outbound limit (64 KiB here) still hands over every missed event once,
   * in order, then the live ones; subscribing again meanwhile changes nothing.
   */
  @Test
  void aPacedReplayDeliversEveryEventOnceInOrderEvenWhenSubscribedAgainMeanwhile() {
    String topic = "chat:paced-" + System.nanoTime();
    String pad = "z".repeat(30_000);
    int n = 300; // ~9 MB of history: more than loopback buffers and the 64 KiB limit hold
    try (WsClient pub = nodes.client(0, "pub3", "chat:*");
         WsClient late = nodes.client(0, "late3", "chat:*")) {
      String epoch = null;
      for (int k = 1; k <= n; k++) {
        JsonNode r = pub.call("topic.publish", WsClient.params().put("topic", topic)
            .set("data", WsClient.params().put("k", k).put("pad", pad))).get("result");
        epoch = r.get("epoch").asText();
      }
      // the late client stops reading: its replay stalls on the 64 KiB limit part-way
      late.socket().pause();
      late.request("topic.subscribe", WsClient.params().put("topic", topic)
          .set("since", WsClient.params().put("offset", 0).put("epoch", epoch)));
      late.request("topic.subscribe", WsClient.params().put("topic", topic));
      // a live event while the replay is stalled: it must wait for the replay, not overtake it
      assertEquals(n + 1, pub.call("topic.publish", WsClient.params().put("topic", topic)
          .set("data", WsClient.params().put("k", n + 1))).at("/result/offset").asLong());
      late.socket().resume();
      for (int k = 1; k <= n + 1; k++) {
        JsonNode e = late.await(f -> "event".equals(f.path("type").asText()), Duration.ofSeconds(30));
        assertEquals(k, e.get("offset").asLong(), "every event once, in order");
      }
    }
  }
}
