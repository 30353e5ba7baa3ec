package dev.switchboard.operations;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.Node;
import dev.switchboard.testsupport.ChildNode;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.StoredSessions;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Node faults around an operation and its client, with nodes in their own JVMs (SIGKILL, SIGTERM):
 * whatever node goes, the client that saw the op_id ends with exactly one terminal, and frames it
 * acknowledged do not come again.
 */
@Cluster(nodes = 2, env = {"SB_RATE_PER_SEC=100000", "SB_RATE_BURST=100000"})
class OpFaultTest {
  static Nodes nodes;

  static String uri(String user, String session) {
    return "/ws?token=" + Tokens.user(user) + (session == null ? "" : "&session_id=" + session);
  }

  static WsClient open(int port, String user, String session) {
    return WsClient.open(nodes.vertx(), port, uri(user, session), Map.of(), null).ok();
  }

  /** A started operation: its request id and op_id. */
  record Started(int id, String opId) {
  }

  /**
   * Starts demo.count on {@code c} until one runs on a node {@code where} accepts (the work goes
   * round-robin over the nodes); the others are cancelled through {@code watch} (same user).
   */
  static Started startOn(WsClient c, WsClient watch, Predicate<String> where, int to, int intervalMs) {
    for (int i = 0; i < 20; i++) {
      int id = c.request("demo.count", WsClient.params().put("to", to).put("interval_ms", intervalMs + i));
      String opId = c.await(x -> x.path("id").asInt(-1) == id, WsClient.WAIT).get("op_id").asText();
      String node = watch.call("op.status", WsClient.params().put("op_id", opId)).at("/result/node_id").asText();
      if (where.test(node)) {
        return new Started(id, opId);
      }
      watch.call("op.cancel", WsClient.params().put("op_id", opId));
    }
    return fail("no operation ran where wanted");
  }

  /** Polls op.status until the state matches. */
  static void awaitState(WsClient watch, String opId, String state) {
    long deadline = System.currentTimeMillis() + 15_000;
    String now = "";
    while (!state.equals(now)) {
      assertTrue(System.currentTimeMillis() < deadline, "state never " + state + ": " + now);
      now = watch.call("op.status", WsClient.params().put("op_id", opId)).at("/result/state").asText();
    }
  }

  /** Waits until every in-JVM node sees a cluster of {@code size} members. */
  static void awaitClusterSize(int size) {
    long deadline = System.currentTimeMillis() + 15_000;
    for (Node n : nodes.all()) {
      while (n.context().cluster().getHazelcastInstance().getCluster().getMembers().size() != size) {
        assertTrue(System.currentTimeMillis() < deadline, "cluster never back to " + size);
        java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
      }
    }
  }

  /** Frames of request {@code id} until its terminal; then, after a ping round trip, nothing more for it. */
  static List<JsonNode> untilTerminal(WsClient c, int id) {
    List<JsonNode> out = new ArrayList<>();
    while (out.isEmpty() || !WsClient.isTerminal(out.get(out.size() - 1))) {
      out.add(c.await(x -> x.path("id").asInt(-1) == id, Duration.ofSeconds(20)));
    }
    // a string id: the resumed session's requests may hold any of this client's own integer ids
    c.sendEnvelope(WsClient.params().put("id", "ping").put("method", "system.ping"));
    assertTrue(c.await(x -> "ping".equals(x.path("id").asText()), WsClient.WAIT).has("result"));
    assertFalse(c.drain().stream().anyMatch(x -> x.path("id").asInt(-1) == id), "nothing after the terminal");
    return out;
  }

  /** The highest seq of request {@code id} among frames already received (the queue is emptied). */
  static long lastSeq(WsClient c, int id, long atLeast) {
    long seq = atLeast;
    for (JsonNode f : c.drain()) {
      if (f.path("id").asInt(-1) == id) {
        assertFalse(WsClient.isTerminal(f), "ended before the fault: " + f);
        seq = Math.max(seq, f.get("seq").asLong());
      }
    }
    return seq;
  }

  /** Stream frames after {@code seen} continue the count with nothing skipped, then one result. */
  static void assertRestOfCount(List<JsonNode> fs, String opId, long seen, int to) {
    long seq = 0;
    int n = -1;
    for (JsonNode f : fs) {
      assertEquals(opId, f.path("op_id").asText(), f.toString());
      assertTrue(f.get("seq").asLong() > seq, "seq grows: " + fs);
      seq = f.get("seq").asLong();
      if (seq <= seen) {
        continue; // read before the fault, not acknowledged: it may come again
      }
      if ("stream".equals(f.get("type").asText())) {
        int v = f.get("data").get(0).asInt();
        assertTrue(n < 0 || v == n + 1, "no stream frame skipped: " + fs);
        n = v;
      }
    }
    JsonNode last = fs.get(fs.size() - 1);
    assertEquals("result", last.get("type").asText(), last.toString());
    assertEquals(to, last.at("/result/count").asInt());
    assertEquals(to, n);
  }

