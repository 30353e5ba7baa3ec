package dev.switchboard.auth;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * Tokens accepted at the upgrade (PROTOCOL.md sections 1 and 10): good tokens from each credential
 * source and each key type connect, the {@code connected} frame names the user and device, and a
 * node without required auth admits anonymous clients but still refuses bad tokens. The refusals
 * are in {@link TokenRefusalTest}.
 */
class AuthUpgradeTest extends AuthNodes {
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
