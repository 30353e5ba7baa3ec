package dev.switchboard.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.Node;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Token checks at the upgrade (PROTOCOL.md sections 1 and 10): every bad token is a plain 401 with
 * a one-line {@code {"code":"UNAUTHORIZED","message":…}} body; good tokens from each credential
 * source and each key type connect, and the {@code connected} frame names the user and device.
 */
class AuthUpgradeTest {
  static final String ISSUER = "https://issuer.test";
  static final String AUDIENCE = "switchboard-test";
  static final ObjectMapper JSON = new ObjectMapper();
  static final ExecutorService STARTER = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "auth-test-node-start");
    t.setDaemon(true);
    return t;
  });

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
    CompletableFuture<Node> fHs = startAsync(Map.of("SB_JWT_ISSUER", ISSUER, "SB_JWT_AUDIENCE", AUDIENCE), "hs");
    CompletableFuture<Node> fRs = startAsync(Map.of("SB_JWT_SECRET", "", "SB_JWT_PUBLIC_KEY", Tokens.publicPem(rsaKeys)),
        "rs");
    CompletableFuture<Node> fEs = startAsync(Map.of("SB_JWT_SECRET", "", "SB_JWT_PUBLIC_KEY", Tokens.publicPem(ecKeys)),
        "es");
    CompletableFuture<Node> fAnon = startAsync(Map.of("SB_AUTH_REQUIRED", "false"), "anon");
    try {
      hs = fHs.get(90, TimeUnit.SECONDS);
      rs = fRs.get(90, TimeUnit.SECONDS);
      es = fEs.get(90, TimeUnit.SECONDS);
      anon = fAnon.get(90, TimeUnit.SECONDS);
    } finally {
      vertx = Vertx.vertx();
    }
  }

  private static CompletableFuture<Node> startAsync(Map<String, String> overrides, String name) {
    Map<String, String> o = new HashMap<>(overrides);
    o.put("SB_CLUSTER_NAME", TestNode.CLUSTER + "-auth-" + name);
    o.put("SB_CONNECT_RATE_PER_IP", "100000");
    // not the common pool: Hazelcast completes its own futures there, and blocking it can stall the start
    return CompletableFuture.supplyAsync(() -> TestNode.start(o), STARTER);
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

  // ---- refused ----

  @Test
  void noTokenIs401() {
    assertUnauthorized(open(hs, "/ws", Map.of()), "no token");
    assertUnauthorized(open(rs, "/ws", Map.of()), "no token (RS256 node)");
  }

  @Test
  void emptyAndMalformedTokensAre401() {
    assertUnauthorized(withQuery(hs, ""), "empty ?token=");
    assertUnauthorized(withQuery(hs, "not-a-jwt"), "one part");
    assertUnauthorized(withQuery(hs, "a.b.c"), "garbage parts");
    assertUnauthorized(open(hs, "/ws", Map.of("Authorization", "Bearer ")), "empty bearer");
    assertUnauthorized(open(hs, "/ws", Map.of("Authorization", "Basic dXNlcjpwYXNz")), "non-bearer scheme");
  }

  @Test
  void expiredTokenBeyondLeewayIs401() {
    JsonObject c = good("exp-user").put("iat", Tokens.now() - 120).put("exp", Tokens.now() - 30);
    assertUnauthorized(withQuery(hs, Tokens.hs256(c)), "expired 30 s ago");
    // just past the 5 s leeway (10 s ago): a leeway wider than configured would let it in
    assertUnauthorized(withQuery(hs, Tokens.hs256(good("exp-user").put("exp", Tokens.now() - 10))), "expired 10 s ago");
  }

  @Test
  void tokenIssuedInTheFutureIs401AndASignatureWithGarbageIs401() {
    JsonObject c = good("iat-user").put("iat", Tokens.now() + 120).put("exp", Tokens.now() + 3600);
    assertUnauthorized(withQuery(hs, Tokens.hs256(c)), "iat two minutes ahead");
    String token = Tokens.hs256(good("sig-user"));
    String head = token.substring(0, token.lastIndexOf('.') + 1);
    assertUnauthorized(withQuery(hs, head + "!!not-base64url!!"), "signature that is not base64url");
    assertUnauthorized(withQuery(hs, head + "AAAA"), "signature of the wrong length");
  }

  @Test
  void tokenExpiredWithinLeewayIsAccepted() {
    // the leeway is 5 s; 1 s past exp still connects (4 s of margin for a slow machine)
    JsonObject c = good("leeway-user").put("exp", Tokens.now() - 1);
    JsonNode f = connectedVia(withQuery(hs, Tokens.hs256(c)), "expired 1 s ago");
    assertEquals("leeway-user", f.path("user_id").asText());
  }

  @Test
  void wrongKeyIs401() {
    String other = "another-secret-of-at-least-32-bytes-xyz";
    assertUnauthorized(withQuery(hs, Tokens.hs256(good("alice"), other)), "HS256 with another secret");
    KeyPair otherRsa = Tokens.rsa();
    assertUnauthorized(withQuery(rs, Tokens.signed("RS256", otherRsa.getPrivate(), Tokens.claims("alice", 3600))),
        "RS256 with another key");
    KeyPair otherEc = Tokens.ec();
    assertUnauthorized(withQuery(es, Tokens.signed("ES256", otherEc.getPrivate(), Tokens.claims("alice", 3600))),
        "ES256 with another key");
  }

  @Test
  void tamperedPayloadIs401() {
    String token = Tokens.hs256(good("alice"));
    String[] parts = token.split("\\.");
    // same header and signature, payload swapped for another user with admin rights
    String forged = parts[0] + "." + b64(good("mallory").put("roles", new JsonArray().add("admin")).encode()) + "."
        + parts[2];
    assertUnauthorized(withQuery(hs, forged), "tampered payload");
    // the untouched token is fine, so it is the tampering that is refused
    assertEquals("alice", connectedVia(withQuery(hs, token), "untampered").path("user_id").asText());
    // a flipped signature character
    char last = parts[2].charAt(0);
    String badSig = parts[0] + "." + parts[1] + "." + (last == 'A' ? 'B' : 'A') + parts[2].substring(1);
    assertUnauthorized(withQuery(hs, badSig), "tampered signature");
  }

  @Test
  void algNoneIs401() {
    assertUnauthorized(withQuery(hs, Tokens.unsigned(good("alice"))), "alg none (HS node)");
    assertUnauthorized(withQuery(rs, Tokens.unsigned(Tokens.claims("alice", 3600))), "alg none (RS node)");
    assertUnauthorized(withQuery(anon, Tokens.unsigned(Tokens.claims("alice", 3600))), "alg none (auth optional)");
    // alg "None" / "NONE" with a dummy signature
    String header = b64("{\"alg\":\"None\",\"typ\":\"JWT\"}");
    assertUnauthorized(withQuery(hs, header + "." + b64(good("alice").encode()) + ".x"), "alg None");
  }

  @Test
  void hsRsConfusionIs401() {
    String pem = Tokens.publicPem(rsaKeys);
    JsonObject c = Tokens.claims("mallory", 3600);
    // HMAC keyed with the PEM text exactly as configured, and trimmed (how a library might hold it)
    assertUnauthorized(withQuery(rs, Tokens.hmacWithAlg("HS256", pem.getBytes(StandardCharsets.UTF_8), c)),
        "HS256 keyed with the PEM text");
    assertUnauthorized(withQuery(rs, Tokens.hmacWithAlg("HS256", pem.trim().getBytes(StandardCharsets.UTF_8), c)),
        "HS256 keyed with the trimmed PEM text");
    assertUnauthorized(withQuery(rs, Tokens.hmacWithAlg("HS256", rsaKeys.getPublic().getEncoded(), c)),
        "HS256 keyed with the DER public key");
    // and an HS256 token with the test secret means nothing to an RS256-only node
    assertUnauthorized(withQuery(rs, Tokens.hs256(c)), "HS256 on an RS256-only node");
  }

  @Test
  void missingExpIs401() {
    JsonObject c = good("alice");
    c.remove("exp");
    assertUnauthorized(withQuery(hs, Tokens.hs256(c)), "no exp");
    assertUnauthorized(withQuery(hs, Tokens.hs256(good("alice").put("exp", "tomorrow"))), "string exp");
  }

  @Test
  void missingSubIs401() {
    JsonObject c = good("alice");
    c.remove("sub");
    assertUnauthorized(withQuery(hs, Tokens.hs256(c)), "no sub");
  }

  @Test
  void wrongIssuerIs401() {
    assertUnauthorized(withQuery(hs, Tokens.hs256(good("alice").put("iss", "https://evil.test"))), "wrong iss");
    JsonObject noIss = good("alice");
    noIss.remove("iss");
    assertUnauthorized(withQuery(hs, Tokens.hs256(noIss)), "missing iss");
  }

  @Test
  void wrongAudienceIs401() {
    assertUnauthorized(withQuery(hs, Tokens.hs256(good("alice").put("aud", "someone-else"))), "wrong aud");
    assertUnauthorized(withQuery(hs, Tokens.hs256(good("alice").put("aud", new JsonArray().add("x").add("y")))),
        "aud array without ours");
    JsonObject noAud = good("alice");
    noAud.remove("aud");
    assertUnauthorized(withQuery(hs, Tokens.hs256(noAud)), "missing aud");
  }

  @Test
  void rightIssuerAndAudienceAreAccepted() {
    assertEquals("iss-ok", connectedVia(withQuery(hs, Tokens.hs256(good("iss-ok"))), "iss+aud string")
        .path("user_id").asText());
    JsonObject arr = good("aud-arr").put("aud", new JsonArray().add("other").add(AUDIENCE));
    assertEquals("aud-arr", connectedVia(withQuery(hs, Tokens.hs256(arr)), "aud array containing ours")
        .path("user_id").asText());
  }

  // ---- credential sources ----

  @Test
  void tokenInAuthorizationHeaderIsAccepted() {
    String t = Tokens.hs256(good("hdr-user"));
    JsonNode f = connectedVia(open(hs, "/ws", Map.of("Authorization", "Bearer " + t)), "header");
    assertEquals("hdr-user", f.path("user_id").asText());
  }

  @Test
  void tokenInQueryIsAccepted() {
    JsonNode f = connectedVia(withQuery(hs, Tokens.hs256(good("query-user"))), "query");
    assertEquals("query-user", f.path("user_id").asText());
  }

  @Test
  void tokenInCookieIsAccepted() {
    String t = Tokens.hs256(good("cookie-user"));
    JsonNode f = connectedVia(open(hs, "/ws", Map.of("Cookie", "theme=dark; sb_token=" + t)), "cookie");
    assertEquals("cookie-user", f.path("user_id").asText());
  }

  @Test
  void firstPresentSourceWinsEvenWhenBad() {
    String good = Tokens.hs256(good("winner"));
    String bad = Tokens.hs256(good("loser"), "another-secret-of-at-least-32-bytes-xyz");
    assertUnauthorized(open(hs, "/ws?token=" + good, Map.of("Authorization", "Bearer " + bad)),
        "bad header + good query");
    assertUnauthorized(open(hs, "/ws", Map.of("Authorization", "Bearer " + bad, "Cookie", "sb_token=" + good)),
        "bad header + good cookie");
    assertUnauthorized(open(hs, "/ws?token=" + bad, Map.of("Cookie", "sb_token=" + good)),
        "bad query + good cookie");
    // and the other way round: the good first source wins over a bad later one
    assertEquals("winner", connectedVia(open(hs, "/ws?token=" + bad, Map.of("Authorization", "Bearer " + good)),
        "good header + bad query").path("user_id").asText());
    assertEquals("winner", connectedVia(open(hs, "/ws?token=" + good, Map.of("Cookie", "sb_token=" + bad)),
        "good query + bad cookie").path("user_id").asText());
  }

  // ---- key types ----

  @Test
  void rs256NodeAcceptsTokensSignedWithItsPrivateKey() {
    String t = Tokens.signed("RS256", rsaKeys.getPrivate(), Tokens.claims("rsa-user", 3600));
    assertEquals("rsa-user", connectedVia(withQuery(rs, t), "RS256").path("user_id").asText());
    assertEquals("rsa-user", connectedVia(open(rs, "/ws", Map.of("Authorization", "Bearer " + t)), "RS256 header")
        .path("user_id").asText());
  }

  @Test
  void es256NodeAcceptsTokensSignedWithItsPrivateKey() {
    String t = Tokens.signed("ES256", ecKeys.getPrivate(), Tokens.claims("ec-user", 3600));
    assertEquals("ec-user", connectedVia(withQuery(es, t), "ES256").path("user_id").asText());
    // an RS256 token is not accepted by the ES256 node
    assertUnauthorized(withQuery(es, Tokens.signed("RS256", rsaKeys.getPrivate(), Tokens.claims("ec-user", 3600))),
        "RS256 token on the ES256 node");
  }

  // ---- connected frame ----

  @Test
  void connectedFrameCarriesSubAndDeviceFromQuery() {
    String t = Tokens.hs256(good("dev-q").put("device_id", "from-claim"));
    JsonNode f = connectedVia(open(hs, "/ws?device_id=phone-1&token=" + t, Map.of()), "device from query");
    assertEquals("dev-q", f.path("user_id").asText());
    assertEquals("phone-1", f.path("device_id").asText(), "the query parameter wins over the claim");
  }

  @Test
  void connectedFrameFallsBackToDeviceClaim() {
    String t = Tokens.hs256(good("dev-c").put("device_id", "tablet-7"));
    JsonNode f = connectedVia(withQuery(hs, t), "device from claim");
    assertEquals("dev-c", f.path("user_id").asText());
    assertEquals("tablet-7", f.path("device_id").asText());
  }

  @Test
  void aDeviceClaimOutsideTheDeviceIdRulesIsRefusedWith400() {
    for (String bad : new String[] {"tab\there", "new\nline", "x".repeat(129), ""}) {
      String t = Tokens.hs256(good("dev-bad").put("device_id", bad));
      WsClient.Upgrade u = withQuery(hs, t);
      if (u.client() != null) {
        u.client().close();
      }
      assertEquals(400, u.status(), "device claim " + bad.length() + " chars: status (body " + u.body() + ")");
      assertRefusalBody(u.body(), "INVALID_REQUEST", "bad device claim");
    }
  }

  @Test
  void connectedFrameGetsAFreshDeviceWithoutEither() {
    String t = Tokens.hs256(good("dev-none"));
    JsonNode a = connectedVia(withQuery(hs, t), "no device 1");
    JsonNode b = connectedVia(withQuery(hs, t), "no device 2");
    assertFalse(a.path("device_id").asText().isEmpty());
    assertFalse(b.path("device_id").asText().isEmpty());
    assertNotEquals(a.path("device_id").asText(), b.path("device_id").asText());
  }

  // ---- auth optional ----

  @Test
  void authNotRequiredGivesAnonymousUserWithoutToken() {
    JsonNode a = connectedVia(open(anon, "/ws", Map.of()), "anonymous 1");
    JsonNode b = connectedVia(open(anon, "/ws", Map.of()), "anonymous 2");
    String ua = a.path("user_id").asText();
    assertFalse(ua.isEmpty(), "anonymous user id");
    assertNotEquals(ua, b.path("user_id").asText(), "each anonymous connection is its own user");
    // a valid token still names its user on that node
    assertEquals("known", connectedVia(withQuery(anon, Tokens.hs256(Tokens.claims("known", 3600))), "token")
        .path("user_id").asText());
  }

  @Test
  void authNotRequiredStillRefusesBadTokens() {
    assertUnauthorized(withQuery(anon, Tokens.hs256(Tokens.claims("x", 3600), "another-secret-of-at-least-32-bytes")),
        "wrong key");
    assertUnauthorized(withQuery(anon, Tokens.hs256(Tokens.claims("x", 3600).put("exp", Tokens.now() - 60))),
        "expired");
    assertUnauthorized(withQuery(anon, "garbage"), "malformed");
    assertUnauthorized(open(anon, "/ws", Map.of("Authorization", "Bearer nope")), "bad header");
  }
}
