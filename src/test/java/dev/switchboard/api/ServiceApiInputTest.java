package dev.switchboard.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.protocol.Json;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Http;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.json.JsonArray;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The HTTP API reads bodies as strictly as WebSocket requests and bounds the ids it is given. */
@Cluster
class ServiceApiInputTest {
  static Nodes nodes;
  static String token;

  @BeforeAll
  static void up() {
    token = Tokens.hs256(Tokens.claims("svc", 600).put("roles", new JsonArray().add("service")));
  }

  static HttpResponse<String> post(String path, String body) {
    return Http.post(nodes.port(0), path, body, "Authorization", "Bearer " + token, "content-type", "application/json");
  }

  static JsonNode json(String s) {
    try {
      return Json.MAPPER.readTree(s);
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + s, e);
    }
  }

  static JsonNode assertInvalid(HttpResponse<String> r) {
    assertEquals(400, r.statusCode(), r.body());
    JsonNode b = json(r.body());
    assertEquals("INVALID_PARAMS", b.get("code").asText(), r.body());
    return b;
  }

  @Test
  void deepOrDuplicateKeyedBodiesAreRefusedLikeOverWebSocket() {
    String topic = "chat:strict-" + System.nanoTime();
    String deep = "[".repeat(40) + "]".repeat(40);
    assertInvalid(post("/api/v1/publish", "{\"topic\":\"" + topic + "\",\"data\":" + deep + "}"));
    assertInvalid(post("/api/v1/users/zed/send", "{\"data\":" + deep + "}"));
    assertInvalid(post("/api/v1/publish", "{\"topic\":\"" + topic + "\",\"topic\":\"chat:other\",\"data\":1}"));
    assertInvalid(post("/api/v1/users/zed/send", "{\"data\":1,\"data\":2}"));
    // the same data within the depth limit is accepted
    String shallow = "[".repeat(20) + "]".repeat(20);
    assertEquals(200, post("/api/v1/publish", "{\"topic\":\"" + topic + "\",\"data\":" + shallow + "}").statusCode());
  }

  @Test
  void unknownBodyFieldsAreRefusedNamingTheField() {
    try (WsClient phone = nodes.open(0, "/ws?token=" + Tokens.user("yara") + "&device_id=phone",
        Map.of(), null).ok();
         WsClient web = nodes.open(0, "/ws?token=" + Tokens.user("yara") + "&device_id=web",
             Map.of(), null).ok()) {
      // a misspelt device_id must not turn a send to one device into a send to all of them
      JsonNode err = assertInvalid(post("/api/v1/users/yara/send", "{\"data\":1,\"device\":\"phone\"}"));
      assertTrue(err.get("message").asText().contains("device"), err.toString());
      err = assertInvalid(post("/api/v1/publish", "{\"topic\":\"chat:a\",\"data\":1,\"form\":\"x\"}"));
      assertTrue(err.get("message").asText().contains("form"), err.toString());

      HttpResponse<String> ok = post("/api/v1/users/yara/send", "{\"data\":\"marker\",\"device_id\":\"phone\"}");
      assertEquals(200, ok.statusCode(), ok.body());
      assertEquals(1, json(ok.body()).get("delivered").asInt());
      // the first direct frame each device sees is the marker (phone) or nothing (web): the refused sends went nowhere
      JsonNode first = phone.await(f -> "direct".equals(f.path("type").asText()), WsClient.WAIT);
      assertEquals("marker", first.get("data").asText());
      assertTrue(web.call("system.ping", null).has("result"));
      assertTrue(web.drain().stream().noneMatch(f -> "direct".equals(f.path("type").asText())));
    }
  }

  @Test
  void userAndDeviceIdsAreBoundedByTheUpgradeRules() {
    assertInvalid(post("/api/v1/users/" + "u".repeat(257) + "/send", "{\"data\":1}"));
    assertInvalid(post("/api/v1/users/zed/send", "{\"data\":1,\"device_id\":\"bad id!\"}"));
    assertInvalid(post("/api/v1/users/zed/send", "{\"data\":1,\"device_id\":\"" + "d".repeat(129) + "\"}"));
    assertInvalid(post("/api/v1/users/zed/send", "{\"data\":1,\"device_id\":7}"));
    HttpResponse<String> longest = post("/api/v1/users/" + "u".repeat(256) + "/send",
        "{\"data\":1,\"device_id\":\"" + "d".repeat(128) + "\"}");
    assertEquals(200, longest.statusCode(), longest.body());
    assertEquals(0, json(longest.body()).get("delivered").asInt());
  }
}
