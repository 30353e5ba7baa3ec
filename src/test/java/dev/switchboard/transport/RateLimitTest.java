package dev.switchboard.transport;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.WsClient;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Per-connection request rate (SB_RATE_PER_SEC / SB_RATE_BURST): requests over the bucket get
 * RATE_LIMITED (retryable, retry_after_ms), one terminal each; a client that keeps sending while
 * being refused is closed 4008.
 */
@Cluster(env = {"SB_RATE_PER_SEC=5", "SB_RATE_BURST=5", "SB_LIMITS_RATE_FLOOD_STRIKES=" + RateLimitTest.STRIKES})
class RateLimitTest {
  static final int STRIKES = 20; // more than the 15 refusals of the burst below, far fewer than the flood
  static final Duration WAIT = Duration.ofSeconds(10);
  static Nodes nodes;

  @Test
  void burstOfTwentyGetsFiveResultsAndFifteenRateLimitedEachWithOneTerminal() {
    try (WsClient c = nodes.client(0, "alice")) {
      for (int i = 0; i < 20; i++) {
        c.request("system.ping", null); // ids 1..20
      }
      Map<Integer, List<JsonNode>> byId = new HashMap<>();
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (byId.size() < 20) {
        JsonNode f = c.await(WsClient::isTerminal, Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
        byId.computeIfAbsent(f.get("id").asInt(), k -> new ArrayList<>()).add(f);
      }
      // A sentinel: frames on one connection are ordered, so a duplicate terminal would come before it.
      int sentinel = c.request("system.ping", null);
      while (true) {
        JsonNode f = c.await(WsClient::isTerminal, WAIT);
        int id = f.get("id").asInt();
        if (id == sentinel) {
          break;
        }
        byId.computeIfAbsent(id, k -> new ArrayList<>()).add(f);
      }
      int results = 0;
      int limited = 0;
      for (int id = 1; id <= 20; id++) {
        List<JsonNode> frames = byId.get(id);
        assertNotNull(frames, "no terminal for request " + id);
        assertEquals(1, frames.size(), "terminals for request " + id + ": " + frames);
        JsonNode f = frames.get(0);
        if (f.get("type").asText().equals("result")) {
          results++;
        } else {
          limited++;
          assertEquals("RATE_LIMITED", f.at("/error/code").asText(), f.toString());
          assertTrue(f.at("/error/retryable").asBoolean(), f.toString());
          assertTrue(f.at("/error/retry_after_ms").isIntegralNumber(), f.toString());
          assertTrue(f.at("/error/retry_after_ms").asLong() > 0, f.toString());
        }
      }
      assertEquals(20, byId.size());
      assertEquals(5, results);
      assertEquals(15, limited);
      assertFalse(c.isClosed(), "15 refusals are under the flood threshold");
    }
  }

  @Test
  void messagesThatAreNotRequestsTakeTokensTooAndAFloodOfThemCloses4008() {
    try (WsClient c = nodes.client(0, "dana")) {
      for (int i = 0; i < 20; i++) {
        c.send("not json " + i);
      }
      int limited = 0;
      int invalid = 0;
      for (int i = 0; i < 20; i++) {
        JsonNode f = c.await(x -> "error".equals(x.path("type").asText()), WAIT);
        if ("RATE_LIMITED".equals(f.at("/error/code").asText())) {
          limited++;
        } else {
          invalid++;
        }
      }
      assertEquals(5, invalid, "the burst's five tokens");
      assertEquals(15, limited);
      for (int i = 0; i < 200; i++) {
        c.send("{");
      }
      assertEquals(4008, c.awaitClose(WAIT));
    }
  }

  @Test
  void sustainedFloodingClosesWith4008() {
    try (WsClient c = nodes.client(0, "bob")) {
      for (int i = 0; i < 200; i++) {
        c.request("system.ping", null);
      }
      assertEquals(4008, c.awaitClose(WAIT));
      long refused = c.drain().stream().filter(f -> "RATE_LIMITED".equals(f.at("/error/code").asText())).count();
      assertTrue(refused >= STRIKES - 1, "refusals before the close: " + refused);
    }
    // the node itself is fine
    try (WsClient other = nodes.client(0, "carol")) {
      assertEquals("result", other.call("system.ping", null).get("type").asText());
    }
  }
}
