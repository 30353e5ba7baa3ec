package dev.switchboard.topics;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.WsClient;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three real nodes: publishers on every node, subscribers on every node; every subscriber sees the
 * topic's events in offset order 1..N with no gap and no duplicate, and recovery with since.
 */
@Cluster(nodes = 3, env = {"SB_RATE_PER_SEC=100000", "SB_RATE_BURST=100000"})
class TopicOrderTest {
  static Nodes nodes;

  private static WsClient client(int node, String user) {
    return nodes.client(node, user, "chat:*");
  }

  private static JsonNode subscribe(WsClient c, String topic) {
    JsonNode r = c.call("topic.subscribe", WsClient.params().put("topic", topic));
    assertEquals("result", r.get("type").asText(), r.toString());
    return r.get("result");
  }

  /** Collects n events of a topic, asserting offsets are exactly from+1 .. from+n in order. */
  private static List<JsonNode> events(WsClient c, String topic, long from, int n) {
    List<JsonNode> got = new ArrayList<>();
    long expect = from + 1;
    while (got.size() < n) {
      JsonNode f = c.await(x -> "event".equals(x.path("type").asText()) && topic.equals(x.path("topic").asText()),
          Duration.ofSeconds(20));
      assertEquals(expect, f.get("offset").asLong(), "offset order broken after " + got.size() + " events");
      expect++;
      got.add(f);
    }
    return got;
  }

  @Test
  void concurrentPublishersOnThreeNodesAreSeenInOneOrderByEverySubscriber() {
    String topic = "chat:order-" + System.nanoTime();
    List<WsClient> subs = new ArrayList<>();
    List<WsClient> pubs = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        WsClient s = client(i, "sub" + i);
        assertEquals(0, subscribe(s, topic).get("offset").asLong());
        subs.add(s);
        pubs.add(client(i, "pub" + i));
      }
      int perPublisher = 70;
      for (int k = 0; k < perPublisher; k++) {
        for (int p = 0; p < 3; p++) {
          pubs.get(p).request("topic.publish", WsClient.params().put("topic", topic)
              .set("data", WsClient.params().put("p", p).put("k", k)));
        }
      }
      int total = perPublisher * 3;
      List<List<JsonNode>> seen = new ArrayList<>();
      for (WsClient s : subs) {
        seen.add(events(s, topic, 0, total));
      }
      // the same event at the same offset everywhere
      for (int i = 0; i < total; i++) {
        JsonNode a = seen.get(0).get(i).get("data");
        assertEquals(a, seen.get(1).get(i).get("data"));
        assertEquals(a, seen.get(2).get(i).get("data"));
      }
      // each publisher's own events keep their order (one connection, one node)
      for (int p = 0; p < 3; p++) {
        int last = -1;
        Set<Integer> ks = new HashSet<>();
        for (JsonNode e : seen.get(0)) {
          if (e.at("/data/p").asInt() == p) {
            int k = e.at("/data/k").asInt();
            assertTrue(k > last, "publisher " + p + " order");
            last = k;
            ks.add(k);
          }
        }
        assertEquals(perPublisher, ks.size());
      }
    } finally {
      subs.forEach(WsClient::close);
      pubs.forEach(WsClient::close);
    }
  }

  @Test
  void sinceReplaysWhatWasMissedThenGoesLiveWithoutGapOrDuplicate() {
    String topic = "chat:since-" + System.nanoTime();
    try (WsClient pub = client(0, "pub"); WsClient first = client(1, "reader")) {
      JsonNode s0 = subscribe(first, topic);
      String epoch = s0.get("epoch").asText();
      for (int k = 0; k < 10; k++) {
        assertEquals("result", pub.call("topic.publish", WsClient.params().put("topic", topic).put("data", k))
            .get("type").asText());
      }
      events(first, topic, 0, 10);
      first.close();
      for (int k = 10; k < 25; k++) {
        pub.call("topic.publish", WsClient.params().put("topic", topic).put("data", k));
      }
      try (WsClient again = client(2, "reader")) {
        again.request("topic.subscribe", WsClient.params().put("topic", topic)
            .set("since", WsClient.params().put("offset", 10).put("epoch", epoch)));
        // live publications keep coming while the replay runs
        for (int k = 25; k < 40; k++) {
          pub.request("topic.publish", WsClient.params().put("topic", topic).put("data", k));
        }
        JsonNode result = again.await(WsClient::isTerminal, WsClient.WAIT);
        assertTrue(result.at("/result/recovered").asBoolean(), result.toString());
        assertTrue(result.at("/result/missed").asInt() >= 15);
        List<JsonNode> got = events(again, topic, 10, 30);
        assertEquals(39, got.get(29).get("data").asInt());
      }
    }
  }

  @Test
  void sinceWithAnotherEpochIsNotRecovered() {
    String topic = "chat:epoch-" + System.nanoTime();
    try (WsClient pub = client(0, "pub"); WsClient c = client(1, "reader")) {
      pub.call("topic.publish", WsClient.params().put("topic", topic).put("data", 1));
      JsonNode r = c.call("topic.subscribe", WsClient.params().put("topic", topic)
          .set("since", WsClient.params().put("offset", 0).put("epoch", "not-the-epoch"))).get("result");
      assertFalse(r.get("recovered").asBoolean());
      assertEquals(1, r.get("offset").asLong());
      assertEquals(0, r.get("missed").asInt());
    }
  }

  @Test
  void historyListsOldestFirstAndRejectsLimitOverAThousand() {
    String topic = "chat:hist-" + System.nanoTime();
    try (WsClient c = client(0, "pub")) {
      for (int k = 1; k <= 5; k++) {
        c.call("topic.publish", WsClient.params().put("topic", topic).put("data", k));
      }
      JsonNode h = c.call("topic.history", WsClient.params().put("topic", topic).put("limit", 3)).get("result");
      assertEquals(5, h.get("offset").asLong());
      assertEquals(3, h.get("events").size());
      assertEquals(3, h.get("events").get(0).get("offset").asLong());
      assertEquals(5, h.get("events").get(2).get("offset").asLong());
      JsonNode tooMany = c.call("topic.history", WsClient.params().put("topic", topic).put("limit", 1001));
      assertEquals("INVALID_PARAMS", tooMany.at("/error/code").asText());
      assertEquals("limit", tooMany.at("/error/details/field").asText());
    }
  }
}
