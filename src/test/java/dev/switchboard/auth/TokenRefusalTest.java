package dev.switchboard.auth;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testsupport.Tokens;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Token checks at the upgrade (PROTOCOL.md sections 1 and 10): every bad token (missing, malformed,
 * expired, from the future, wrong key or algorithm, tampered, missing or wrong claims) is a plain
 * 401 with a one-line {@code {"code":"UNAUTHORIZED","message":…}} body.
 */
class TokenRefusalTest extends AuthNodes {
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
}
