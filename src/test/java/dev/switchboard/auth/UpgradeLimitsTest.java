package dev.switchboard.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.Node;
import dev.switchboard.testsupport.RawWs;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Admission gates at the upgrade (PROTOCOL.md sections 1 and 10): Origin allow-list (403), per-IP
 * connect rate and per-user cap (429 with Retry-After), node cap (503, and the slot comes back when a
 * connection closes), and a malformed {@code device_id} (400).
 */
class UpgradeLimitsTest {
  static final String ALLOWED_A = "https://app.example.com";
  static final String ALLOWED_B = "https://admin.example.com";
  static final ObjectMapper JSON = new ObjectMapper();

  /** Origins listed, two connections per user, a generous per-IP rate. */
  static Node gates;
  /** Two upgrades per second per IP. */
  static Node rate;
  /** Two connections per node. */
  static Node capped;
  static Vertx vertx;

  @BeforeAll
  static void up() throws Exception {
    try {
      Map<String, Node> started = TestNode.startApart("limits", Map.of(
          "gates", Map.of(
              "SB_ALLOWED_ORIGINS", ALLOWED_A + ", " + ALLOWED_B,
              "SB_MAX_CONNECTIONS_PER_USER", "2",
              "SB_CONNECT_RATE_PER_IP", "100000"),
          "rate", Map.of("SB_CONNECT_RATE_PER_IP", "2"),
          "capped", Map.of(
              "SB_MAX_CONNECTIONS", "2",
              "SB_CONNECT_RATE_PER_IP", "100000")));
      gates = started.get("gates");
      rate = started.get("rate");
      capped = started.get("capped");
    } finally {
      vertx = Vertx.vertx();
    }
  }

  @AfterAll
  static void down() {
    TestNode.stop(gates, rate, capped);
    if (vertx != null) {
      vertx.close();
    }
  }

  // ---- helpers ----

  static WsClient.Upgrade open(Node n, String uri, Map<String, String> headers) {
    return WsClient.open(vertx, n.port(), uri, headers, null);
  }

  /**
   * An upgrade as {@code user}. The Vert.x client sends an Origin of its own ({@code http://127.0.0.1:port})
   * unless one is given, so a listed one is given here for the node with an allow-list.
   */
  static WsClient.Upgrade asUser(Node n, String user, String device) {
    return open(n, "/ws?device_id=" + device + "&token=" + Tokens.user(user), Map.of("Origin", ALLOWED_A));
  }

  static void assertRefused(WsClient.Upgrade u, int status, String code, String what) {
    if (u.client() != null) {
      u.client().close();
    }
    assertEquals(status, u.status(), what + ": status (body " + u.body() + ")");
    String body = u.body().strip();
    assertFalse(body.contains("\n") || body.contains("Exception"), what + ": one clean line: " + body);
    JsonNode json;
    try {
      json = JSON.readTree(body);
    } catch (Exception e) {
      throw new AssertionError(what + ": body is not JSON: " + body, e);
    }
    assertEquals(code, json.path("code").asText(), what + ": code in " + body);
    assertTrue(json.path("message").isTextual() && !json.path("message").asText().isBlank(), what + ": message");
  }

  static long retryAfterSeconds(WsClient.Upgrade u, String what) {
    assertNotNull(u.retryAfter(), what + ": Retry-After header");
    long s = Long.parseLong(u.retryAfter().trim());
    assertTrue(s >= 1, what + ": Retry-After is a positive number of seconds: " + s);
    return s;
  }

