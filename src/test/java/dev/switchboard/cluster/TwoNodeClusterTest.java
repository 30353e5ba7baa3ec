package dev.switchboard.cluster;

import dev.switchboard.Node;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Http;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Two Main-equivalent nodes in one JVM join one Hazelcast cluster on loopback and both serve clients. */
@Cluster(nodes = 2)
class TwoNodeClusterTest {
  static Nodes nodes;

  @Test
  void bothNodesSeeTwoMembers() {
    for (Node n : nodes.all()) {
      assertEquals(2, n.context().cluster().getNodes().size(), "members seen by " + n.nodeId());
    }
  }

  @Test
  void bothNodesAreReadyAndServeConnections() {
    for (Node n : nodes.all()) {
      assertEquals(200, Http.get(n.port(), "/health/ready").statusCode());
      try (WsClient c = WsClient.connect(nodes.vertx(), n.port(), Tokens.user("alice"))) {
        assertEquals(n.nodeId(), c.connected().get("node_id").asText());
        assertEquals(n.nodeId(), c.call("system.info", null).at("/result/node_id").asText());
      }
    }
    assertNotEquals(nodes.node(0).nodeId(), nodes.node(1).nodeId());
  }

  @Test
  void clusteredEventBusReachesTheOtherNode() {
    String address = "test.cluster.echo";
    nodes.node(1).context().vertx().eventBus().<String>consumer(address, m -> m.reply("pong from n2"));
    String reply = null;
    long deadline = System.currentTimeMillis() + 10_000;
    // the consumer registration propagates through Hazelcast: retry until it is visible (bounded)
    while (reply == null && System.currentTimeMillis() < deadline) {
      try {
        reply = TestNode.await(nodes.node(0).context().vertx().eventBus().<String>request(address, "ping")
            .map(m -> m.body()).recover(e -> io.vertx.core.Future.succeededFuture(null)));
      } catch (AssertionError e) {
        reply = null;
      }
    }
    assertTrue("pong from n2".equals(reply), "reply: " + reply);
  }
}
