package dev.switchboard.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.protocol.Json;
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
import java.util.TreeSet;

import static dev.switchboard.cluster.SplitChecks.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hazelcast gives a member that merges back after a split (a freeze past the member timeout, or a
 * network cut: the same merge) a new member uuid. A node that kept writing its directory entry and its
 * operations' records under the uuid it started with was taken, by every node and itself, for a
 * departed member: {@code GET /api/v1/cluster} never listed it again, and every operation that ran
 * there ended for its clients with NODE_LOST while it went on to its result ({@code op.status} then
 * said done); the chaos run with 30 s partitions found both. Three nodes; one frozen until the others
 * remove it, then thawed: once merged it is listed by every node, and operations that run on it,
 * started from it or from another node, end with their results. (Before the fix, both checks fail.)
 */
class MergedNodeTest {
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
  void aNodeMergedBackAfterASplitIsListedEverywhereAndItsOperationsEndWithTheirResults() {
    nodes.addAll(ChildNode.cluster("mg", 3, Map.of(
        "SB_CLUSTER_MEMBER_TIMEOUT_S", "6",
        "SB_CLUSTER_MERGE_DELAY_S", "2",
        "SB_CLUSTER_HANDOVER_MS", "300",
        // the shipped heartbeat: how a freeze is detected is what this test is about
        "SB_CLUSTER_CONFIG", TestNode.SHIPPED_CLUSTER_CONFIG)));
    List<InetSocketAddress> addresses = nodes.stream().map(n -> Follower.local(n.port)).toList();
    Set<String> all = new TreeSet<>(List.of("mg0", "mg1", "mg2"));
    awaitTrue(() -> addresses.stream().allMatch(a -> all.equals(listed(a))), 20_000, "every node lists all three");

    ChildNode frozen = nodes.get(2);
    FrozenNodeTest.signal(frozen, "STOP");
    awaitTrue(() -> Set.of("mg0", "mg1").equals(listed(addresses.get(0))), 30_000,
        "the others remove the frozen node");
    FrozenNodeTest.signal(frozen, "CONT");
    awaitTrue(() -> frozen.output().contains("was merged into the cluster after a split"), 60_000,
        "the thawed node merges back");
    awaitTrue(() -> SplitChecks.status(addresses.get(2), "/health/ready") == 200, 30_000,
        "the merged node serves again");

    awaitTrue(() -> addresses.stream().allMatch(a -> all.equals(listed(a))), 20_000,
        "every node lists the merged node again: " + addresses.stream().map(MergedNodeTest::listed).toList());

    // the work goes round-robin over the three workers: some of it runs on the merged node
    int onMerged = 0;
    for (int from : new int[] {0, 2}) {
      WsClient c = open(nodes.get(from).port, "merge-ops-" + from);
      WsClient watch = open(nodes.get(1).port, "merge-ops-" + from);
      for (int i = 0; i < 6; i++) {
        int id = c.request("demo.count", WsClient.params().put("to", 3).put("interval_ms", 100));
        JsonNode first = c.await(f -> f.path("id").asInt(-1) == id, WsClient.WAIT);
        String opId = first.path("op_id").asText();
        String ranOn = watch.call("op.status", WsClient.params().put("op_id", opId)).at("/result/node_id").asText();
        JsonNode terminal = WsClient.isTerminal(first) ? first
            : c.await(f -> f.path("id").asInt(-1) == id && WsClient.isTerminal(f), Duration.ofSeconds(20));
        assertEquals("result", terminal.path("type").asText(), "operation " + opId + " from mg" + from
            + " ran on " + ranOn + ": " + terminal);
        assertEquals(3, terminal.at("/result/count").asInt(), terminal.toString());
        if (ranOn.equals("mg2")) {
          onMerged++;
        }
      }
    }
    assertTrue(onMerged > 0, "some operations ran on the merged node");
  }

  WsClient open(int port, String user) {
    WsClient c = WsClient.open(vertx, port, "/ws?token=" + Tokens.user(user), Map.of(), null).ok();
    clients.add(c);
    return c;
  }

  /** The node ids {@code GET /api/v1/cluster} of that node lists (empty when it does not answer). */
  static Set<String> listed(InetSocketAddress node) {
    Set<String> ids = new TreeSet<>();
    String body = SplitChecks.getOnce(node, "/api/v1/cluster");
    if (body == null) {
      return Set.of();
    }
    try {
      for (JsonNode n : Json.MAPPER.readTree(body).path("nodes")) {
        ids.add(n.path("node_id").asText());
      }
    } catch (java.io.IOException e) {
      return Set.of();
    }
    return ids;
  }
}