  /** Polls {@code attempt} until it yields an accepted upgrade, within the deadline. */
  static WsClient awaitAccepted(Supplier<WsClient.Upgrade> attempt, Duration within, String what) {
    long deadline = System.nanoTime() + within.toNanos();
    WsClient.Upgrade last = null;
    while (System.nanoTime() < deadline) {
      last = attempt.get();
      if (last.client() != null) {
        return last.client();
      }
      try {
        Thread.sleep(50); // poll interval of a bounded wait, not a guess at timing
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    throw new AssertionError(what + ": not accepted within " + within + "; last refusal " + last.status() + " "
        + last.body());
  }

  // ---- Origin ----

  @Test
  void originNotListedIs403() {
    assertRefused(open(gates, "/ws?token=" + Tokens.user("o1"), Map.of("Origin", "https://evil.example.com")),
        403, "FORBIDDEN", "unlisted origin");
    // near misses are not listed either
    assertRefused(open(gates, "/ws?token=" + Tokens.user("o1"), Map.of("Origin", ALLOWED_A + ".evil.com")),
        403, "FORBIDDEN", "suffix of a listed origin");
    assertRefused(open(gates, "/ws?token=" + Tokens.user("o1"), Map.of("Origin", "http://app.example.com")),
        403, "FORBIDDEN", "other scheme");
  }

  @Test
  void originListedIsAccepted() {
    for (String origin : new String[] {ALLOWED_A, ALLOWED_B}) {
      WsClient.Upgrade u = open(gates, "/ws?token=" + Tokens.user("o2"), Map.of("Origin", origin));
      try (WsClient c = u.ok()) {
        assertEquals("o2", c.connected().path("user_id").asText(), origin);
      }
    }
  }

  @Test
  void noOriginHeaderIsAccepted() throws Exception {
    // The Vert.x client always sends an Origin; a raw socket sends none, like a non-browser client.
    try (RawWs raw = new RawWs(gates.port(), "/ws?token=" + Tokens.user("o3"))) {
      assertEquals(101, raw.status);
      RawWs.Frame f = raw.read(Duration.ofSeconds(10));
      assertNotNull(f, "connected frame");
      assertEquals(RawWs.TEXT, f.opcode());
      JsonNode connected = JSON.readTree(f.text());
      assertEquals("connected", connected.path("type").asText());
      assertEquals("o3", connected.path("user_id").asText());
    }
  }

  // ---- per-IP connect rate ----

  @Test
  void connectRatePerIpIs429WithRetryAfter() {
    List<WsClient> open = new ArrayList<>();
    WsClient.Upgrade refused = null;
    try {
      // burst 2, refill 2/s: well within ten rapid attempts one is refused
      for (int i = 0; i < 10 && refused == null; i++) {
        WsClient.Upgrade u = asUser(rate, "rate-" + i, "d" + i);
        if (u.client() != null) {
          open.add(u.client());
        } else {
          refused = u;
        }
      }
      assertNotNull(refused, "no upgrade was rate limited in 10 rapid attempts");
      assertRefused(refused, 429, "RATE_LIMITED", "per-IP rate");
      long s = retryAfterSeconds(refused, "per-IP rate");
      assertTrue(s <= 2, "Retry-After fits a 2/s rate: " + s);
      // the bucket refills: a connection is accepted again soon
      awaitAccepted(() -> asUser(rate, "rate-again", "d"), Duration.ofSeconds(10), "after the rate window").close();
    } finally {
      open.forEach(WsClient::close);
    }
  }

  // ---- per-user cap ----

  @Test
  void thirdConnectionOfAUserIs429() {
    WsClient a = asUser(gates, "carol", "dev-1").ok();
    WsClient b = asUser(gates, "carol", "dev-2").ok();
    try {
      WsClient.Upgrade third = asUser(gates, "carol", "dev-3");
      assertRefused(third, 429, "RATE_LIMITED", "third connection of carol");
      retryAfterSeconds(third, "per-user cap");
      // other users are not affected
      try (WsClient other = asUser(gates, "dave", "dev-1").ok()) {
        assertEquals("dave", other.connected().path("user_id").asText());
      }
      // when one of carol's connections closes, her next one is accepted
      a.close();
      awaitAccepted(() -> asUser(gates, "carol", "dev-3"), Duration.ofSeconds(10), "carol after a close").close();
    } finally {
      a.close();
      b.close();
    }
  }

  // ---- node cap ----

  @Test
  void nodeCapIs503AndTheSlotComesBack() {
    // awaited: a previous test's closes may still be releasing their slots on the server
    WsClient a = awaitAccepted(() -> asUser(capped, "cap-a", "d"), Duration.ofSeconds(10), "cap-a");
    WsClient b = awaitAccepted(() -> asUser(capped, "cap-b", "d"), Duration.ofSeconds(10), "cap-b");
    try {
      WsClient.Upgrade third = asUser(capped, "cap-c", "d");
      assertRefused(third, 503, "UNAVAILABLE", "third connection on the node");
      a.close();
      // the server releases the slot when it sees the close: poll, bounded
      WsClient c = awaitAccepted(() -> asUser(capped, "cap-c", "d"), Duration.ofSeconds(10), "after a close");
      try {
        assertEquals("cap-c", c.connected().path("user_id").asText());
        // and the cap still holds with two connections again
        assertRefused(asUser(capped, "cap-d", "d"), 503, "UNAVAILABLE", "cap after the slot was reused");
      } finally {
        c.close();
      }
    } finally {
      a.close();
      b.close();
    }
  }

  @Test
  void refusedUpgradesDoNotLeakNodeSlots() {
    // 401s on the capped node must not hold slots: afterwards two connections still fit
    for (int i = 0; i < 5; i++) {
      WsClient.Upgrade u = open(capped, "/ws?token=bad", Map.of());
      assertEquals(401, u.status());
    }
    WsClient a = awaitAccepted(() -> asUser(capped, "leak-a", "d"), Duration.ofSeconds(10), "first");
    try (WsClient b = awaitAccepted(() -> asUser(capped, "leak-b", "d"), Duration.ofSeconds(10), "second")) {
      assertEquals("leak-b", b.connected().path("user_id").asText());
    } finally {
      a.close();
    }
  }

  // ---- device_id ----

  @Test
  void badDeviceIdIs400() {
    String token = Tokens.user("dev-user");
    for (String bad : new String[] {"", "has%20space", "a%2Fb", "x".repeat(129), "%3Cscript%3E"}) {
      WsClient.Upgrade u = open(gates, "/ws?device_id=" + bad + "&token=" + token, Map.of());
      assertRefused(u, 400, "INVALID_REQUEST", "device_id '" + bad + "'");
    }
    // a well-formed one of the maximum length is fine
    String ok = "d".repeat(128);
    try (WsClient c = open(gates, "/ws?device_id=" + ok + "&token=" + token, Map.of("Origin", ALLOWED_A)).ok()) {
      assertEquals(ok, c.connected().path("device_id").asText());
    }
  }
}
