package dev.switchboard.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.HazelcastSetup;
import dev.switchboard.Node;
import dev.switchboard.config.SwitchboardConfig.ClusterOptions;
import dev.switchboard.sdk.SwitchboardService;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import dev.switchboard.protocol.Json;
import dev.switchboard.testsupport.Http;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A JVM service that joins the cluster (not a gateway node) publishes and sends over the event bus. */
@Cluster(nodes = 2)
class EventBusServiceTest {
  static Nodes nodes;
  static Vertx service;

  static HazelcastClusterManager serviceCluster;

  @BeforeAll
  static void up() {
    int port = TestNode.freePort();
    String members = nodes.members() + ",127.0.0.1:" + port;
    var hz = HazelcastSetup.serviceConfig(new ClusterOptions("cluster.xml", TestNode.CLUSTER, "127.0.0.1", port,
        List.of(members.split(",")), "127.0.0.1", 0, 30_000));
    serviceCluster = new HazelcastClusterManager(hz);
    service = TestNode.await(Vertx.builder().withClusterManager(serviceCluster).buildClustered());
  }

  @AfterAll
  static void down() {
    TestNode.await(service.close());
  }

  @Test
  void aServiceJoinsAsALiteMemberThatTheQuorumDoesNotCount() {
    assertTrue(serviceCluster.getHazelcastInstance().getCluster().getLocalMember().isLiteMember());
    for (Node n : nodes.all()) {
      assertEquals(2, Quorum.of(n.context().cluster().getHazelcastInstance()).expected(), "data members expected");
    }
  }

