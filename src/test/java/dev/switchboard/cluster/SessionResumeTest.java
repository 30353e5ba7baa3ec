package dev.switchboard.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.RawWs;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sessions resumed on another node replay what was missed, in order; a 1000 close ends the session. */
@Cluster(nodes = 2)
class SessionResumeTest {
  static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
  static Nodes nodes;

  static WsClient connect(int node, String user, String session) {
    return nodes.open(node, "/ws?token=" + Tokens.user(user, "chat:*")
        + (session == null ? "" : "&session_id=" + session), Map.of(), null).ok();
  }

  static void publish(WsClient pub, String topic, int from, int to) {
    for (int k = from; k <= to; k++) {
      assertEquals("result", pub.call("topic.publish", WsClient.params().put("topic", topic).put("data", k))
          .get("type").asText());
    }
  }

  static JsonNode event(WsClient c, String topic) {
    return c.await(f -> "event".equals(f.path("type").asText()) && topic.equals(f.path("topic").asText()),
        Duration.ofSeconds(10));
  }

  @Test
  void aDroppedSessionResumesOnAnotherNodeWithTheMissedEventsInOrder() {
    String topic = "chat:resume-" + System.nanoTime();
    try (WsClient pub = connect(1, "pub", null)) {
      WsClient first = connect(0, "kim", null);
      String session = first.connected().get("session_id").asText();
      assertFalse(first.connected().get("resumed").asBoolean());
      first.call("topic.subscribe", WsClient.params().put("topic", topic));
      publish(pub, topic, 1, 5);
      for (int k = 1; k <= 5; k++) {
        assertEquals(k, event(first, topic).get("offset").asLong());
      }
      first.socket().close((short) 1001); // a drop, not a clean end
      first.awaitClose(Duration.ofSeconds(10));
      first.close();
      publish(pub, topic, 6, 9);
      try (WsClient again = connect(1, "kim", session)) {
        assertTrue(again.connected().get("resumed").asBoolean(), again.connected().toString());
        assertEquals(session, again.connected().get("session_id").asText());
        for (int k = 6; k <= 9; k++) {
          assertEquals(k, event(again, topic).get("offset").asLong());
        }
        publish(pub, topic, 10, 10);
        assertEquals(10, event(again, topic).get("offset").asLong());
      }
    }
  }

  @Test
  void aClientThatReadNothingBeforeAnAbortiveDropGetsEveryEventOnResume() throws Exception {
    String topic = "chat:unread-" + System.nanoTime();
    String token = Tokens.user("lee", "chat:*");
    String data = "x".repeat(20_000);
    try (WsClient pub = connect(1, "pub", null); WsClient watcher = connect(0, "watcher", null)) {
      watcher.call("topic.subscribe", WsClient.params().put("topic", topic));
      String session;
      try (RawWs raw = new RawWs(nodes.port(0), "/ws?token=" + token)) {
        session = JSON.readTree(raw.read(WsClient.WAIT).text()).get("session_id").asText();
        raw.sendText("{\"id\":1,\"method\":\"topic.subscribe\",\"params\":{\"topic\":\"" + topic + "\"}}");
        JsonNode subscribed = JSON.readTree(raw.read(WsClient.WAIT).text());
        assertEquals(0, subscribed.at("/result/offset").asLong(), subscribed.toString());
        // 1 MB the node writes to a socket whose client reads none of it: the kernel takes it all, so the
        // node's own queue runs empty, yet none of it was read.
        for (int k = 1; k <= 50; k++) {
          assertEquals("result", pub.call("topic.publish", WsClient.params().put("topic", topic).put("data", data))
              .get("type").asText());
        }
        for (int k = 1; k <= 50; k++) {
          assertEquals(k, event(watcher, topic).get("offset").asLong());
        }
        raw.abort();
      }
      for (int k = 51; k <= 55; k++) {
        assertEquals("result", pub.call("topic.publish", WsClient.params().put("topic", topic).put("data", k))
            .get("type").asText());
      }
      try (WsClient again = connect(1, "lee", session)) {
        assertTrue(again.connected().get("resumed").asBoolean(), again.connected().toString());
        for (int k = 1; k <= 55; k++) {
          assertEquals(k, event(again, topic).get("offset").asLong(), "nothing the client never read is skipped");
        }
      }
    }
  }

