package dev.switchboard.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One owner per session: a resume claims it, an older connection of the session (half-open, or the
 * loser of two resumes) cannot overwrite or revive it, an end leaves a tombstone, and every write
 * sets the session's time-to-live again.
 */
@Cluster(nodes = 2)
class SessionOwnershipTest {
  static Nodes nodes;

  static WsClient connect(int node, String user, String session) {
    return nodes.open(node, "/ws?token=" + Tokens.user(user, "chat:*")
        + (session == null ? "" : "&session_id=" + session), Map.of(), null).ok();
  }

  static void publish(WsClient pub, String topic, int from, int to) {
    SessionResumeTest.publish(pub, topic, from, to);
  }

  static WsClient connect(int node, String user, String session, String device) {
    return nodes.open(node, "/ws?token=" + Tokens.user(user, "chat:*")
        + "&device_id=" + device + (session == null ? "" : "&session_id=" + session), Map.of(), null).ok();
  }

  /** The stored session now (null: none), read through node 0. */
  static Sessions.Stored stored(String session) {
    return TestNode.await(nodes.node(0).context().sessions().load(nodes.node(0).context().vertx().getOrCreateContext(), session));
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
    while (java.util.stream.StreamSupport.stream(nodes.node(node).context().local().all().spliterator(), false)
        .anyMatch(x -> x.connectionId().equals(conn))) {
      assertTrue(System.currentTimeMillis() < deadline, "the node never handled the close");
      java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
    }
    TestNode.await(nodes.node(node).sessionWritesLanded(10_000));
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
    var map = nodes.node(1).context().cluster().getHazelcastInstance()
        .<String, com.hazelcast.core.HazelcastJsonValue>getMap(Addresses.SESSIONS);
    WsClient a = connect(0, "lost", null, "phone");
    String session = a.connected().get("session_id").asText();
    a.call("topic.subscribe", WsClient.params().put("topic", "chat:lost-1"));
    awaitStored(session, s -> s != null && s.topics().containsKey("chat:lost-1"));
    map.delete(session); // as if both copies were lost (or it expired)
    // the close-time save is a fenced one: it writes the entry again rather than being refused
    drop(0, a);
    assertTrue(stored(session) != null, "the owner's close-time save wrote the lost entry again");
    try (WsClient again = connect(1, "lost", session, "phone")) {
      assertTrue(again.connected().get("resumed").asBoolean(), again.connected().toString());
    }
  }

  @Test
  void everySessionWriteSetsTheSessionTtlAgainAndAnEndLeavesATombstone() {
    var map = nodes.node(1).context().cluster().getHazelcastInstance()
        .<String, com.hazelcast.core.HazelcastJsonValue>getMap(Addresses.SESSIONS);
    long ttl = nodes.node(0).context().sessions().ttlMs();
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
    var hz = nodes.node(0).context().cluster().getHazelcastInstance();
    var partitions = hz.getPartitionService();
    var here = hz.getCluster().getLocalMember();
    Sessions sessions = nodes.node(0).context().sessions();
    var ctx = nodes.node(0).context().vertx().getOrCreateContext();
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