  @Test
  void aServicePublishesToATopicAndAddressesAUser() {
    String topic = "chat:svc-" + System.nanoTime();
    SwitchboardService sb = new SwitchboardService(service, "billing", 10_000);
    try (WsClient sub = nodes.open(1, "/ws?token=" + Tokens.user("nia", "chat:*")
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

  /** A request straight on the bus (as a service without the helper would send it) that must be refused. */
  static ReplyException refused(String address, Object body) {
    String what = address + " " + String.valueOf(body).substring(0, Math.min(100, String.valueOf(body).length()));
    Throwable err = assertThrows(AssertionError.class, () -> TestNode.await(service.eventBus()
        .request(address, body, new DeliveryOptions().setSendTimeout(5_000))), what).getCause();
    return assertInstanceOf(ReplyException.class, err, what);
  }

  static void assertInvalid(String address, Object body) {
    ReplyException e = refused(address, body);
    assertEquals(400, e.failureCode(), address + " " + body + " -> " + e);
    assertEquals("INVALID_PARAMS", e.getMessage());
  }

  @Test
  void malformedRequestsAreRefusedWith400InsteadOfLeftUnanswered() {
    assertInvalid(Addresses.API_PUBLISH, "not an object");
    assertInvalid(Addresses.API_SEND, new JsonArray().add(1));
    assertInvalid(Addresses.API_PRESENCE, 42);
    assertInvalid(Addresses.API_PUBLISH, new JsonObject().put("topic", "chat:a").putNull("data"));
    assertInvalid(Addresses.API_PUBLISH, new JsonObject().put("topic", "chat:a"));
    assertInvalid(Addresses.API_PUBLISH, new JsonObject().put("topic", 42).put("data", 1));
    assertInvalid(Addresses.API_PRESENCE, new JsonObject().put("topic", 42));
    assertInvalid(Addresses.API_PUBLISH, new JsonObject().put("topic", "chat:a").put("data", 1).put("from", ""));
    assertInvalid(Addresses.API_PUBLISH, new JsonObject().put("topic", "chat:a").put("data", 1).put("from", "f".repeat(257)));
    assertInvalid(Addresses.API_PUBLISH, new JsonObject().put("topic", "chat:a").put("data", 1).put("from", 7));
    assertInvalid(Addresses.API_SEND, new JsonObject().put("user", "nia").putNull("data"));
    assertInvalid(Addresses.API_SEND, new JsonObject().put("user", 42).put("data", 1));
    assertInvalid(Addresses.API_SEND, new JsonObject().put("user", "").put("data", 1));
    assertInvalid(Addresses.API_SEND, new JsonObject().put("user", "u".repeat(257)).put("data", 1));
    assertInvalid(Addresses.API_SEND, new JsonObject().put("user", "nia").put("data", 1).put("device_id", "bad id!"));
    assertInvalid(Addresses.API_SEND, new JsonObject().put("user", "nia").put("data", 1).put("device_id", 7));
    // a misspelt device_id must not widen the send to every device
    assertInvalid(Addresses.API_SEND, new JsonObject().put("user", "nia").put("data", 1).put("device", "phone"));
  }

  @Test
  void dataOverMaxMessageBytesIsRefusedWith413() {
    int max = nodes.node(0).context().config().limits().maxMessageBytes();
    ReplyException e = refused(Addresses.API_PUBLISH, new JsonObject().put("topic", "chat:big-" + System.nanoTime())
        .put("data", "x".repeat(max + 1)));
    assertEquals(413, e.failureCode());
    assertEquals("MESSAGE_TOO_LARGE", e.getMessage());
    e = refused(Addresses.API_SEND, new JsonObject().put("user", "nia").put("data", new JsonArray().add("y".repeat(max))));
    assertEquals(413, e.failureCode());
  }

  @Test
  void nestedDataSentOnAGatewaysOwnVertxKeepsItsShape() {
    String topic = "chat:nested-" + System.nanoTime();
    // requests go round-robin over both gateways: from node 1's own Vert.x some are delivered
    // locally, where the body is a copy holding JsonObject/JsonArray values, not maps and lists
    SwitchboardService sb = new SwitchboardService(nodes.node(0).context().vertx(), "billing", 10_000);
    JsonObject data = new JsonObject().put("order", new JsonObject().put("id", 7).put("tags", new JsonArray().add("a")))
        .put("lines", new JsonArray().add(new JsonObject().put("sku", "k1")).add(new JsonArray().add(1)));
    for (int i = 0; i < 4; i++) {
      TestNode.await(sb.publish(topic, data));
    }
    String token = Tokens.hs256(Tokens.claims("svc", 600).put("roles", new JsonArray().add("service")));
    HttpResponse<String> h = Http.get(nodes.node(1).port(), "/api/v1/topics/" + topic + "/history?limit=10",
        "Authorization", "Bearer " + token);
    assertEquals(200, h.statusCode(), h.body());
    JsonNode events = tree(h.body()).get("events");
    assertEquals(4, events.size(), h.body());
    for (JsonNode ev : events) {
      assertEquals(tree(data.encode()), ev.get("data"), h.body());
    }
  }

  @Test
  void aServiceCancelsARunningOperationOverTheBus() {
    try (WsClient c = nodes.client(0, "olga")) {
      int id = c.request("demo.count", WsClient.params().put("to", 1000).put("interval_ms", 50));
      String opId = c.await(x -> x.path("id").asInt(-1) == id, WsClient.WAIT).get("op_id").asText();
      c.await(x -> x.path("id").asInt(-1) == id && "stream".equals(x.path("type").asText()), WsClient.WAIT);
      SwitchboardService sb = new SwitchboardService(service); // a cluster member that is not a gateway
      JsonObject r = TestNode.await(sb.cancel(opId));
      assertEquals(opId, r.getString("op_id"));
      assertTrue(List.of("running", "cancelled").contains(r.getString("state")), r.encode());
      JsonNode terminal = c.await(x -> x.path("id").asInt(-1) == id && WsClient.isTerminal(x), WsClient.WAIT);
      assertEquals("CANCELLED", terminal.at("/error/code").asText(), terminal.toString());
    }
    SwitchboardService sb = new SwitchboardService(service);
    Throwable unknown = assertThrows(AssertionError.class, () -> TestNode.await(sb.cancel("op_nope"))).getCause();
    assertEquals(404, assertInstanceOf(ReplyException.class, unknown).failureCode());
    assertEquals("UNKNOWN_OPERATION", unknown.getMessage());
    assertInvalid(Addresses.API_CANCEL, new JsonObject().put("op_id", 42));
    assertInvalid(Addresses.API_CANCEL, new JsonObject());
    assertInvalid(Addresses.API_CANCEL, new JsonObject().put("op_id", "o".repeat(65)));
  }

  static JsonNode tree(String json) {
    try {
      return Json.MAPPER.readTree(json);
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + json, e);
    }
  }
}
