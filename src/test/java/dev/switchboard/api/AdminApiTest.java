package dev.switchboard.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.Node;
import dev.switchboard.cluster.Addresses;
import dev.switchboard.protocol.Json;
import dev.switchboard.testsupport.Http;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The admin API (docs/admin.md) on a real two-node cluster: role checks, every read and action over
 * HTTP with its bad input and unknown ids, the event-bus door, a node that does not answer, and
 * (last, it ends that node) the drain.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AdminApiTest {
  static List<Node> nodes;
  static Vertx vertx;
  static final String ADMIN = Tokens.hs256(Tokens.claims("root", 600).put("roles", new JsonArray().add("admin")));
  static final String SERVICE = Tokens.hs256(Tokens.claims("svc", 600).put("roles", new JsonArray().add("service")));

  @BeforeAll
  static void up() {
    nodes = TestNode.cluster(2, Map.of("SB_ADMIN_GATHER_TIMEOUT_MS", "700", "SB_DRAIN_MS", "200"));
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void down() {
    TestNode.stop(nodes.toArray(new Node[0]));
    vertx.close();
  }

  static int port(int i) {
    return nodes.get(i).port();
  }

  static HttpResponse<String> get(String path) {
    return Http.get(port(0), path, "Authorization", "Bearer " + ADMIN);
  }

  static HttpResponse<String> post(String path, String body) {
    return Http.post(port(0), path, body, "Authorization", "Bearer " + ADMIN, "content-type", "application/json");
  }

  static JsonNode ok(HttpResponse<String> r) {
    assertEquals(200, r.statusCode(), r.body());
    return json(r.body());
  }

  static JsonNode json(String s) {
    try {
      return Json.MAPPER.readTree(s);
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + s, e);
    }
  }

  /** 400 INVALID_PARAMS naming {@code field}. */
  static void invalid(HttpResponse<String> r, String field) {
    assertEquals(400, r.statusCode(), r.body());
    JsonNode b = json(r.body());
    assertEquals("INVALID_PARAMS", b.get("code").asText(), r.body());
    assertEquals(field, b.path("field").asText(), r.body());
    assertTrue(b.get("message").asText().contains(field), r.body());
  }

  static void notFound(HttpResponse<String> r, String code) {
    assertEquals(404, r.statusCode(), r.body());
    assertEquals(code, json(r.body()).get("code").asText(), r.body());
  }

  static WsClient client(int node, String user, String device) {
    return WsClient.open(vertx, port(node), "/ws?token=" + Tokens.user(user, "chat:*") + "&device_id=" + device,
        Map.of(), null).ok();
  }

  @Test
  @Order(1)
  void onlyAdminsPassServicesAndUsersGet403() {
    String user = Tokens.user("plain", "*");
    for (String path : List.of("/api/v1/admin/cluster", "/api/v1/admin/topics", "/api/v1/admin/ops")) {
      assertEquals(401, Http.get(port(0), path).statusCode());
      for (String token : List.of(user, SERVICE)) {
        HttpResponse<String> r = Http.get(port(0), path, "Authorization", "Bearer " + token);
        assertEquals(403, r.statusCode(), r.body());
        assertEquals("FORBIDDEN", json(r.body()).get("code").asText());
      }
    }
    HttpResponse<String> r = Http.post(port(0), "/api/v1/admin/nodes/n2/drain", "", "Authorization", "Bearer " + SERVICE);
    assertEquals(403, r.statusCode(), r.body());
    assertTrue(nodes.stream().noneMatch(n -> n.context().draining()));
    // the service API itself still takes the service token, and admin passes it too
    assertEquals(200, Http.get(port(0), "/api/v1/cluster", "Authorization", "Bearer " + SERVICE).statusCode());
    assertEquals(200, Http.get(port(0), "/api/v1/cluster", "Authorization", "Bearer " + ADMIN).statusCode());
  }

  @Test
  @Order(2)
  void theOverviewHasEveryNodesFigures() {
    try (WsClient a = client(0, "ov-a", "d1"); WsClient b = client(1, "ov-b", "d1")) {
      a.call("topic.subscribe", WsClient.params().put("topic", "chat:ov"));
      JsonNode r = ok(get("/api/v1/admin/cluster"));
      assertEquals(2, r.get("nodes").size(), r.toString());
      assertEquals(0, r.get("not_answering").size());
      for (JsonNode n : r.get("nodes")) {
        assertTrue(n.get("answering").asBoolean());
        assertTrue(n.get("connections").asInt() >= 1, n.toString());
        for (String f : List.of("subscriptions", "topics_open", "operations_running", "event_loop_delay_ms",
            "heap_used_bytes", "heap_max_bytes", "uptime_ms", "draining")) {
          assertTrue(n.has(f), f + " in " + n);
        }
        assertTrue(n.get("heap_used_bytes").asLong() > 0 && n.get("uptime_ms").asLong() > 0, n.toString());
        assertFalse(n.get("draining").asBoolean());
      }
      JsonNode n1 = r.get("nodes").get(0);
      assertEquals("n1", n1.get("node_id").asText());
      assertEquals(1, n1.get("subscriptions").asInt(), n1.toString());
      assertEquals(1, n1.get("topics_open").asInt(), n1.toString());
      assertTrue(r.get("connections").asInt() >= 2);
    }
  }

  @Test
  @Order(3)
  void topicsArePagedFilteredAndSummedOverNodes() {
    String p = "chat:tp" + System.nanoTime() % 100000 + "-";
    try (WsClient a = client(0, "tp-a", "d1"); WsClient b = client(1, "tp-b", "d1")) {
      for (int i = 0; i < 5; i++) {
        a.call("topic.subscribe", WsClient.params().put("topic", p + i));
      }
      b.call("topic.subscribe", WsClient.params().put("topic", p + 0));
      b.call("topic.subscribe", WsClient.params().put("topic", p + 3));
      for (int k = 0; k < 3; k++) {
        b.call("topic.publish", WsClient.params().put("topic", p + 3).put("data", k));
      }
      a.await(f -> "event".equals(f.path("type").asText()) && f.path("offset").asLong() == 3, WsClient.WAIT);
      JsonNode page1 = ok(get("/api/v1/admin/topics?limit=2&name=" + p));
      assertEquals(2, page1.get("topics").size(), page1.toString());
      assertEquals(p + 0, page1.at("/topics/0/topic").asText());
      assertEquals(2, page1.at("/topics/0/subscribers").asInt(), "one subscriber on each node");
      assertEquals(p + 1, page1.get("next_cursor").asText());
      JsonNode page2 = ok(get("/api/v1/admin/topics?limit=2&name=" + p + "&cursor=" + p + 1));
      assertEquals(p + 2, page2.at("/topics/0/topic").asText());
      JsonNode t3 = page2.at("/topics/1");
      assertEquals(p + 3, t3.get("topic").asText());
      assertEquals(2, t3.get("subscribers").asInt());
      assertEquals(3, t3.get("offset").asLong());
      assertFalse(t3.get("epoch").asText().isEmpty());
      assertTrue(t3.has("publications_per_s"));
      JsonNode page3 = ok(get("/api/v1/admin/topics?limit=2&name=" + p + "&cursor=" + page2.get("next_cursor").asText()));
      assertEquals(1, page3.get("topics").size());
      assertTrue(page3.get("next_cursor").isNull());
      invalid(get("/api/v1/admin/topics?limit=0"), "limit");
      invalid(get("/api/v1/admin/topics?limit=501"), "limit");
      invalid(get("/api/v1/admin/topics?limit=ten"), "limit");
      invalid(get("/api/v1/admin/topics?cursor=bad%20name"), "cursor");
      invalid(get("/api/v1/admin/topics?colour=red"), "colour");

      JsonNode subs = ok(get("/api/v1/admin/topics/" + p + 0 + "/subscribers"));
      Set<String> where = new HashSet<>();
      subs.get("subscribers").forEach(s -> where.add(s.get("user").asText() + "@" + s.get("node").asText()));
      assertEquals(Set.of("tp-a@n1", "tp-b@n2"), where);
      notFound(get("/api/v1/admin/topics/chat:nobody-here/subscribers"), "NOT_FOUND");
      invalid(get("/api/v1/admin/topics/bad%20topic/subscribers"), "topic");
    }
  }

  @Test
  @Order(4)
  void aUsersConnectionsOnEveryNode() {
    try (WsClient a = client(0, "uc", "phone"); WsClient b = client(1, "uc", "laptop")) {
      JsonNode r = ok(get("/api/v1/admin/users/uc/connections"));
      assertEquals(2, r.get("connections").size(), r.toString());
      Set<String> seen = new HashSet<>();
      for (JsonNode c : r.get("connections")) {
        seen.add(c.get("device").asText() + "@" + c.get("node").asText());
        assertTrue(c.get("connected_at").asLong() > 0 && c.get("queue_bytes").asLong() >= 0, c.toString());
        String session = c.get("device").asText().equals("phone") ? a.connected().get("session_id").asText()
            : b.connected().get("session_id").asText();
        assertEquals(session, c.get("session").asText());
      }
      assertEquals(Set.of("phone@n1", "laptop@n2"), seen);
      notFound(get("/api/v1/admin/users/nobody-at-all/connections"), "NOT_FOUND");
    }
  }

  @Test
  @Order(5)
  void operationsAreListedWithLiveFiguresAndCancelled() {
    try (WsClient a = client(1, "opper", "d1")) {
      int id = a.request("demo.count", WsClient.params().put("to", 1000).put("interval_ms", 50));
      String opId = a.await(f -> f.path("id").asInt(-1) == id, WsClient.WAIT).get("op_id").asText();
      JsonNode row = null;
      long deadline = System.currentTimeMillis() + 10_000;
      while (System.currentTimeMillis() < deadline) { // the registry write lands shortly after the first frame
        JsonNode r = ok(get("/api/v1/admin/ops?state=running&user=opper"));
        if (r.get("ops").size() == 1 && r.at("/ops/0/attached").isInt()) {
          row = r.at("/ops/0");
          break;
        }
      }
      assertTrue(row != null, "the operation is listed");
      assertEquals(opId, row.get("op_id").asText());
      assertEquals("demo.count", row.get("method").asText());
      assertEquals(1, row.get("attached").asInt());
      assertTrue(row.get("age_ms").asLong() >= 0 && row.get("seq").asLong() >= 1, row.toString());
      assertTrue(row.get("node").isTextual());
      assertEquals(1000, row.at("/progress/total").asLong(), row.toString());
      assertEquals(0, ok(get("/api/v1/admin/ops?state=running&user=someone-else")).get("ops").size());
      invalid(get("/api/v1/admin/ops?state=sleeping"), "state");
      invalid(get("/api/v1/admin/ops?limit=9999"), "limit");

      JsonNode cancel = ok(post("/api/v1/admin/ops/" + opId + "/cancel", ""));
      assertEquals(opId, cancel.get("op_id").asText());
      JsonNode terminal = a.await(f -> f.path("id").asInt(-1) == id && WsClient.isTerminal(f), WsClient.WAIT);
      assertEquals("CANCELLED", terminal.at("/error/code").asText());
      notFound(post("/api/v1/admin/ops/op_no_such_thing/cancel", ""), "UNKNOWN_OPERATION");
    }
  }

  @Test
  @Order(6)
  void disconnectsCloseWithTheChosenCodeAndReason() {
    try (WsClient one = client(1, "dc", "d1"); WsClient two = client(0, "dc", "d2"); WsClient other = client(1, "dc2", "d1")) {
      String conn = one.connected().get("connection_id").asText();
      invalid(post("/api/v1/admin/connections/" + conn + "/disconnect", "{\"code\":1000}"), "code");
      invalid(post("/api/v1/admin/connections/" + conn + "/disconnect", "{\"code\":4000,\"reason\":\""
          + "é".repeat(62) + "\"}"), "reason");
      invalid(post("/api/v1/admin/connections/" + conn + "/disconnect", "{\"kode\":4000}"), "kode");
      invalid(post("/api/v1/admin/connections/" + conn + "/disconnect", "[]"), "body");
      assertFalse(one.isClosed(), "refused input closed nothing");

      JsonNode r;
      try (ActionLog log = ActionLog.install()) {
        r = ok(post("/api/v1/admin/connections/" + conn + "/disconnect", "{\"code\":4321,\"reason\":\"maintenance\"}"));
        Map<String, String> e = log.await("disconnect");
        assertEquals("root", e.get("admin"), "the admin's sub is in the event: " + e);
        assertEquals(conn, e.get("conn"));
        assertEquals("4321", e.get("code"));
      }
      assertEquals(1, r.get("disconnected").asInt());
      assertEquals(4321, one.awaitClose(WsClient.WAIT));
      assertEquals("maintenance", one.socket().closeReason());
      assertFalse(two.isClosed());
      notFound(post("/api/v1/admin/connections/" + conn + "/disconnect", ""), "NOT_FOUND");

      try (WsClient three = client(1, "dc", "d3")) {
        r = ok(post("/api/v1/admin/users/dc/disconnect", ""));
        assertEquals(2, r.get("disconnected").asInt());
        assertEquals(4010, two.awaitClose(WsClient.WAIT), "the default code");
        assertEquals(4010, three.awaitClose(WsClient.WAIT));
      }
      assertFalse(other.isClosed(), "another user's connection stays");
      notFound(post("/api/v1/admin/users/nobody-at-all/disconnect", ""), "NOT_FOUND");
    }
  }

  /** The admin actions' log events (logger AdminActions) with their key-values, while installed. */
  static final class ActionLog extends ch.qos.logback.core.AppenderBase<ch.qos.logback.classic.spi.ILoggingEvent>
      implements AutoCloseable {
    private final java.util.concurrent.LinkedBlockingQueue<Map<String, String>> events =
        new java.util.concurrent.LinkedBlockingQueue<>();

    static ActionLog install() {
      ActionLog a = new ActionLog();
      var ctx = (ch.qos.logback.classic.LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
      a.setContext(ctx);
      a.start();
      ctx.getLogger(AdminActions.class).addAppender(a);
      return a;
    }

    @Override
    protected void append(ch.qos.logback.classic.spi.ILoggingEvent e) {
      Map<String, String> kv = new java.util.HashMap<>();
      if (e.getKeyValuePairs() != null) {
        e.getKeyValuePairs().forEach(p -> kv.put(p.key, String.valueOf(p.value)));
      }
      events.add(kv);
    }

    Map<String, String> await(String action) {
      long deadline = System.currentTimeMillis() + 5_000;
      while (System.currentTimeMillis() < deadline) {
        try {
          Map<String, String> e = events.poll(100, TimeUnit.MILLISECONDS);
          if (e != null && action.equals(e.get("action"))) {
            return e;
          }
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      throw new AssertionError("no " + action + " event logged");
    }

    @Override
    public void close() {
      ((ch.qos.logback.classic.LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory()).getLogger(AdminActions.class)
          .detachAppender(this);
      stop();
    }
  }

  @Test
  @Order(7)
  void theEventBusDoorAnswersLikeHttp() throws Exception {
    var bus = nodes.get(1).context().vertx().eventBus();
    JsonObject r = bus.<JsonObject>request(Addresses.API_ADMIN, new JsonObject().put("action", "cluster").put("by", "ops-bot"))
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).body();
    assertEquals(2, r.getJsonArray("nodes").size(), r.encode());
    Throwable bad = bus.request(Addresses.API_ADMIN, new JsonObject().put("action", "topics")
            .put("params", new JsonObject().put("limit", 0)))
        .toCompletionStage().toCompletableFuture().handle((m, e) -> e).get(10, TimeUnit.SECONDS);
    assertTrue(bad.getCause() instanceof ReplyException || bad instanceof ReplyException, String.valueOf(bad));
    ReplyException re = (ReplyException) (bad instanceof ReplyException ? bad : bad.getCause());
    assertEquals(400, re.failureCode());
    assertEquals("INVALID_PARAMS:limit", re.getMessage());
    Throwable unknown = bus.request(Addresses.API_ADMIN, new JsonObject().put("action", "cancel_op")
            .put("params", new JsonObject().put("op_id", "op_missing")))
        .toCompletionStage().toCompletableFuture().handle((m, e) -> e).get(10, TimeUnit.SECONDS);
    ReplyException ue = (ReplyException) (unknown instanceof ReplyException ? unknown : unknown.getCause());
    assertEquals(404, ue.failureCode());
  }

  @Test
  @Order(8)
  void aNodeThatDoesNotAnswerIsListedNotWaitedFor() {
    var bus = nodes.get(1).context().vertx().eventBus();
    String address = Addresses.admin("n2");
    io.vertx.core.Handler<io.vertx.core.eventbus.DeliveryContext<Object>> freeze = dc -> {
      if (!address.equals(dc.message().address())) {
        dc.next(); // every other message goes on; the admin queries to n2 are swallowed
      }
    };
    bus.addInboundInterceptor(freeze);
    try {
      long t0 = System.nanoTime();
      JsonNode r = ok(get("/api/v1/admin/cluster"));
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(ms < 5_000, "answered in " + ms + " ms");
      assertEquals("n2", r.at("/not_answering/0").asText(), r.toString());
      JsonNode n2 = r.at("/nodes/1");
      assertEquals("n2", n2.get("node_id").asText());
      assertFalse(n2.get("answering").asBoolean());
      assertTrue(r.at("/nodes/0/answering").asBoolean());
    } finally {
      bus.removeInboundInterceptor(freeze);
    }
  }

  @Test
  @Order(9)
  void aDrainStartsOnTheNamedNodeAndItsClientsGet1012() {
    notFound(post("/api/v1/admin/nodes/n9/drain", ""), "NOT_FOUND");
    invalid(post("/api/v1/admin/nodes/bad%20id/drain", ""), "node");
    try (WsClient c = client(1, "drained", "d1")) {
      HttpResponse<String> r = post("/api/v1/admin/nodes/n2/drain", "");
      assertEquals(202, r.statusCode(), r.body());
      assertTrue(json(r.body()).get("draining").asBoolean());
      assertEquals(1012, c.awaitClose(Duration.ofSeconds(10)));
      assertTrue(nodes.get(1).context().draining());
      assertFalse(nodes.get(0).context().draining());
    }
  }
}
