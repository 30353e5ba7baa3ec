package dev.switchboard.operations;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.RawWs;
import dev.switchboard.testsupport.StoredSessions;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A resumed session gives every operation its client saw an op_id for exactly one terminal, with no
 * frame the client acknowledged sent again: two real nodes, no node fault.
 */
@Cluster(nodes = 2, env = {"SB_RATE_PER_SEC=100000", "SB_RATE_BURST=100000"})
class OpResumeTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static Nodes nodes;

  static String uri(String user, String session) {
    return "/ws?token=" + Tokens.user(user, "chat:*") + (session == null ? "" : "&session_id=" + session);
  }

  /** Frames of request {@code id} until its terminal; then, after a ping round trip, asserts nothing else came for it. */
  static List<JsonNode> untilTerminal(WsClient c, Predicate<JsonNode> ofRequest) {
    List<JsonNode> out = new ArrayList<>();
    while (true) {
      JsonNode f = c.await(ofRequest, Duration.ofSeconds(15));
      out.add(f);
      if (WsClient.isTerminal(f)) {
        break;
      }
    }
    // a string id: the resumed session's requests may hold any of this client's own integer ids
    c.sendEnvelope(WsClient.params().put("id", "ping").put("method", "system.ping"));
    assertTrue(c.await(x -> "ping".equals(x.path("id").asText()), WsClient.WAIT).has("result"));
    assertFalse(c.drain().stream().anyMatch(ofRequest), "nothing after the terminal");
    return out;
  }

  /** Stream frames 1..to in order from the first one after {@code afterSeq}, and one result terminal. */
  static void assertCountFrom(List<JsonNode> fs, long afterSeq, int to, String opId) {
    long seq = afterSeq;
    int n = -1;
    int terminals = 0;
    for (JsonNode f : fs) {
      assertEquals(opId, f.path("op_id").asText(), f.toString());
      assertTrue(f.get("seq").asLong() > seq, "seq grows past what the client acknowledged: " + fs);
      seq = f.get("seq").asLong();
      if ("stream".equals(f.get("type").asText())) {
        int v = f.get("data").get(0).asInt();
        assertTrue(n < 0 || v == n + 1, "no stream frame skipped: " + fs);
        n = v;
      }
      if (WsClient.isTerminal(f)) {
        terminals++;
        assertEquals(to, f.at("/result/count").asInt(), f.toString());
      }
    }
    assertEquals(1, terminals);
    assertEquals(to, n, "every stream frame up to the last");
  }

  @Test
  void aTerminalWrittenButNeverAcknowledgedComesAgainAfterAResumeElsewhere() throws Exception {
    String session;
    String opId;
    try (RawWs raw = new RawWs(nodes.port(0), uri("stale", null))) {
      session = JSON.readTree(raw.read(WsClient.WAIT).text()).get("session_id").asText();
      raw.sendText("{\"id\":7,\"method\":\"demo.count\",\"params\":{\"to\":10,\"interval_ms\":100}}");
      // The client never answers a ping: to the node, nothing it was sent is known to be read (what
      // a client that stopped reading looks like). The bytes are taken off the socket only to know
      // that the terminal was written before the connection drops.
      JsonNode f;
      do {
        RawWs.Frame frame = raw.read(WsClient.WAIT);
        f = frame != null && frame.opcode() == RawWs.TEXT ? JSON.readTree(frame.text()) : JSON.createObjectNode();
      } while (!WsClient.isTerminal(f));
      opId = f.get("op_id").asText();
      raw.abort();
    }
    awaitGone(0, session); // its close handled and the close-time session write landed
    try (WsClient again = nodes.open(1, uri("stale", session), Map.of(), null).ok()) {
      assertTrue(again.connected().get("resumed").asBoolean());
      // nothing was acknowledged: everything comes again, from seq 1, and the one terminal
      List<JsonNode> fs = untilTerminal(again, x -> x.path("id").asInt(-1) == 7);
      assertEquals(1, fs.get(0).get("seq").asLong(), fs.toString());
      assertCountFrom(fs, 0, 10, opId);
    }
  }

  /**
   * The node closes the connection (4001 here; a drain's 1012 is the same) while an operation runs,
   * and the client answers the close only after more frames came for it: a closing connection
   * writes nothing, so those frames were never sent, and the clean close that follows must not count
   * them as read (the chaos run: a drained node's client never got its operation's last frames).
   */
  @Test
  void framesThatCameWhileTheNodeClosedTheConnectionComeAfterTheResume() throws Exception {
    String session;
    String opId = null;
    long lastRead = 0;
    long exp = Tokens.now() + 3; // accepted now, expired (close 4001) in 2-3 s
    String shortLived = Tokens.hs256(Tokens.claims("closer", 3).put("exp", exp));
    try (RawWs raw = new RawWs(nodes.port(0), "/ws?token=" + shortLived);
         WsClient watch = nodes.open(1, uri("closer", null), Map.of(), null).ok()) {
      session = JSON.readTree(raw.read(WsClient.WAIT).text()).get("session_id").asText();
      raw.sendText("{\"id\":7,\"method\":\"demo.count\",\"params\":{\"to\":60,\"interval_ms\":100}}");
      // read everything, answering pings, until the node's close frame
      while (true) {
        RawWs.Frame frame = raw.read(Duration.ofSeconds(10));
        assertTrue(frame != null, "the node closes the connection when the token expires");
        if (frame.opcode() == RawWs.PING) {
          raw.send(RawWs.PONG, true, frame.payload());
        } else if (frame.opcode() == RawWs.TEXT) {
          JsonNode f = JSON.readTree(frame.text());
          if (f.path("id").asInt(-1) == 7) {
            assertFalse(WsClient.isTerminal(f), "the token expires before the operation ends: " + f);
            opId = f.get("op_id").asText();
            lastRead = f.get("seq").asLong();
          }
        } else if (frame.opcode() == RawWs.CLOSE) {
          assertEquals(4001, frame.closeCode());
          break;
        }
      }
      // the operation goes on meanwhile: its next frames reach the closing connection
      String op = opId;
      long read = lastRead;
      long deadline = System.currentTimeMillis() + 10_000;
      while (watch.call("op.status", WsClient.params().put("op_id", op)).at("/result/seq").asLong() < read + 3) {
        assertTrue(System.currentTimeMillis() < deadline, "the operation did not go on");
        java.util.concurrent.locks.LockSupport.parkNanos(20_000_000);
      }
      raw.send(RawWs.CLOSE, true, new byte[] {(byte) (4001 >> 8), (byte) (4001 & 0xff)}); // the close handshake completes
      raw.flush();
    }
    awaitGone(0, session);
    try (WsClient again = nodes.open(1, uri("closer", session), Map.of(), null).ok()) {
      assertTrue(again.connected().get("resumed").asBoolean());
      List<JsonNode> fs = untilTerminal(again, x -> x.path("id").asInt(-1) == 7);
      assertEquals(lastRead + 1, fs.get(0).get("seq").asLong(), "from the first frame the client did not read: " + fs);
      assertCountFrom(fs, lastRead, 60, opId);
    }
  }

  /**
   * A starting node that dies between claiming the dedupe key and sending the work to a worker leaves
   * the session holding the start (method and dedupe key, no worker) and the key claimed, and no
   * worker ever hears of it. The window is microseconds wide, so the test writes that state as the
   * crash leaves it (through the cluster's own maps) instead of aiming a kill at it. The resume ends
   * the start with UNAVAILABLE ("could not be started"), op.status agrees, and the key is free.
   */
  @Test
  void aResumedStartNoWorkerTookEndsUnavailableWithOpStatusAgreeingAndItsDedupeKeyFree() throws Exception {
    String session;
    try (RawWs raw = new RawWs(nodes.port(0), uri("orphanstart", null))) {
      session = JSON.readTree(raw.read(WsClient.WAIT).text()).get("session_id").asText();
      raw.sendText("{\"id\":100,\"method\":\"topic.subscribe\",\"params\":{\"topic\":\"chat:orphanstart\"}}");
      StoredSessions.await(nodes.node(0), session, v -> v != null); // a session is stored once it holds something
      raw.abort();
    }
    awaitGone(0, session);
    com.hazelcast.core.HazelcastInstance hz = nodes.node(0).context().cluster().getHazelcastInstance();
    String params = "{\"to\":3,\"interval_ms\":10}";
    String key = "u:orphanstart|demo.count|" + Operations.digest(Operations.canonical(JSON.readTree(params)));
    String opId = "op_neverstarted" + System.nanoTime();
    hz.<String, String>getMap(dev.switchboard.cluster.Addresses.OP_DEDUPE).put(key, opId);
    com.hazelcast.map.IMap<String, com.hazelcast.core.HazelcastJsonValue> sessions =
        hz.getMap(dev.switchboard.cluster.Addresses.SESSIONS);
    JsonObject stored = new JsonObject(sessions.get(session).getValue());
    stored.put("ops", stored.getJsonObject("ops", new JsonObject()).put(opId,
        new JsonObject().put("seq", 0).put("id", 7).put("method", "demo.count").put("dedupe", key)));
    sessions.put(session, new com.hazelcast.core.HazelcastJsonValue(stored.encode()));

    try (WsClient again = nodes.open(1, uri("orphanstart", session), Map.of(), null).ok()) {
      assertTrue(again.connected().get("resumed").asBoolean());
      JsonNode t = again.await(x -> x.path("id").asInt(-1) == 7, Duration.ofMillis(OpAttach.START_WAIT_MS + 10_000));
      assertEquals("UNAVAILABLE", t.at("/error/code").asText(), t.toString());
      assertEquals(opId, t.path("op_id").asText());
      assertEquals(1, t.path("seq").asLong());
      JsonNode status = again.call("op.status", WsClient.params().put("op_id", opId)).get("result");
      assertEquals("error", status.get("state").asText(), status.toString());
      assertEquals(1, status.get("seq").asLong(), status.toString());
      // the key is freed (the release goes out with the answer), then the same request starts an
      // operation of its own, not deduplicated into that one
      com.hazelcast.map.IMap<String, String> dedupe = hz.getMap(dev.switchboard.cluster.Addresses.OP_DEDUPE);
      long deadline = System.currentTimeMillis() + 10_000;
      while (opId.equals(dedupe.get(key))) {
        assertTrue(System.currentTimeMillis() < deadline, "the dedupe key stays claimed");
        java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
      }
      int id = again.request("demo.count", (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(params));
      List<JsonNode> fs = untilTerminal(again, x -> x.path("id").asInt(-1) == id);
      assertFalse(fs.get(0).has("deduplicated"), fs.toString());
      assertFalse(opId.equals(fs.get(0).path("op_id").asText()), fs.toString());
      assertEquals("result", fs.get(fs.size() - 1).get("type").asText(), fs.toString());
    }
  }

  @Test
  void framesTheClientAcknowledgedAreNotSentAgainAndAnAcknowledgedTerminalEndsIt() throws Exception {
    String session;
    String opId;
    try (RawWs raw = new RawWs(nodes.port(0), uri("acked", null))) {
      session = JSON.readTree(raw.read(WsClient.WAIT).text()).get("session_id").asText();
      raw.sendText("{\"id\":\"r1\",\"method\":\"demo.count\",\"params\":{\"to\":20,\"interval_ms\":300}}");
      opId = null;
      // it reads and answers pings until its session records an acknowledged seq, then stops reading
      long deadline = System.currentTimeMillis() + 15_000;
      while (opId == null || StoredSessions.opSeq(nodes.node(1), session, opId) == 0) {
        assertTrue(System.currentTimeMillis() < deadline, "no acknowledgement recorded");
        RawWs.Frame frame = raw.read(Duration.ofMillis(50));
        if (frame == null) {
          continue;
        }
        if (frame.opcode() == RawWs.PING) {
          raw.send(RawWs.PONG, true, frame.payload());
        } else if (frame.opcode() == RawWs.TEXT && opId == null) {
          opId = JSON.readTree(frame.text()).path("op_id").asText(null);
        }
      }
      // from now on it answers no ping (nothing more counts as read); the bytes are taken off the
      // socket only to know that the terminal was written before the connection drops
      JsonNode f;
      do {
        RawWs.Frame frame = raw.read(WsClient.WAIT);
        f = frame != null && frame.opcode() == RawWs.TEXT ? JSON.readTree(frame.text()) : JSON.createObjectNode();
      } while (!WsClient.isTerminal(f));
      raw.abort();
    }
    awaitGone(0, session);
    String op = opId;
    long acked = StoredSessions.opSeq(nodes.node(1), session, op);
    assertTrue(acked > 0 && acked < 23, "acknowledged part of it, not the terminal: " + acked);
    try (WsClient again = nodes.open(1, uri("acked", session), Map.of(), null).ok()) {
      assertTrue(again.connected().get("resumed").asBoolean());
      List<JsonNode> fs = untilTerminal(again, f -> "r1".equals(f.path("id").asText()));
      assertEquals(acked + 1, fs.get(0).get("seq").asLong(), "from the first frame not acknowledged: " + fs);
      assertCountFrom(fs, acked, 20, op);
      // the resumed connection acknowledges the terminal: the session forgets the operation
      StoredSessions.await(nodes.node(1), session, v -> v != null && !v.getJsonObject("ops", new JsonObject()).containsKey(op));
    }
  }

  @Test
  void aResumedConnectionDroppedBeforeItsOperationsWereReattachedKeepsThemInTheSession() throws Exception {
    String session;
    List<Integer> ids = new ArrayList<>();
    try (RawWs raw = new RawWs(nodes.port(0), uri("twice", null))) {
      session = JSON.readTree(raw.read(WsClient.WAIT).text()).get("session_id").asText();
      // a topic too: a resumed connection then has something to write at its close
      raw.sendText("{\"id\":100,\"method\":\"topic.subscribe\",\"params\":{\"topic\":\"chat:twice\"}}");
      for (int i = 1; i <= 4; i++) {
        raw.sendText("{\"id\":" + i + ",\"method\":\"demo.count\",\"params\":{\"to\":30,\"interval_ms\":" + (100 + i) + "}}");
        ids.add(i);
      }
      StoredSessions.await(nodes.node(1), session, v -> v != null && v.getJsonObject("ops", new JsonObject()).size() == 4
          && v.getJsonObject("topics", new JsonObject()).containsKey("chat:twice"));
      raw.abort();
    }
    awaitGone(0, session);
    // resumed, and gone again at once: its close-time write keeps them
    try (RawWs raw = new RawWs(nodes.port(1), uri("twice", session))) {
      assertTrue(JSON.readTree(raw.read(WsClient.WAIT).text()).get("resumed").asBoolean());
      // from its first frame on, whatever the registry has answered yet, the connection's session
      // state holds the four operations
      // state holds the four operations (read on the connection's loop, after its start)
      var conn = java.util.stream.StreamSupport.stream(nodes.node(1).context().local().all().spliterator(), false)
          .filter(x -> x.sessionId().equals(session)).findFirst().orElseThrow();
      java.util.concurrent.CompletableFuture<JsonObject> ops = new java.util.concurrent.CompletableFuture<>();
      conn.execute(() -> ops.complete(nodes.node(1).context().ops().hub().clients().sessionOps(conn)));
      assertEquals(4, ops.get(10, java.util.concurrent.TimeUnit.SECONDS).size(), () -> ops.join().toString());
      raw.abort();
    }
    awaitGone(1, session);
    assertEquals(4, StoredSessions.get(nodes.node(1), session).getJsonObject("ops").size(),
        "the operations are still in the session: " + StoredSessions.get(nodes.node(1), session));
    try (WsClient again = nodes.open(0, uri("twice", session), Map.of(), null).ok()) {
      assertTrue(again.connected().get("resumed").asBoolean());
      java.util.Map<Integer, Integer> terminals = new java.util.HashMap<>();
      while (terminals.size() < 4) {
        JsonNode f = again.next(Duration.ofSeconds(15));
        int id = f.path("id").asInt(-1);
        if (ids.contains(id) && WsClient.isTerminal(f)) {
          assertEquals(30, f.at("/result/count").asInt(), f.toString());
          terminals.merge(id, 1, Integer::sum);
        }
      }
      again.sendEnvelope(WsClient.params().put("id", "ping").put("method", "system.ping"));
      assertTrue(again.await(x -> "ping".equals(x.path("id").asText()), WsClient.WAIT).has("result"));
      assertFalse(again.drain().stream().anyMatch(f -> ids.contains(f.path("id").asInt(-1)) && WsClient.isTerminal(f)),
          "one terminal each");
    }
  }

  /** Waits until node {@code node} has no connection of the session left and its session writes landed. */
  static void awaitGone(int node, String session) {
    long deadline = System.currentTimeMillis() + 10_000;
    while (java.util.stream.StreamSupport.stream(nodes.node(node).context().local().all().spliterator(), false)
        .anyMatch(x -> x.sessionId().equals(session))) {
      assertTrue(System.currentTimeMillis() < deadline, "the node never handled the close");
      java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
    }
    TestNode.await(nodes.node(node).sessionWritesLanded(10_000));
  }
}
