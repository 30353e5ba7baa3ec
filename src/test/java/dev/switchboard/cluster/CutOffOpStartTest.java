package dev.switchboard.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testsupport.ChildNode;
import dev.switchboard.testsupport.Follower;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.switchboard.cluster.SplitChecks.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node whose side does not serve starts no operation. Found by the chaos run with 30 s partitions:
 * clients still connected to a cut-off node during its handover started operations there; the
 * session's hold on them and their records went to that side's copies, which the merge discards, and
 * the clients, handed over to the majority, resumed sessions that knew nothing of them: no terminal
 * ever came ({@code op.status}: UNKNOWN_OPERATION). Three nodes; one frozen until the others remove
 * it, then thawed: it is a minority until the merge (a long merge delay keeps it one), handing its
 * clients over one by one over a long handover window; the clients it still has get UNAVAILABLE
 * (retryable) for {@code demo.count}, no operation.
 */
class CutOffOpStartTest {
  final List<ChildNode> nodes = new ArrayList<>();
  final List<WsClient> clients = new ArrayList<>();
  final Vertx vertx = Vertx.vertx();

  @AfterEach
  void down() {
    clients.forEach(WsClient::close);
    nodes.forEach(n -> FrozenNodeTest.signal(n, "CONT"));
    nodes.forEach(ChildNode::close);
    vertx.close();
  }

  @Test
  void aNodeCutOffFromTheMajorityRefusesToStartOperations() {
    nodes.addAll(ChildNode.cluster("co", 3, Map.of(
        "SB_CLUSTER_MEMBER_TIMEOUT_S", "6",
        "SB_CLUSTER_MERGE_DELAY_S", "60",
        "SB_CLUSTER_HANDOVER_MS", "20000",
        // the shipped heartbeat: how a freeze is detected is what this test is about
        "SB_CLUSTER_CONFIG", TestNode.SHIPPED_CLUSTER_CONFIG)));
    InetSocketAddress first = Follower.local(nodes.get(0).port);
    awaitTrue(() -> MergedNodeTest.listed(first).size() == 3, 20_000, "the cluster forms");
    ChildNode cut = nodes.get(2);
    InetSocketAddress cutAddress = Follower.local(cut.port);
    for (int i = 0; i < 6; i++) {
      clients.add(WsClient.open(vertx, cut.port, "/ws?token=" + Tokens.user("cut-ops-" + i), Map.of(), null).ok());
    }
    JsonNode ok = clients.get(0).call("demo.count", WsClient.params().put("to", 2).put("interval_ms", 50));
    assertEquals("result", ok.path("type").asText(), "an operation runs there before the split: " + ok);

    FrozenNodeTest.signal(cut, "STOP");
    awaitTrue(() -> Set.of("co0", "co1").equals(MergedNodeTest.listed(first)), 30_000,
        "the others remove the frozen node");
    FrozenNodeTest.signal(cut, "CONT");
    awaitTrue(() -> SplitChecks.status(cutAddress, "/health/ready") == 503, 20_000,
        "the thawed node sees itself a minority");

    List<JsonNode> answers = new ArrayList<>();
    for (WsClient c : clients) {
      if (c.isClosed()) {
        continue; // handed over already
      }
      int id = c.request("demo.count", WsClient.params().put("to", 2).put("interval_ms", 50));
      try {
        answers.add(c.await(f -> f.path("id").asInt(-1) == id, Duration.ofSeconds(5)));
      } catch (AssertionError closedMeanwhile) {
        assertTrue(c.isClosed(), "a client still connected gets an answer");
      }
    }
    assertFalse(answers.isEmpty(), "some clients were still connected to the minority");
    for (JsonNode a : answers) {
      assertEquals("error", a.path("type").asText(), "no operation starts on a side cut off: " + a);
      assertEquals("UNAVAILABLE", a.at("/error/code").asText(), a.toString());
    }
  }
}
