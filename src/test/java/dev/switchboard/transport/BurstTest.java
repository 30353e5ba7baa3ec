package dev.switchboard.transport;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.WsClient;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * 500 mixed requests sent without waiting: exactly one terminal per request, ids echoed exactly,
 * and the requests whose id cannot be read answered without one (PROTOCOL.md section 2).
 */
@Cluster(env = {"SB_RATE_PER_SEC=100000", "SB_RATE_BURST=100000"})
class BurstTest {
  static final int N = 500;
  static Nodes nodes;

  @Test
  void fiveHundredMixedRequestsGetExactlyOneTerminalEach() {
    Map<String, String> expected = new HashMap<>(); // id as text -> "result" or the error code
    int withoutId = 0;
    try (WsClient c = nodes.client(0, "alice")) {
      for (int i = 0; i < N; i++) {
        switch (i % 5) {
          case 0 -> {
            c.send("{\"id\":" + i + ",\"method\":\"system.ping\"}");
            expected.put("i" + i, "result");
          }
          case 1 -> {
            c.send("{\"id\":\"s" + i + "\",\"method\":\"no.such.method\"}");
            expected.put("ss" + i, "UNKNOWN_METHOD");
          }
          case 2 -> {
            c.send("{\"id\":" + i + ",\"method\":\"system.ping\",\"params\":{\"bogus\":" + i + "}}");
            expected.put("i" + i, "INVALID_PARAMS");
          }
          case 3 -> {
            String badId = switch (i % 4) {
              case 0 -> "1.5";
              case 1 -> "{\"n\":" + i + "}";
              case 2 -> "true";
              default -> "\"" + "x".repeat(65) + "\"";
            };
            c.send("{\"id\":" + badId + ",\"method\":\"system.ping\"}");
            withoutId++;
          }
          default -> {
            c.send(i % 2 == 0 ? "garbage " + i : "{\"id\":" + i + ",\"method\":");
            withoutId++;
          }
        }
      }
      c.send("{\"id\":\"end\",\"method\":\"system.ping\"}");

      Map<String, Integer> seen = new HashMap<>();
      Map<String, String> outcome = new HashMap<>();
      int noId = 0;
      int noIdInvalidRequest = 0;
      while (true) {
        JsonNode f = c.await(WsClient::isTerminal, Duration.ofSeconds(20));
        JsonNode id = f.get("id");
        if (id == null) {
          noId++;
          if ("INVALID_REQUEST".equals(f.at("/error/code").asText())) {
            noIdInvalidRequest++;
          }
          continue;
        }
        String key = id.isTextual() ? "s" + id.textValue() : "i" + id.asText();
        if (key.equals("send")) {
          break; // frames of one connection are ordered: everything before "end" has arrived
        }
        seen.merge(key, 1, Integer::sum);
        outcome.put(key, f.get("type").asText().equals("result") ? "result" : f.at("/error/code").asText());
      }
      assertEquals(expected.keySet(), seen.keySet(), "ids answered");
      seen.forEach((k, n) -> assertEquals(1, n, "terminals for id " + k));
      assertEquals(expected, outcome);
      assertEquals(withoutId, noId, "terminals without id");
      assertEquals(withoutId, noIdInvalidRequest, "INVALID_REQUEST without id");
      assertEquals(N, seen.size() + noId);
      assertFalse(c.isClosed());
    }
  }
}
