package dev.switchboard.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.Node;
import dev.switchboard.testsupport.RawWs;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sessions resumed on another node replay what was missed, in order; a 1000 close ends the session. */
class SessionResumeTest {
  static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
  static List<Node> nodes;
  static Vertx vertx;

  @BeforeAll
  static void up() {
    nodes = TestNode.cluster(2, Map.of());
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void down() {
    TestNode.stop(nodes.toArray(new Node[0]));
    vertx.close();
  }

  static WsClient connect(int node, String user, String session) {
    return WsClient.open(vertx, nodes.get(node).port(), "/ws?token=" + Tokens.user(user, "chat:*")
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
      try (RawWs raw = new RawWs(nodes.get(0).port(), "/ws?token=" + token)) {
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
    var sessions = nodes.get(1).context().sessions();
    var ctx = nodes.get(1).context().vertx().getOrCreateContext();
    while (TestNode.await(sessions.load(ctx, session)) != null && System.currentTimeMillis() < deadline) {
      Thread.onSpinWait();
    }
    try (WsClient again = connect(1, "lee", session)) {
      assertFalse(again.connected().get("resumed").asBoolean(), "a clean close ends the session");
    }
  }

  // ------------------------------------------------------------------ fencing (one owner per session)

  static WsClient connect(int node, String user, String session, String device) {
    return WsClient.open(vertx, nodes.get(node).port(), "/ws?token=" + Tokens.user(user, "chat:*")
        + "&device_id=" + device + (session == null ? "" : "&session_id=" + session), Map.of(), null).ok();
  }

  /** The stored session now (null: none), read through node 0. */
  static Sessions.Stored stored(String session) {
    return TestNode.await(nodes.get(0).context().sessions().load(nodes.get(0).context().vertx().getOrCreateContext(), session));
  }

  /** Waits (bounded) until the stored session satisfies p. */
  static Sessions.Stored awaitStored(String session, java.util.function.Predicate<Sessions.Stored> p) {
    long deadline = System.currentTimeMillis() + 10_000;
    Sessions.Stored s = stored(session);
    while (!p.test(s)) {
      assertTrue(System.currentTimeMillis() < deadline, "stored session never matched; last: "
          + (s == null ? null : s.topics().keySet()));
      Thread.onSpinWait();
      s = stored(session);
    }
    return s;
  }

  /** Closes c with a code other than 1000 (a drop: its close-time save) and waits until that save has landed. */
  static void drop(int node, WsClient c) {
    String conn = c.connected().get("connection_id").asText();
    c.socket().close((short) 1001);
    c.awaitClose(Duration.ofSeconds(10));
    c.close();
    long deadline = System.currentTimeMillis() + 10_000;
    while (java.util.stream.StreamSupport.stream(nodes.get(node).context().local().all().spliterator(), false)
        .anyMatch(x -> x.connectionId().equals(conn))) {
      assertTrue(System.currentTimeMillis() < deadline, "the node never handled the close");
      java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
    }
    TestNode.await(nodes.get(node).sessionWritesLanded(10_000));
  }

  /**
   * The frames c receives until one matches p (that one included); fails after 10 s.
   */
  static List<JsonNode> until(WsClient c, java.util.function.Predicate<JsonNode> p) {
    List<JsonNode> seen = new java.util.ArrayList<>();
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (true) {
      JsonNode f = c.next(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
      seen.add(f);
      if (p.test(f)) {
        return seen;
      }
    }
  }

  @Test
  void anOldConnectionClosingAfterAResumeDoesNotOverwriteTheNewOwnersSession() {
    // Different device ids, so the resume does not close the old connection (4009): it stays open,
    // like a half-open one the node has not noticed yet, and writes its session when it closes.
    String x = "chat:fence-x-" + System.nanoTime();
    String y = "chat:fence-y-" + System.nanoTime();
    WsClient a = connect(0, "fenna", null, "phone");
    String session = a.connected().get("session_id").asText();
    assertEquals("result", a.call("topic.subscribe", WsClient.params().put("topic", x)).get("type").asText());
    awaitStored(session, s -> s != null && s.topics().containsKey(x));
    try (WsClient b = connect(1, "fenna", session, "laptop"); WsClient pub = connect(1, "pub", null)) {
      assertTrue(b.connected().get("resumed").asBoolean(), b.connected().toString());
      assertEquals("result", b.call("topic.subscribe", WsClient.params().put("topic", y)).get("type").asText());
      assertEquals("result", b.call("topic.unsubscribe", WsClient.params().put("topic", x)).get("type").asText());
      awaitStored(session, s -> s != null && s.topics().keySet().equals(java.util.Set.of(y)));
      drop(0, a); // the old connection's close-time save (its state: x, not y)
      assertEquals(java.util.Set.of(y), stored(session).topics().keySet(), "the old connection's write was fenced");
      drop(1, b);
      try (WsClient c = connect(0, "fenna", session, "tablet")) {
        assertTrue(c.connected().get("resumed").asBoolean(), c.connected().toString());
        publish(pub, x, 1, 1);
        publish(pub, y, 1, 1);
        List<JsonNode> seen = until(c, f -> "event".equals(f.path("type").asText()) && y.equals(f.path("topic").asText()));
        publish(pub, y, 2, 2);
        seen.addAll(until(c, f -> "event".equals(f.path("type").asText()) && f.path("offset").asLong() == 2));
        assertTrue(seen.stream().noneMatch(f -> x.equals(f.path("topic").asText())), "x was unsubscribed: " + seen);
      }
    }
  }

  @Test
  void aSessionEndedByItsNewOwnerStaysEndedWhenTheOldConnectionCloses() {
    String x = "chat:fence-end-" + System.nanoTime();
    WsClient a = connect(0, "fenno", null, "phone");
    String session = a.connected().get("session_id").asText();
    assertEquals("result", a.call("topic.subscribe", WsClient.params().put("topic", x)).get("type").asText());
    awaitStored(session, s -> s != null && s.topics().containsKey(x));
    WsClient b = connect(1, "fenno", session, "laptop");
    assertTrue(b.connected().get("resumed").asBoolean(), b.connected().toString());
    b.close(); // 1000: the session ends
    awaitStored(session, s -> s == null);
    drop(0, a); // then the old connection's close-time save
    assertEquals(null, stored(session), "an ended session does not come back");
    try (WsClient c = connect(1, "fenno", session, "tablet")) {
      assertFalse(c.connected().get("resumed").asBoolean(), "an ended session does not come back");
    }
  }

  @Test
  void anOwnerWhoseEntryWasLostWritesItAgainInsteadOfBeingFenced() {
    var map = nodes.get(1).context().cluster().getHazelcastInstance()
        .<String, com.hazelcast.core.HazelcastJsonValue>getMap(Addresses.SESSIONS);
    WsClient a = connect(0, "lost", null, "phone");
    String session = a.connected().get("session_id").asText();
    a.call("topic.subscribe", WsClient.params().put("topic", "chat:lost-1"));
    awaitStored(session, s -> s != null && s.topics().containsKey("chat:lost-1"));
    map.delete(session); // as if both copies were lost (or it expired)
    a.call("topic.subscribe", WsClient.params().put("topic", "chat:lost-2"));
    awaitStored(session, s -> s != null && s.topics().containsKey("chat:lost-2"));
    assertFalse(a.isClosed(), "still its own session: not fenced");
    drop(0, a);
    try (WsClient again = connect(1, "lost", session, "phone")) {
      assertTrue(again.connected().get("resumed").asBoolean(), again.connected().toString());
    }
  }

  @Test
  void everySessionWriteSetsTheSessionTtlAgainAndAnEndLeavesATombstone() {
    var map = nodes.get(1).context().cluster().getHazelcastInstance()
        .<String, com.hazelcast.core.HazelcastJsonValue>getMap(Addresses.SESSIONS);
    long ttl = nodes.get(0).context().sessions().ttlMs();
    WsClient a = connect(0, "tilda", null, "phone");
    String session = a.connected().get("session_id").asText();
    a.call("topic.subscribe", WsClient.params().put("topic", "chat:ttl-1"));
    awaitStored(session, s -> s != null && s.topics().containsKey("chat:ttl-1"));
    var first = map.getEntryView(session);
    assertEquals(ttl, first.getTtl());
    // Hazelcast keeps expiration times in whole seconds: the next write a second later
    long deadline = System.currentTimeMillis() + 3000;
    while (System.currentTimeMillis() + ttl < first.getExpirationTime() + 1000 && System.currentTimeMillis() < deadline) {
      java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
    }
    a.call("topic.subscribe", WsClient.params().put("topic", "chat:ttl-2"));
    awaitStored(session, s -> s != null && s.topics().containsKey("chat:ttl-2"));
    var second = map.getEntryView(session);
    assertEquals(ttl, second.getTtl());
    assertTrue(second.getExpirationTime() > first.getExpirationTime(), first.getExpirationTime() + " then " + second.getExpirationTime());
    assertTrue(second.getValue().getValue().startsWith("{\"conn\":\"" + a.connected().get("connection_id").asText() + "\","),
        second.getValue().getValue());
    a.close(); // 1000
    awaitStored(session, s -> s == null);
    var tombstone = map.getEntryView(session);
    assertEquals(Sessions.TOMBSTONE, tombstone.getValue().getValue());
    assertEquals(ttl, tombstone.getTtl());
  }

  @Test
  void aBatchAppliesEachWriteOnlyForItsOwnerAlsoWhenItsSessionsShareAPartition() {
    // called on node 0 for keys of one partition that node 1 owns: the processor crosses the wire
    var hz = nodes.get(0).context().cluster().getHazelcastInstance();
    var partitions = hz.getPartitionService();
    var here = hz.getCluster().getLocalMember();
    Sessions sessions = nodes.get(0).context().sessions();
    var ctx = nodes.get(0).context().vertx().getOrCreateContext();
    long safe = System.currentTimeMillis() + 30_000; // partitions spread over both members (migrations done)
    while (!partitions.isClusterSafe() && System.currentTimeMillis() < safe) {
      java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
    }
    String prefix = "s_batch" + System.nanoTime() + "_";
    List<String> ids = new java.util.ArrayList<>();
    int partition = -1;
    for (int i = 0; ids.size() < 3 && i < 100_000; i++) {
      var p = partitions.getPartition(prefix + i);
      if (partition < 0 && !here.equals(p.getOwner())) {
        partition = p.getPartitionId();
      }
      if (p.getPartitionId() == partition) {
        ids.add(prefix + i);
      }
    }
    assertEquals(3, ids.size());
    String k1 = ids.get(0);
    String k2 = ids.get(1);
    String k3 = ids.get(2);
    java.util.function.BiFunction<String, String, String> value = (conn, topic) ->
        Sessions.encode(conn, "batcher", Map.of(topic, new dev.switchboard.topics.Subscriptions.Position(1, "e")), null);
    java.util.function.Function<List<Sessions.Write>, java.util.Set<String>> save = w -> TestNode.await(sessions.saveAll(ctx, w));

    assertEquals(java.util.Set.of(), save.apply(List.of(new Sessions.Write(k3, "c_other", value.apply("c_other", "chat:other"), true))));
    assertEquals(java.util.Set.of(k2, k3), save.apply(List.of(
        new Sessions.Write(k1, "c_1", value.apply("c_1", "chat:one"), true), // brand-new: created
        new Sessions.Write(k2, "c_2", value.apply("c_2", "chat:two"), false), // a resumed one's: absent, refused
        new Sessions.Write(k3, "c_3", value.apply("c_3", "chat:three"), true)))); // another's: refused even creating
    assertEquals(java.util.Set.of("chat:one"), stored(k1).topics().keySet());
    assertEquals(null, stored(k2));
    assertEquals(java.util.Set.of("chat:other"), stored(k3).topics().keySet());

    assertEquals(null, TestNode.await(sessions.claim(ctx, k3, "someone-else", "c_3")), "another user's session is not claimed");
    assertEquals(java.util.Set.of("chat:other"), TestNode.await(sessions.claim(ctx, k3, "batcher", "c_3")).topics().keySet());
    assertEquals(java.util.Set.of(k3), save.apply(List.of(
        new Sessions.Write(k1, "c_1", value.apply("c_1", "chat:one-b"), false),
        new Sessions.Write(k3, "c_other", value.apply("c_other", "chat:other-b"), false)))); // claimed away
    assertEquals(java.util.Set.of(), save.apply(List.of(new Sessions.Write(k3, "c_3", value.apply("c_3", "chat:three"), false))));
    assertEquals(java.util.Set.of("chat:one-b"), stored(k1).topics().keySet());
    assertEquals(java.util.Set.of("chat:three"), stored(k3).topics().keySet());

    assertFalse(TestNode.await(sessions.end(ctx, k1, "c_other")), "only the owner ends a session");
    assertTrue(TestNode.await(sessions.end(ctx, k1, "c_1")));
    assertEquals(null, stored(k1));
    assertEquals(java.util.Set.of(k1), save.apply(List.of(new Sessions.Write(k1, "c_1", value.apply("c_1", "chat:one"), true))),
        "an ended session is not created again");
    assertEquals(null, TestNode.await(sessions.claim(ctx, k1, "batcher", "c_4")), "nor resumed");
  }
}
