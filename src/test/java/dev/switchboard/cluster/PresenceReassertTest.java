package dev.switchboard.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.Node;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A presence record the cluster lost (as when a frozen member's records are cleaned up under its old
 * member id while its subscribers stay) is written back by the node holding the subscription after the
 * next membership change, with a join frame for the members who saw it leave; a record that is there
 * is left alone.
 */
@Cluster(nodes = 2, started = 1)
class PresenceReassertTest {
  static Nodes nodes;

  @Test
  void aLostPresenceRecordOfALiveSubscriptionIsWrittenBackWithAJoinAfterAMembershipChange() {
    Node a = nodes.node(0);
    Vertx vertx = nodes.vertx();
    String topic = "chat:reassert-" + System.nanoTime();
    try (WsClient ann = client(vertx, a, "ann", "phone"); WsClient bob = client(vertx, a, "bob", "laptop")) {
      ann.call("topic.subscribe", WsClient.params().put("topic", topic));
      bob.call("topic.subscribe", WsClient.params().put("topic", topic));
      ann.await(f -> isPresence(f, "join", "bob"), WsClient.WAIT);
      Directory directory = a.context().directory();
      assertEquals(Map.of("ann", List.of("phone"), "bob", List.of("laptop")), TestNode.await(directory.members(topic)));
      var map = a.context().cluster().getHazelcastInstance().getMap(Addresses.PRESENCE);
      String bobsKey = map.keySet().stream().map(String::valueOf)
          .filter(k -> k.startsWith(topic + Addresses.US) && map.get(k).toString().contains("\"bob\""))
          .findFirst().orElseThrow();
      map.remove(bobsKey); // what the clean-up of a departed member id removed
      assertEquals(Map.of("ann", List.of("phone")), TestNode.await(directory.members(topic)));
      // a member joins: the membership change
      nodes.startNext();
      JsonNode join = ann.await(f -> isPresence(f, "join", "bob"), Duration.ofSeconds(20));
      assertEquals("laptop", join.path("device_id").asText());
      assertEquals(Map.of("ann", List.of("phone"), "bob", List.of("laptop")), TestNode.await(directory.members(topic)));
      // a record that is there is kept: nothing added, so no join is repeated
      String annConn = ann.connected().path("connection_id").asText();
      assertTrue(!annConn.isEmpty(), "the connected frame names the connection");
      assertEquals(List.of(), TestNode.await(directory.reassertPresence(vertx.getOrCreateContext(),
          List.of(new Directory.Present(topic, "ann", "phone", annConn)), p -> true)));
    }
  }

  private static WsClient client(Vertx vertx, Node n, String user, String device) {
    return WsClient.open(vertx, n.port(), "/ws?token=" + Tokens.user(user, "chat:*") + "&device_id=" + device,
        Map.of(), null).ok();
  }

  private static boolean isPresence(JsonNode f, String action, String user) {
    return "presence".equals(f.path("type").asText()) && action.equals(f.path("action").asText())
        && user.equals(f.path("user_id").asText());
  }
}