  @Test
  void theWorkersNodeKilledWhileItsClientIsAwayEndsTheResumedOperationWithNodeLostOnce() {
    try (ChildNode child = ChildNode.start("kw", nodes.members(), Map.of());
         WsClient watch = open(nodes.port(1), "kwu", null)) {
      WsClient c = open(nodes.port(0), "kwu", null);
      String session = c.connected().get("session_id").asText();
      Started op = startOn(c, watch, "kw"::equals, 1000, 100);
      c.await(x -> x.path("id").asInt(-1) == op.id() && "stream".equals(x.path("type").asText()), WsClient.WAIT);
      c.socket().close((short) 1001); // away: the session keeps the operation
      c.awaitClose(WsClient.WAIT);
      long seen = lastSeq(c, op.id(), 0);
      c.close();
      child.kill();
      awaitClusterSize(2);
      try (WsClient again = open(nodes.port(1), "kwu", session)) {
        assertTrue(again.connected().get("resumed").asBoolean());
        List<JsonNode> fs = untilTerminal(again, op.id());
        JsonNode end = fs.get(fs.size() - 1);
        assertEquals("NODE_LOST", end.at("/error/code").asText(), fs.toString());
        assertEquals(op.opId(), end.get("op_id").asText());
        assertTrue(end.get("seq").asLong() > seen, "past every frame the client had: " + fs);
        for (JsonNode f : fs.subList(0, fs.size() - 1)) {
          assertTrue(f.get("seq").asLong() <= seen, "nothing new from a dead node: " + f);
        }
      }
    }
  }

  @Test
  void aFinishedOperationWhoseNodeWasKilledIsResumedWithItsOwnResult() throws Exception {
    try (ChildNode child = ChildNode.start("kf", nodes.members(), Map.of());
         WsClient watch = open(nodes.port(1), "kfu", null)) {
      String session;
      Started op;
      // a client that reads and acknowledges every frame but the terminal, which comes 4 s after the last
      try (RawClient raw = new RawClient(nodes.port(0), uri("kfu", null))) {
        session = raw.connected.get("session_id").asText();
        op = raw.startOn(watch, "kf"::equals, 2, 4000);
        raw.answerUntil(() -> StoredSessions.opSeq(nodes.node(1), session, op.opId()) == 4, Duration.ofSeconds(15));
        awaitState(watch, op.opId(), "done"); // the terminal waits unread
        raw.abort();
      }
      child.kill();
      awaitClusterSize(2);
      try (WsClient again = open(nodes.port(1), "kfu", session)) {
        assertTrue(again.connected().get("resumed").asBoolean());
        List<JsonNode> fs = untilTerminal(again, op.id());
        assertEquals(1, fs.size(), "only the terminal was missing: " + fs);
        assertEquals("result", fs.get(0).get("type").asText(), fs.toString());
        assertEquals(2, fs.get(0).at("/result/count").asInt());
        assertEquals(5, fs.get(0).get("seq").asLong());
      }
    }
  }

  @Test
  void aTerminalStandingInForOneTheClientReadTakesItsSeq() throws Exception {
    try (ChildNode child = ChildNode.start("ks", nodes.members(), Map.of());
         WsClient watch = open(nodes.port(1), "ksu", null)) {
      String session;
      Started op;
      JsonNode result;
      // it reads every frame, the result included, and acknowledges none (no pong)
      try (RawClient raw = new RawClient(nodes.port(0), uri("ksu", null), false)) {
        session = raw.connected.get("session_id").asText();
        op = raw.startOn(watch, "ks"::equals, 3, 200);
        result = raw.await(f -> f.path("id").asInt(-1) == op.id() && WsClient.isTerminal(f), Duration.ofSeconds(15));
        raw.abort();
      }
      child.kill();
      awaitClusterSize(2);
      try (WsClient again = open(nodes.port(1), "ksu", session)) {
        assertTrue(again.connected().get("resumed").asBoolean());
        List<JsonNode> fs = untilTerminal(again, op.id());
        // its frames died with the node: one NODE_LOST, in the seq of the result it read, which a
        // client that drops repeats by seq ignores
        assertEquals(1, fs.size(), fs.toString());
        assertEquals("NODE_LOST", fs.get(0).at("/error/code").asText(), fs.toString());
        assertEquals(result.get("seq").asLong(), fs.get(0).get("seq").asLong(), fs + " after " + result);
      }
    }
  }

  @Test
  void aClientWhoseNodeIsKilledResumesElsewhereAndGetsTheRestAndOneResult() {
    try (ChildNode child = ChildNode.start("kc", nodes.members(), Map.of());
         WsClient watch = open(nodes.port(1), "kcu", null)) {
      WsClient c = open(child.port, "kcu", null);
      String session = c.connected().get("session_id").asText();
      Started op = startOn(c, watch, n -> !"kc".equals(n), 40, 100);
      c.await(x -> x.path("id").asInt(-1) == op.id() && x.path("data").path(0).asInt() == 5, WsClient.WAIT);
      child.kill();
      c.awaitClose(Duration.ofSeconds(15));
      long seen = lastSeq(c, op.id(), 7);
      c.close();
      try (WsClient again = open(nodes.port(1), "kcu", session)) {
        assertTrue(again.connected().get("resumed").asBoolean());
        assertRestOfCount(untilTerminal(again, op.id()), op.opId(), seen, 40);
      }
    }
  }

