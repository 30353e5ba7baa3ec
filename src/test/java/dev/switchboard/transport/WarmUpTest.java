package dev.switchboard.transport;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.Node;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The start-up warm-up runs its rounds over loopback and leaves nothing behind. */
class WarmUpTest {

  @Test
  void aNodeWarmsUpBeforeItIsReadyAndLeavesNoConnectionDeviceOrPresenceBehind() throws Exception {
    // a tight per-IP connect rate: the warm-up's 1,000 loopback connections must not be charged to it
    Node node = TestNode.start(Map.of("SB_NODE_WARMUP_MS", "20000", "SB_CONNECT_RATE_PER_IP", "5"));
    Vertx vertx = Vertx.vertx();
    try {
      assertTrue(node.context().ready(), "ready once started, warm-up done");
      assertEquals(0, node.context().local().size(), "every warm-up connection is closed");
      List<?> devices = node.context().directory().devicesOf("sb-warmup-" + node.nodeId() + "-0-0")
          .toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
      assertTrue(devices.isEmpty(), "its device entries are gone");
      Map<String, List<String>> members = node.context().directory().members(WarmUp.TOPIC)
          .toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
      assertTrue(members.isEmpty(), "and its presence records: " + members);
      // the rounds did run: every publication of every round is in the warm-up topic's history
      try (WsClient c = WsClient.open(vertx, node.port(), "/ws?token=" + Tokens.user("after", "sb-warmup:*"), Map.of(), null).ok()) {
        JsonNode history = c.call("topic.history", WsClient.params().put("topic", WarmUp.TOPIC).put("limit", 1));
        assertEquals(WarmUp.publications(),
            history.at("/result/offset").asLong(), history.toString());
        // and a client from the same address connects as usual (the warm-up was not charged to its rate)
        assertEquals("result", c.call("system.ping", WsClient.params()).get("type").asText());
      }
    } finally {
      TestNode.stop(node);
      vertx.close();
    }
  }

  @Test
  void aJoiningNodeRunsACrossRoundWithAnAnnouncedNodeAndNeitherKeepsItsConnectionsOrDevices() throws Exception {
    int p1 = TestNode.freePort();
    int p2 = TestNode.freePort();
    String members = "127.0.0.1:" + p1 + ",127.0.0.1:" + p2;
    // the first node's own warm-up is cut short at once (1 ms), but it takes part in others' cross rounds
    Node first = TestNode.start(Map.of("SB_NODE_WARMUP_MS", "1", "SB_NODE_ID", "warm-a",
        "SB_CLUSTER_PORT", String.valueOf(p1), "SB_CLUSTER_MEMBERS", members));
    Node joining = null;
    try {
      joining = TestNode.start(Map.of("SB_NODE_WARMUP_MS", "30000", "SB_NODE_ID", "warm-b",
          "SB_CLUSTER_PORT", String.valueOf(p2), "SB_CLUSTER_MEMBERS", members));
      WarmUp.Report report = joining.warmUp();
      assertEquals(WarmUp.ROUNDS, report.rounds(), report.toString());
      assertEquals("warm-a", report.peer(), report.toString());
      // every connection on each side received every publication of both sides (each side publishes
      // only once subscribed, the joining one only once it has seen the other's): the bus both ways
      assertEquals(2L * WarmUp.CROSS.paced() * WarmUp.CROSS.connections(), WarmUp.CROSS.allEvents());
      assertEquals(WarmUp.CROSS.allEvents(), report.receivedHere(), report.toString());
      assertEquals(WarmUp.CROSS.allEvents(), report.receivedThere(), report.toString());
      for (Node n : List.of(first, joining)) {
        assertEquals(0, n.context().local().size(), n.nodeId() + ": every warm-up connection is closed");
        noDevicesLeft(n, "sb-warmup-" + n.nodeId() + "-x-", WarmUp.CROSS.connections());
      }
    } finally {
      TestNode.stop(joining, first);
    }
  }

  @Test
  void aJoiningNodeWhoseOnlyPeerTakesNoPartGoesReadyWithoutWaitingForItsBudget() throws Exception {
    int p1 = TestNode.freePort();
    int p2 = TestNode.freePort();
    String members = "127.0.0.1:" + p1 + ",127.0.0.1:" + p2;
    // warm-up off: this node does not serve cross rounds (no handler for its address)
    Node first = TestNode.start(Map.of("SB_NODE_WARMUP_MS", "0", "SB_NODE_ID", "cold-a",
        "SB_CLUSTER_PORT", String.valueOf(p1), "SB_CLUSTER_MEMBERS", members));
    Node joining = null;
    try {
      joining = TestNode.start(Map.of("SB_NODE_WARMUP_MS", "60000", "SB_NODE_ID", "cold-b",
          "SB_CLUSTER_PORT", String.valueOf(p2), "SB_CLUSTER_MEMBERS", members));
      WarmUp.Report report = joining.warmUp();
      assertEquals(WarmUp.ROUNDS, report.rounds(), report.toString());
      assertEquals("cold-a", report.peer(), report.toString());
      assertEquals(0, report.receivedThere(), report.toString());
      assertEquals(0, report.receivedHere(), "the other node published nothing: " + report);
      // the refusal ended the round at once: not held to the 60 s budget
      assertTrue(report.ms() < 45_000, report.toString());
      assertEquals(0, joining.context().local().size(), "every warm-up connection is closed");
      noDevicesLeft(joining, "sb-warmup-cold-b-x-", WarmUp.CROSS.connections());
    } finally {
      TestNode.stop(joining, first);
    }
  }

  /** The device entries of users {@code prefix}0..n-1 are gone (they are removed as the closes land). */
  private static void noDevicesLeft(Node n, String prefix, int count) throws Exception {
    long deadline = System.currentTimeMillis() + 10_000;
    for (int i = 0; i < count; i++) {
      while (true) {
        List<?> devices = n.context().directory().devicesOf(prefix + i)
            .toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
        if (devices.isEmpty()) {
          break;
        }
        assertTrue(System.currentTimeMillis() < deadline, prefix + i + " still has device entries: " + devices);
        Thread.sleep(50);
      }
    }
  }
}