  @Test
  void aResumedSessionReattachesItsOperationsUnderTheirRequestIds() {
    WsClient first = connect(0, "opsy", null);
    String session = first.connected().get("session_id").asText();
    int id = first.request("demo.count", WsClient.params().put("to", 30).put("interval_ms", 40));
    JsonNode f3 = first.await(f -> f.path("id").asInt(-1) == id && f.path("data").path(0).asInt() == 3, Duration.ofSeconds(10));
    long lastSeq = f3.get("seq").asLong();
    first.socket().close((short) 1001);
    first.awaitClose(Duration.ofSeconds(10));
    first.close();
    try (WsClient again = connect(1, "opsy", session)) {
      assertTrue(again.connected().get("resumed").asBoolean());
      int expect = 4;
      long seq = lastSeq;
      while (true) {
        JsonNode f = again.await(x -> x.path("id").asInt(-1) == id, Duration.ofSeconds(15));
        if (f.get("seq").asLong() <= lastSeq) {
          // a reconnect that outruns the old connection's last session write replays from the write
          // before it: repeats, which clients drop by seq (docs/protocol.md); never a gap
          continue;
        }
        assertTrue(f.get("seq").asLong() > seq, "seq continues after the last one delivered");
        seq = f.get("seq").asLong();
        if ("stream".equals(f.get("type").asText())) {
          assertEquals(expect++, f.get("data").get(0).asInt());
        }
        if (WsClient.isTerminal(f)) {
          assertEquals(30, f.at("/result/count").asInt());
          break;
        }
      }
    }
  }

  @Test
  void aResumeDroppedBeforeItsTopicsAnsweredKeepsEveryStoredPosition() {
    // Many topics, so that the resumed connection closes while some of their subscriptions are still
    // opening: its close-time save must keep their stored positions, not "no position" (a later resume
    // would then go live from the latest offset and skip what was missed).
    int n = 60;
    String prefix = "chat:seed-" + System.nanoTime() + "-";
    try (WsClient pub = connect(1, "pub", null)) {
      WsClient first = connect(0, "lee", null);
      String session = first.connected().get("session_id").asText();
      for (int i = 0; i < n; i++) {
        assertEquals("result", first.call("topic.subscribe", WsClient.params().put("topic", prefix + i))
            .get("type").asText());
      }
      for (int i = 0; i < n; i++) {
        publish(pub, prefix + i, 1, 1);
      }
      java.util.Set<String> seen = new java.util.HashSet<>();
      while (seen.size() < n) {
        seen.add(first.await(f -> "event".equals(f.path("type").asText()), Duration.ofSeconds(10)).get("topic").asText());
      }
      first.socket().close((short) 1001); // read everything, then a drop (not a clean end)
      first.awaitClose(Duration.ofSeconds(10));
      first.close();
      for (int i = 0; i < n; i++) {
        publish(pub, prefix + i, 2, 2); // missed while away
      }
      // resumed, and dropped again as soon as the node says so, while its topics are being restored
      WsClient second = connect(1, "lee", session);
      assertTrue(second.connected().get("resumed").asBoolean(), second.connected().toString());
      second.socket().close((short) 1001);
      second.awaitClose(Duration.ofSeconds(10));
      java.util.Set<String> got = new java.util.HashSet<>();
      for (JsonNode f : second.drain()) {
        if ("event".equals(f.path("type").asText()) && f.path("offset").asLong() == 2) {
          got.add(f.get("topic").asText());
        }
      }
      second.close();
      // every offset-2 event the second connection did not get comes with the third
      try (WsClient third = connect(0, "lee", session)) {
        assertTrue(third.connected().get("resumed").asBoolean(), third.connected().toString());
        while (got.size() < n) {
          JsonNode e = third.await(f -> "event".equals(f.path("type").asText()), Duration.ofSeconds(10));
          assertEquals(2, e.get("offset").asLong(), e.toString());
          got.add(e.get("topic").asText());
        }
      }
    }
  }

