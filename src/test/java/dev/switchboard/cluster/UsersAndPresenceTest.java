package dev.switchboard.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.json.JsonArray;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Users, devices, presence and the HTTP API across three real nodes. */
@Cluster(nodes = 3)
class UsersAndPresenceTest {
  static Nodes nodes;
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  static final ObjectMapper JSON = new ObjectMapper();

  static WsClient connect(int node, String user, String device) {
    return nodes.open(node, "/ws?token=" + Tokens.user(user, "chat:*")
        + (device == null ? "" : "&device_id=" + device), Map.of(), null).ok();
  }

  /** Polls until the supplier is true (bounded). */
  static void eventually(String what, Supplier<Boolean> check) {
    long deadline = System.currentTimeMillis() + 10_000;
    while (!check.get()) {
      if (System.currentTimeMillis() > deadline) {
        throw new AssertionError("not within 10 s: " + what);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  static String serviceToken() {
    return Tokens.hs256(Tokens.claims("svc", 600).put("roles", new JsonArray().add("service")));
  }

  static HttpResponse<String> http(int node, String method, String path, String body, String token) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + nodes.port(node) + path))
        .timeout(Duration.ofSeconds(10)).method(method,
            body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    try {
      return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static JsonNode json(String s) {
    try {
      return JSON.readTree(s);
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + s, e);
    }
  }

  @Test
  void aNewConnectionOfTheSameDeviceOnAnotherNodeClosesTheOldOneWith4009() {
    WsClient old = connect(0, "dora", "phone");
    WsClient fresh = connect(2, "dora", "phone");
    try {
      assertEquals(4009, old.awaitClose(Duration.ofSeconds(10)));
      assertEquals("result", fresh.call("system.ping", null).get("type").asText());
      eventually("one device listed", () -> fresh.call("user.devices", null).at("/result/devices").size() == 1);
      JsonNode d = fresh.call("user.devices", null).at("/result/devices/0");
      assertEquals("phone", d.get("device_id").asText());
      assertEquals(nodes.node(2).nodeId(), d.get("node_id").asText());
    } finally {
      old.close();
      fresh.close();
    }
  }

  @Test
  void twoConnectionsOfOneDeviceOpeningAtOnceOnTwoNodesLeaveExactlyOneOpen() throws Exception {
    // The later registration closes the earlier connection even when that one is still between its
    // registration and its 101 (the close used to find nothing to close, and both stayed open).
    int pairs = 30;
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(16);
    List<java.util.concurrent.Future<WsClient>> opened = new java.util.ArrayList<>();
    try {
      for (int i = 0; i < pairs; i++) {
        String user = "twin-" + i;
        opened.add(pool.submit(() -> connect(0, user, "phone")));
        opened.add(pool.submit(() -> connect(1, user, "phone")));
      }
      List<WsClient> clients = new java.util.ArrayList<>();
      for (java.util.concurrent.Future<WsClient> f : opened) {
        clients.add(f.get(30, java.util.concurrent.TimeUnit.SECONDS));
      }
      try {
        for (int i = 0; i < pairs; i++) {
          WsClient a = clients.get(2 * i);
          WsClient b = clients.get(2 * i + 1);
          eventually("one of pair " + i + " closed", () -> a.isClosed() || b.isClosed());
          WsClient survivor = a.isClosed() ? b : a;
          assertEquals(4009, (a.isClosed() ? a : b).awaitClose(Duration.ofSeconds(1)), "pair " + i);
          assertEquals("result", survivor.call("system.ping", null).get("type").asText(), "pair " + i);
          assertTrue(!survivor.isClosed(), "pair " + i + ": exactly one closed");
        }
      } finally {
        clients.forEach(WsClient::close);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void userSendReachesTheOtherDevicesOnOtherNodes() {
    try (WsClient a = connect(0, "erin", "laptop"); WsClient b = connect(1, "erin", "phone");
         WsClient c = connect(2, "erin", "tablet")) {
      eventually("three devices", () -> a.call("user.devices", null).at("/result/devices").size() == 3);
      JsonNode r = a.call("user.send", WsClient.params().put("data", "hello"));
      assertEquals(2, r.at("/result/delivered").asInt(), r.toString());
      for (WsClient x : List.of(b, c)) {
        JsonNode f = x.await(f2 -> "direct".equals(f2.path("type").asText()), WsClient.WAIT);
        assertEquals("hello", f.get("data").asText());
        assertEquals("erin", f.get("from_user").asText());
        assertEquals("laptop", f.get("from_device").asText());
      }
      JsonNode one = a.call("user.send", WsClient.params().put("data", 1).put("device_id", "tablet"));
      assertEquals(1, one.at("/result/delivered").asInt());
      assertEquals(1, c.await(f2 -> "direct".equals(f2.path("type").asText()), WsClient.WAIT).get("data").asInt());
      JsonNode none = a.call("user.send", WsClient.params().put("data", 1).put("device_id", "watch"));
      assertEquals("NOT_FOUND", none.at("/error/code").asText());
      JsonNode all = a.call("user.send", WsClient.params().put("data", 2).put("include_self", true));
      assertEquals(3, all.at("/result/delivered").asInt());
    }
  }

  @Test
  void presenceIsClusterWideWithJoinAndLeaveFrames() {
    String topic = "chat:presence-" + System.nanoTime();
    try (WsClient a = connect(0, "fay", "d1"); WsClient b = connect(1, "gus", "d2")) {
      assertEquals("result", a.call("topic.subscribe", WsClient.params().put("topic", topic)).get("type").asText());
      b.call("topic.subscribe", WsClient.params().put("topic", topic));
      JsonNode join = a.await(f -> "presence".equals(f.path("type").asText()) && "gus".equals(f.path("user_id").asText()),
          WsClient.WAIT);
      assertEquals("join", join.get("action").asText());
      assertEquals("d2", join.get("device_id").asText());
      JsonNode p = a.call("topic.presence", WsClient.params().put("topic", topic)).get("result");
      assertEquals(2, p.get("count").asInt(), p.toString());
      b.call("topic.unsubscribe", WsClient.params().put("topic", topic));
      JsonNode leave = a.await(f -> "presence".equals(f.path("type").asText()) && "leave".equals(f.path("action").asText()),
          WsClient.WAIT);
      assertEquals("gus", leave.get("user_id").asText());
      eventually("one member left", () -> a.call("topic.presence", WsClient.params().put("topic", topic))
          .at("/result/count").asInt() == 1);
    }
  }

  @Test
  void httpApiPublishesSendsAndReadsWithTheServiceRoleOnly() {
    String topic = "chat:http-" + System.nanoTime();
    try (WsClient sub = connect(1, "hal", "d")) {
      sub.call("topic.subscribe", WsClient.params().put("topic", topic));
      HttpResponse<String> pub = http(0, "POST", "/api/v1/publish",
          "{\"topic\":\"" + topic + "\",\"data\":{\"x\":1}}", serviceToken());
      assertEquals(200, pub.statusCode(), pub.body());
      assertEquals(1, json(pub.body()).get("offset").asLong());
      JsonNode ev = sub.await(f -> "event".equals(f.path("type").asText()), WsClient.WAIT);
      assertEquals(1, ev.at("/data/x").asInt());

      HttpResponse<String> send = http(2, "POST", "/api/v1/users/hal/send", "{\"data\":\"hi\"}", serviceToken());
      assertEquals(200, send.statusCode(), send.body());
      assertEquals(1, json(send.body()).get("delivered").asInt());
      assertEquals("hi", sub.await(f -> "direct".equals(f.path("type").asText()), WsClient.WAIT).get("data").asText());

      HttpResponse<String> hist = http(2, "GET", "/api/v1/topics/" + topic + "/history?limit=10", null, serviceToken());
      assertEquals(200, hist.statusCode(), hist.body());
      assertEquals(1, json(hist.body()).get("events").size());

      HttpResponse<String> pres = http(0, "GET", "/api/v1/topics/" + topic + "/presence", null, serviceToken());
      assertEquals(200, pres.statusCode(), pres.body());
      assertEquals(1, json(pres.body()).get("count").asInt());

      HttpResponse<String> cluster = http(0, "GET", "/api/v1/cluster", null, serviceToken());
      assertEquals(200, cluster.statusCode());
      assertEquals(3, json(cluster.body()).get("nodes").size(), cluster.body());
    }
    assertEquals(401, http(0, "POST", "/api/v1/publish", "{}", null).statusCode());
    HttpResponse<String> noRole = http(0, "POST", "/api/v1/publish", "{\"topic\":\"chat:x\",\"data\":1}",
        Tokens.user("ivy", "chat:*"));
    assertEquals(403, noRole.statusCode());
    assertEquals("FORBIDDEN", json(noRole.body()).get("code").asText());
    HttpResponse<String> bad = http(0, "POST", "/api/v1/publish", "{\"topic\":\"bad topic\",\"data\":1}", serviceToken());
    assertEquals(400, bad.statusCode());
    assertEquals("INVALID_PARAMS", json(bad.body()).get("code").asText());
    // presence of a namespace that has none: refused as topic.presence refuses it, not an empty list
    HttpResponse<String> noPresence = http(0, "GET", "/api/v1/topics/room:quiet/presence", null, serviceToken());
    assertEquals(400, noPresence.statusCode(), noPresence.body());
    assertEquals("INVALID_PARAMS", json(noPresence.body()).get("code").asText());
  }
}