  @Test
  void aClientWhoseNodeIsDrainedResumesExactlyWhereItWas() throws Exception {
    try (ChildNode child = ChildNode.start("dc", nodes.members(), Map.of());
         WsClient watch = open(nodes.port(1), "dcu", null)) {
      WsClient c = open(child.port, "dcu", null);
      String session = c.connected().get("session_id").asText();
      Started op = startOn(c, watch, n -> !"dc".equals(n), 40, 100);
      c.await(x -> x.path("id").asInt(-1) == op.id() && x.path("data").path(0).asInt() == 5, WsClient.WAIT);
      child.process.destroy(); // SIGTERM: a drain
      assertEquals(1012, c.awaitClose(Duration.ofSeconds(15)));
      long seen = lastSeq(c, op.id(), 7);
      c.close();
      assertTrue(child.process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "the drained node exits");
      try (WsClient again = open(nodes.port(1), "dcu", session)) {
        assertTrue(again.connected().get("resumed").asBoolean());
        List<JsonNode> fs = untilTerminal(again, op.id());
        assertEquals(seen + 1, fs.get(0).get("seq").asLong(), "a drain hands over exactly: " + fs);
        assertRestOfCount(fs, op.opId(), seen, 40);
      }
    }
  }

  /**
   * The drained node runs the operation and holds its client's connection: the drain closes the
   * connection, the operation ends while the client is away, and the client resumes on another node
   * only then. The node waits for that re-attach before it leaves (the chaos run: both followers of
   * such an operation got NODE_LOST, the node having left while nothing was attached, and op.status
   * said done).
   */
  @Test
  void aDrainedNodeWaitsForItsClientToReattachToAnOperationThatEndedWhileItWasAway() throws Exception {
    try (ChildNode child = ChildNode.start("dra", nodes.members(), Map.of("SB_SHUTDOWN_GRACE_MS", "20000"));
         WsClient watch = open(nodes.port(1), "drau", null)) {
      WsClient c = open(child.port, "drau", null);
      String session = c.connected().get("session_id").asText();
      Started op = startOn(c, watch, "dra"::equals, 12, 100);
      c.await(x -> x.path("id").asInt(-1) == op.id() && x.path("data").path(0).asInt() == 2, WsClient.WAIT);
      child.process.destroy(); // SIGTERM: a drain, which closes this connection too
      assertEquals(1012, c.awaitClose(Duration.ofSeconds(15)));
      long seen = lastSeq(c, op.id(), 4);
      c.close();
      awaitState(watch, op.opId(), "done"); // it ended while nothing was attached
      try (WsClient again = open(nodes.port(1), "drau", session)) {
        assertTrue(again.connected().get("resumed").asBoolean());
        List<JsonNode> fs = untilTerminal(again, op.id());
        assertEquals("result", fs.get(fs.size() - 1).get("type").asText(), "its own result, not NODE_LOST: " + fs);
        assertRestOfCount(fs, op.opId(), seen, 12);
      }
      assertTrue(child.process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "the drained node exits");
      assertEquals(0, child.process.exitValue());
    }
  }

  @Test
  void aDrainedWorkersNodeLetsItsOperationsFinishBeforeItLeaves() throws Exception {
    try (ChildNode child = ChildNode.start("dw", nodes.members(), Map.of("SB_SHUTDOWN_GRACE_MS", "20000"));
         WsClient watch = open(nodes.port(1), "dwu", null);
         WsClient c = open(nodes.port(0), "dwu", null)) {
      Started op = startOn(c, watch, "dw"::equals, 30, 100);
      c.await(x -> x.path("id").asInt(-1) == op.id() && x.path("data").path(0).asInt() == 3, WsClient.WAIT);
      child.process.destroy(); // SIGTERM: a drain
      // new work goes to the other nodes meanwhile; the drained node's operation ends as it would have
      int other = c.request("demo.count", WsClient.params().put("to", 1).put("interval_ms", 0));
      List<JsonNode> fs = new ArrayList<>();
      JsonNode otherEnd = null;
      while (otherEnd == null || fs.isEmpty() || !WsClient.isTerminal(fs.get(fs.size() - 1))) {
        JsonNode f = c.next(Duration.ofSeconds(20));
        if (f.path("id").asInt(-1) == op.id()) {
          fs.add(f);
        } else if (f.path("id").asInt(-1) == other && WsClient.isTerminal(f)) {
          otherEnd = f;
        }
      }
      assertEquals(1, otherEnd.at("/result/count").asInt(), otherEnd.toString());
      assertRestOfCount(fs, op.opId(), 0, 30);
      assertTrue(child.process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS), "the drained node exits");
      assertEquals(0, child.process.exitValue());
    }
  }
}
