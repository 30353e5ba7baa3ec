package dev.switchboard.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.Node;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.Base64;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The four nodes the upgrade-auth tests run against, and their helpers: each test class that extends
 * this starts its own set (one-member clusters, started in parallel).
 */
abstract class AuthNodes {
  static final String ISSUER = "https://issuer.test";
  static final String AUDIENCE = "switchboard-test";
  static final ObjectMapper JSON = new ObjectMapper();

  /** HS256 with issuer and audience enforced. */
  static Node hs;
  /** RS256 only (SB_JWT_PUBLIC_KEY = an RSA public key). */
  static Node rs;
  /** ES256 only (SB_JWT_PUBLIC_KEY = an EC P-256 public key). */
  static Node es;
  /** SB_AUTH_REQUIRED=false with an HS256 secret. */
  static Node anon;
  static KeyPair rsaKeys;
  static KeyPair ecKeys;
  static Vertx vertx;

  @BeforeAll
  static void up() throws Exception {
    rsaKeys = Tokens.rsa();
    ecKeys = Tokens.ec();
    // Each node is its own one-member cluster; started in parallel to keep the class fast.
    try {
      Map<String, Node> started = TestNode.startApart("auth", Map.of(
          "hs", Map.of("SB_JWT_ISSUER", ISSUER, "SB_JWT_AUDIENCE", AUDIENCE, "SB_CONNECT_RATE_PER_IP", "100000"),
          "rs", Map.of("SB_JWT_SECRET", "", "SB_JWT_PUBLIC_KEY", Tokens.publicPem(rsaKeys),
              "SB_CONNECT_RATE_PER_IP", "100000"),
          "es", Map.of("SB_JWT_SECRET", "", "SB_JWT_PUBLIC_KEY", Tokens.publicPem(ecKeys),
              "SB_CONNECT_RATE_PER_IP", "100000"),
          "anon", Map.of("SB_AUTH_REQUIRED", "false", "SB_CONNECT_RATE_PER_IP", "100000")));
      hs = started.get("hs");
      rs = started.get("rs");
      es = started.get("es");
      anon = started.get("anon");
    } finally {
      vertx = Vertx.vertx();
    }
  }

  @AfterAll
  static void down() {
    TestNode.stop(hs, rs, es, anon);
    if (vertx != null) {
      vertx.close();
    }
  }

  // ---- helpers ----

  /** Claims the HS node accepts: sub, iat, exp one hour ahead, its issuer and audience. */
  static JsonObject good(String sub) {
    return Tokens.claims(sub, 3600).put("iss", ISSUER).put("aud", AUDIENCE);
  }

  static WsClient.Upgrade open(Node n, String uri, Map<String, String> headers) {
    return WsClient.open(vertx, n.port(), uri, headers, null);
  }

  static WsClient.Upgrade withQuery(Node n, String token) {
    return open(n, "/ws?token=" + token, Map.of());
  }

  /** Asserts a 401 refusal with exactly {"code":"UNAUTHORIZED","message":"…"} on one line, no internals. */
  static void assertUnauthorized(WsClient.Upgrade u, String what) {
    if (u.client() != null) {
      u.client().close();
    }
    assertEquals(401, u.status(), what + ": status (body " + u.body() + ")");
    assertRefusalBody(u.body(), "UNAUTHORIZED", what);
  }

  static void assertRefusalBody(String body, String code, String what) {
    String trimmed = body.strip();
    assertFalse(trimmed.contains("\n") || trimmed.contains("\r"), what + ": body is one line: " + body);
    assertFalse(body.contains("Exception") || body.contains("\tat ") || body.contains("dev.switchboard")
        || body.contains("io.vertx"), what + ": no internals in the body: " + body);
    JsonNode json;
    try {
      json = JSON.readTree(trimmed);
    } catch (Exception e) {
      throw new AssertionError(what + ": body is not JSON: " + body, e);
    }
    assertTrue(json.isObject(), what + ": body is an object: " + body);
    assertEquals(code, json.path("code").asText(), what + ": code in " + body);
    assertTrue(json.path("message").isTextual() && !json.path("message").asText().isBlank(),
        what + ": message in " + body);
    assertEquals(2, json.size(), what + ": exactly code and message: " + body);
  }

  static JsonNode connectedVia(WsClient.Upgrade u, String what) {
    assertEquals(101, u.status(), what + ": refused with " + u.status() + " " + u.body());
    try (WsClient c = u.ok()) {
      JsonNode f = c.connected();
      assertEquals("connected", f.path("type").asText(), what);
      return f;
    }
  }

  static String b64(String s) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }
}