  @Test
  void aConnectionDroppedBeforeItsSubscribesWithSinceAnsweredResumesFromThoseSince() {
    // The chaos run's lost events: a client on a new session asks for its topics with `since` and the
    // connection goes (4009, a drop) before the answers. Its session held those topics with "no
    // position", so the resume restored them live from the latest offset: the events after `since`
    // were skipped, and nothing told the client (a restored topic has no subscribe answer).
    int n = 40;
    String prefix = "chat:since-" + System.nanoTime() + "-";
    List<String> epochs = new java.util.ArrayList<>();
    try (WsClient pub = connect(1, "pub", null)) {
      for (int i = 0; i < n; i++) {
        epochs.add(pub.call("topic.publish", WsClient.params().put("topic", prefix + i).put("data", 1))
            .at("/result/epoch").asText());
        publish(pub, prefix + i, 2, 2); // the client saw offset 1 elsewhere; 2 is what it missed
      }
      WsClient second = connect(0, "kim", null);
      String session = second.connected().get("session_id").asText();
      for (int i = 0; i < n; i++) {
        second.request("topic.subscribe", WsClient.params().put("topic", prefix + i)
            .set("since", WsClient.params().put("offset", 1).put("epoch", epochs.get(i))));
      }
      second.socket().close((short) 1001); // at once: most subscribes are still opening their topics
      second.awaitClose(Duration.ofSeconds(10));
      Map<String, java.util.Set<Long>> got = new java.util.HashMap<>();
      second.drain().forEach(f -> record(got, f));
      second.close();
      for (int i = 0; i < n; i++) {
        publish(pub, prefix + i, 3, 3); // missed while away
      }
      try (WsClient third = connect(1, "kim", session)) {
        assertTrue(third.connected().get("resumed").asBoolean(), third.connected().toString());
        long deadline = System.currentTimeMillis() + 10_000;
        while (got.values().stream().mapToInt(java.util.Set::size).sum() < 2 * n || got.size() < n) {
          JsonNode f = third.poll(Duration.ofMillis(Math.max(1, deadline - System.currentTimeMillis())));
          if (f == null) {
            break;
          }
          record(got, f);
        }
      }
      for (int i = 0; i < n; i++) {
        assertEquals(java.util.Set.of(2L, 3L), got.getOrDefault(prefix + i, java.util.Set.of()),
            prefix + i + ": every event after `since` comes, on one connection or the other");
      }
    }
  }

  private static void record(Map<String, java.util.Set<Long>> got, JsonNode f) {
    if ("event".equals(f.path("type").asText())) {
      got.computeIfAbsent(f.get("topic").asText(), t -> new java.util.HashSet<>()).add(f.get("offset").asLong());
    }
  }

  @Test
  void aCleanCloseEndsTheSessionAndAnotherUserCannotResumeIt() {
    WsClient c = connect(0, "lee", null);
    String session = c.connected().get("session_id").asText();
    c.call("topic.subscribe", WsClient.params().put("topic", "chat:x"));
    try (WsClient thief = connect(1, "mallory", session)) {
      assertFalse(thief.connected().get("resumed").asBoolean());
      assertNotEquals(session, thief.connected().get("session_id").asText());
    }
    c.close(); // 1000: the node ends the session as it handles the close (an async removal)
    long deadline = System.currentTimeMillis() + 5000;
    var sessions = nodes.node(1).context().sessions();
    var ctx = nodes.node(1).context().vertx().getOrCreateContext();
    while (TestNode.await(sessions.load(ctx, session)) != null && System.currentTimeMillis() < deadline) {
      Thread.onSpinWait();
    }
    try (WsClient again = connect(1, "lee", session)) {
      assertFalse(again.connected().get("resumed").asBoolean(), "a clean close ends the session");
    }
  }
}
