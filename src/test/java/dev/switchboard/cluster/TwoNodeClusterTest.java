package dev.switchboard.cluster;

import dev.switchboard.Node;
import dev.switchboard.testsupport.Http;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Two Main-equivalent nodes in one JVM join one Hazelcast cluster on loopback and both serve clients. */
class TwoNodeClusterTest {
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

  @Test
  void bothNodesSeeTwoMembers() {
    for (Node n : nodes) {
      assertEquals(2, n.context().cluster().getNodes().size(), "members seen by " + n.nodeId());
    }
  }

  @Test
  void bothNodesAreReadyAndServeConnections() {
    for (Node n : nodes) {
      assertEquals(200, Http.get(n.port(), "/health/ready").statusCode());
      try (WsClient c = WsClient.connect(vertx, n.port(), Tokens.user("alice"))) {
        assertEquals(n.nodeId(), c.connected().get("node_id").asText());
        assertEquals(n.nodeId(), c.call("system.info", null).at("/result/node_id").asText());
      }
    }
    assertNotEquals(nodes.get(0).nodeId(), nodes.get(1).nodeId());
  }

  @Test
  void clusteredEventBusReachesTheOtherNode() {
    String address = "test.cluster.echo";
    nodes.get(1).context().vertx().eventBus().<String>consumer(address, m -> m.reply("pong from n2"));
    String reply = null;
    long deadline = System.currentTimeMillis() + 10_000;
    // the consumer registration propagates through Hazelcast: retry until it is visible (bounded)
    while (reply == null && System.currentTimeMillis() < deadline) {
      try {
        reply = TestNode.await(nodes.get(0).context().vertx().eventBus().<String>request(address, "ping")
            .map(m -> m.body()).recover(e -> io.vertx.core.Future.succeededFuture(null)));
      } catch (AssertionError e) {
        reply = null;
      }
    }
    assertTrue("pong from n2".equals(reply), "reply: " + reply);
  }
}
