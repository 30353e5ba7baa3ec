package dev.switchboard.transport;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Token lifetime on an open connection: token_expiring SB_TOKEN_EXPIRING_MS before exp, close 4001
 * at exp, unless auth.refresh replaced the token with one for the same sub.
 */
@Cluster(env = {
    // a short heartbeat only to make the node's clock tick finer than the default 1 s
    "SB_TOKEN_EXPIRING_MS=" + TokenExpiryTest.EXPIRING_MS, "SB_HEARTBEAT_MS=500", "SB_IDLE_TIMEOUT_MS=60000"})
class TokenExpiryTest {
  static final long EXPIRING_MS = 2000;
  static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();
  static Nodes nodes;

  /** A token for {@code sub} expiring in 3 s (accepted at the upgrade: it is not expired yet). */
  private static String shortToken(String sub, long[] expMs) {
    long exp = Tokens.now() + 3;
    expMs[0] = exp * 1000;
    return Tokens.hs256(Tokens.claims(sub, 3).put("exp", exp));
  }

  private static boolean isType(JsonNode f, String type) {
    return type.equals(f.path("type").asText());
  }

  /** Waits (bounded) until the wall clock passes {@code epochMs}, failing early if the server closes. */
  private static void stayOpenUntil(WsClient c, long epochMs) {
    while (System.currentTimeMillis() < epochMs) {
      assertFalse(c.isClosed(), "closed before " + epochMs);
      try {
        c.awaitClose(Duration.ofMillis(Math.max(1, Math.min(200, epochMs - System.currentTimeMillis()))));
      } catch (AssertionError stillOpen) {
        // expected: no close within the slice
      }
    }
    assertFalse(c.isClosed(), "closed before " + epochMs);
  }

  @Test
  void tokenExpiringFrameThenClose4001AtExp() {
    long[] exp = new long[1];
    try (WsClient c = nodes.connect(0, shortToken("alice", exp))) {
      JsonNode warn = c.await(f -> isType(f, "token_expiring"), Duration.ofSeconds(10));
      long in = warn.get("expires_in_ms").asLong();
      assertTrue(in > 0 && in <= EXPIRING_MS, "expires_in_ms " + in);
      assertEquals(4001, c.awaitClose(Duration.ofSeconds(10)));
      assertTrue(System.currentTimeMillis() >= exp[0], "closed before exp");
    }
  }

  @Test
  void refreshWithSameSubBeforeExpKeepsTheConnectionPastTheOldExp() {
    long[] exp = new long[1];
    try (WsClient c = nodes.connect(0, shortToken("bob", exp))) {
      JsonNode r = c.call("auth.refresh", WsClient.params().put("token", Tokens.user("bob")));
      assertEquals("result", r.get("type").asText(), r.toString());
      assertTrue(r.at("/result/expires_at_ms").asLong() > exp[0] + 3_000_000, r.toString());
      stayOpenUntil(c, exp[0] + 2000);
      JsonNode ping = c.call("system.ping", null);
      assertEquals("result", ping.get("type").asText());
      assertFalse(c.isClosed());
    }
  }

  @Test
  void refreshWithFewerRightsUnsubscribesTheTopicsItNoLongerAllowsAndNamesThem() {
    String kept = "chat:kept-" + System.nanoTime();
    String lost = "news:lost-" + System.nanoTime();
    try (WsClient c = nodes.client(0, "rita", "chat:*", "news:*");
         WsClient pub = nodes.client(0, "pub", "chat:*", "news:*")) {
      for (String t : List.of(kept, lost)) {
        assertEquals("result", c.call("topic.subscribe", WsClient.params().put("topic", t)).get("type").asText());
      }
      JsonNode r = c.call("auth.refresh", WsClient.params().put("token", Tokens.user("rita", "chat:*")));
      assertEquals("result", r.get("type").asText(), r.toString());
      assertEquals(List.of(lost), JSON.convertValue(r.at("/result/unsubscribed"), List.class), r.toString());
      // what it no longer may read stops; what it still may goes on
      pub.call("topic.publish", WsClient.params().put("topic", lost).put("data", 1));
      pub.call("topic.publish", WsClient.params().put("topic", kept).put("data", 2));
      JsonNode e = c.await(f -> "event".equals(f.path("type").asText()), WsClient.WAIT);
      assertEquals(kept, e.get("topic").asText(), "the first event after the refresh: " + e);
    }
  }

  @Test
  void refreshWithAnotherSubIsUnauthorizedAndLeavesTheConnectionAsItWas() {
    long[] exp = new long[1];
    try (WsClient c = nodes.connect(0, shortToken("carol", exp))) {
      JsonNode r = c.call("auth.refresh", WsClient.params().put("token", Tokens.user("mallory")));
      assertEquals("error", r.get("type").asText(), r.toString());
      assertEquals("UNAUTHORIZED", r.at("/error/code").asText());
      assertFalse(r.at("/error/retryable").asBoolean());
      JsonNode ping = c.call("system.ping", null);
      assertEquals("result", ping.get("type").asText());
      assertFalse(c.isClosed());
      // the refused token did not extend anything: the old exp still ends the connection
      assertEquals(4001, c.awaitClose(Duration.ofSeconds(10)));
    }
  }
}
