package dev.switchboard.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.Node;
import dev.switchboard.config.SwitchboardConfig.ClusterOptions;
import dev.switchboard.sdk.SwitchboardService;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A JVM service that joins the cluster (not a gateway node) publishes and sends over the event bus. */
class EventBusServiceTest {
  static List<Node> nodes;
  static Vertx service;
  static Vertx clients;

  @BeforeAll
  static void up() {
    nodes = TestNode.cluster(2, Map.of());
    int port = TestNode.freePort();
    String members = nodes.stream().map(n -> "127.0.0.1:" + n.context().config().cluster().port())
        .reduce((a, b) -> a + "," + b).orElseThrow() + ",127.0.0.1:" + port;
    var hz = Node.hazelcastConfig(new ClusterOptions("cluster.xml", TestNode.CLUSTER, "127.0.0.1", port,
        List.of(members.split(",")), "127.0.0.1", 0, 30_000));
    service = TestNode.await(Vertx.builder().withClusterManager(new HazelcastClusterManager(hz)).buildClustered());
    clients = Vertx.vertx();
  }

  @AfterAll
  static void down() {
    TestNode.await(service.close());
    TestNode.stop(nodes.toArray(new Node[0]));
    clients.close();
  }

  @Test
  void aServicePublishesToATopicAndAddressesAUser() {
    String topic = "chat:svc-" + System.nanoTime();
    SwitchboardService sb = new SwitchboardService(service, "billing", 10_000);
    try (WsClient sub = WsClient.open(clients, nodes.get(1).port(), "/ws?token=" + Tokens.user("nia", "chat:*")
        + "&device_id=web", Map.of(), null).ok()) {
      sub.call("topic.subscribe", WsClient.params().put("topic", topic));
      JsonObject pos = TestNode.await(sb.publish(topic, new JsonObject().put("amount", 5)));
      assertEquals(1L, pos.getLong("offset"));
      JsonNode ev = sub.await(f -> "event".equals(f.path("type").asText()), WsClient.WAIT);
      assertEquals(5, ev.at("/data/amount").asInt());
      assertEquals("billing", ev.get("from").asText());

      JsonObject sent = TestNode.await(sb.sendToUser("nia", null, "invoice ready"));
      assertEquals(1, sent.getInteger("delivered"));
      JsonNode direct = sub.await(f -> "direct".equals(f.path("type").asText()), WsClient.WAIT);
      assertEquals("invoice ready", direct.get("data").asText());
      assertEquals("billing", direct.get("from_user").asText());
    }
  }

  @Test
  void badInputFailsWithAStableCode() {
    SwitchboardService sb = new SwitchboardService(service);
    Throwable err = assertThrows(AssertionError.class, () -> TestNode.await(sb.publish("bad topic!", 1))).getCause();
    assertInstanceOf(ReplyException.class, err);
    assertEquals(400, ((ReplyException) err).failureCode());
    assertEquals("INVALID_PARAMS", err.getMessage());
  }
}
