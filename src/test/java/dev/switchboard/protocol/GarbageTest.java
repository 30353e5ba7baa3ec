package dev.switchboard.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Http;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Random garbage (random UTF-8 text, random binary, JSON-ish fragments, random CBOR-ish bytes) on a
 * few connections: every message gets one error, never INTERNAL, and the node stays up.
 */
@Cluster(env = {"SB_RATE_PER_SEC=100000", "SB_RATE_BURST=100000"})
class GarbageTest {
  static final int FRAMES = 200;
  static final Set<String> EXPECTED_CODES = Set.of("INVALID_REQUEST", "UNKNOWN_METHOD", "INVALID_PARAMS");
  static final String[] FRAGMENTS = {
      "{", "}", "[", "]", "\"", ":", ",", "{\"id\":", "\"method\":", "\"system.ping\"", "\"params\":", "null",
      "true", "1e999999", "-0", "NaN", "\\u0000", "\\ud800", "{\"id\":1,\"id\":2", "9999999999999999999999",
      "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "\"\\", "/*", "//", "\u00e9", "\ud83d\ude00", " ", "\t"};
  static Nodes nodes;

  private static String randomUtf8(Random r) {
    StringBuilder b = new StringBuilder();
    int n = r.nextInt(200);
    for (int i = 0; i < n; i++) {
      int cp;
      switch (r.nextInt(4)) {
        case 0 -> cp = r.nextInt(0x80);
        case 1 -> cp = 0x80 + r.nextInt(0x800 - 0x80);
        case 2 -> {
          cp = 0x800 + r.nextInt(0x10000 - 0x800);
          if (cp >= 0xD800 && cp <= 0xDFFF) {
            cp = 'x';
          }
        }
        default -> cp = 0x10000 + r.nextInt(0x10FFFF - 0x10000);
      }
      b.appendCodePoint(cp);
    }
    return b.toString();
  }

  private static String jsonish(Random r) {
    StringBuilder b = new StringBuilder();
    int n = 1 + r.nextInt(12);
    for (int i = 0; i < n; i++) {
      b.append(FRAGMENTS[r.nextInt(FRAGMENTS.length)]);
    }
    return b.toString();
  }

  private static byte[] randomBytes(Random r) {
    byte[] b = new byte[r.nextInt(300)];
    r.nextBytes(b);
    return b;
  }

  @Test
  void randomGarbageNeverTakesTheNodeDown() {
    long seed = Long.getLong("garbage.seed", System.nanoTime());
    Random r = new Random(seed);
    List<WsClient> clients = new ArrayList<>();
    try {
      clients.add(nodes.client(0, "g1"));
      clients.add(nodes.client(0, "g2"));
      clients.add(nodes.open(0, "/ws?token=" + Tokens.user("g3"), Map.of(),
          FrameCodec.CBOR_SUBPROTOCOL).ok());
      int[] sent = new int[clients.size()];
      for (int i = 0; i < FRAMES; i++) {
        int k = r.nextInt(clients.size());
        WsClient c = clients.get(k);
        switch (r.nextInt(4)) {
          case 0 -> c.send(randomUtf8(r));
          case 1 -> c.send(jsonish(r));
          case 2 -> c.sendBinary(randomBytes(r));
          default -> c.sendBinary(jsonish(r).getBytes(StandardCharsets.UTF_8));
        }
        sent[k]++;
      }
      for (int k = 0; k < clients.size(); k++) {
        WsClient c = clients.get(k);
        // a well-formed request after the garbage: its answer comes after every earlier one
        c.sendEnvelope(WsClient.params().put("id", "sentinel").put("method", "system.ping"));
        int answered = 0;
        while (true) {
          JsonNode f = c.await(WsClient::isTerminal, Duration.ofSeconds(20));
          if ("sentinel".equals(f.path("id").asText())) {
            assertEquals("result", f.get("type").asText(), "seed " + seed);
            break;
          }
          answered++;
          if (f.get("type").asText().equals("result")) {
            continue; // fragments that happened to form a valid request
          }
          String code = f.at("/error/code").asText();
          assertTrue(EXPECTED_CODES.contains(code), "seed " + seed + ": unexpected " + f);
          String message = f.at("/error/message").asText();
          assertFalse(message.contains("Exception") || message.contains("com.fasterxml") || message.contains("java."),
              "seed " + seed + ": message exposes internals: " + message);
        }
        assertEquals(sent[k], answered, "seed " + seed + ": one error per garbage message on connection " + k);
        assertFalse(c.isClosed());
      }
    } finally {
      clients.forEach(WsClient::close);
    }
    try (WsClient fresh = nodes.client(0, "after")) {
      assertEquals("result", fresh.call("system.ping", null).get("type").asText());
    }
    assertEquals(200, Http.get(nodes.port(0), "/health/live").statusCode());
  }
}
