package dev.switchboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The node's log as a deployed node writes it ({@code dev.switchboard.Main} in its own JVM, with
 * src/main/resources/logback.xml): one JSON object per line on stdout with the documented fields;
 * no token, secret or payload in it; nothing at WARN or ERROR in a clean life (start, a client, a
 * refused upgrade, a drain); plain lines with {@code SB_LOG_FORMAT=text}; a bad level stops the node.
 */
class MainLogTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static Vertx vertx;

  @BeforeAll
  static void up() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void down() {
    vertx.close();
  }

  static Map<String, String> env(int http, Map<String, String> extra) {
    int cluster = TestNode.freePort();
    Map<String, String> env = new HashMap<>(Map.of(
        "SB_HTTP_PORT", String.valueOf(http),
        "SB_HTTP_HOST", "127.0.0.1",
        "SB_CLUSTER_PORT", String.valueOf(cluster),
        "SB_CLUSTER_MEMBERS", "127.0.0.1:" + cluster,
        "SB_CLUSTER_NAME", "sb-log-" + UUID.randomUUID().toString().substring(0, 8),
        "SB_JWT_SECRET", TestNode.SECRET,
        "SB_NODE_ID", "logs1",
        "SB_DRAIN_MS", "300",
        "SB_NODE_WARMUP_MS", "0"));
    env.putAll(extra);
    return env;
  }

  static void awaitReady(MainProcessTest.Child child, int http) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (MainProcessTest.status(http, "/health/ready") != 200) {
      if (!child.process().isAlive()) {
        throw new AssertionError("node exited before ready: " + child.stdout() + child.stderr());
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not ready within 60 s: " + child.stdout());
      }
      Thread.sleep(100); // poll interval of a bounded wait
    }
  }

  static List<JsonNode> json(String stdout) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (String line : stdout.split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      JsonNode n;
      try {
        n = JSON.readTree(line);
      } catch (Exception e) {
        throw new AssertionError("not a JSON line: " + line, e);
      }
      assertTrue(n.isObject(), "a JSON object: " + line);
      out.add(n);
    }
    return out;
  }

  static JsonNode awaitEvent(MainProcessTest.Child child, Predicate<JsonNode> p, String what) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (System.nanoTime() < deadline) {
      for (JsonNode n : json(child.stdout())) {
        if (p.test(n)) {
          return n;
        }
      }
      Thread.sleep(50); // poll interval of a bounded wait
    }
    throw new AssertionError("no " + what + " line within 15 s: " + child.stdout());
  }

  static boolean msg(JsonNode n, String text) {
    return n.path("msg").asText().contains(text);
  }

  @Test
  void jsonLinesCarryTheFieldsNeverATokenAndNothingAlarming() throws Exception {
    int http = TestNode.freePort();
    MainProcessTest.Child child = MainProcessTest.launch(env(http, Map.of()));
    Process p = child.process();
    String token = Tokens.user("logan", "chat:*");
    String forged = Tokens.hs256(Tokens.claims("mallory", 3600), "not-the-node-secret-0123456789abcdef");
    String payload = "payload-marker-" + UUID.randomUUID();
    try {
      awaitReady(child, http);
      try (WsClient c = WsClient.connect(vertx, http, token)) { // the token in the query: the riskiest place
        JsonNode sent = c.call("topic.publish", WsClient.params().put("topic", "chat:logs").put("data", payload));
        assertEquals("result", sent.path("type").asText(), sent.toString());
      }
      WsClient.Upgrade refused = WsClient.open(vertx, http, "/ws?token=" + forged, Map.of(), null);
      assertEquals(401, refused.status());

      JsonNode closed = awaitEvent(child, n -> msg(n, "connection closed"), "connection closed");
      assertEquals("logan", closed.path("user").asText(), closed.toString());
      assertTrue(closed.path("conn").asText().startsWith("c_"), closed.toString());
      assertFalse(closed.path("device").asText().isEmpty(), closed.toString());
      assertEquals(1000, closed.path("code").asInt(), closed.toString());
      assertEquals("client", closed.path("by").asText(), closed.toString());
      assertTrue(closed.path("duration_ms").isIntegralNumber(), closed.toString());
      assertEquals(1, closed.path("messages_in").asLong(), "the publish: " + closed);
      assertTrue(closed.path("frames_out").asLong() >= 2, "connected and the reply: " + closed);
      JsonNode refusal = awaitEvent(child, n -> msg(n, "upgrade refused"), "upgrade refused");
      assertEquals(401, refusal.path("status").asInt(), refusal.toString());
      assertEquals("UNAUTHORIZED", refusal.path("code").asText(), refusal.toString());
      assertEquals("127.0.0.1", refusal.path("remote").asText(), refusal.toString());
      assertFalse(refusal.path("reason").asText().isEmpty(), refusal.toString());

      p.destroy(); // SIGTERM: the drain's steps
      MainProcessTest.Outcome o = child.await(Duration.ofSeconds(30));
      assertEquals(0, o.exit(), "exit code; stderr: " + o.stderr());
      assertEquals("", o.stderr().strip(), "everything is on stdout");
      List<JsonNode> lines = json(o.stdout());
      for (JsonNode n : lines) {
        for (String field : List.of("ts", "level", "logger", "thread", "msg", "node")) {
          assertTrue(n.hasNonNull(field), "has " + field + ": " + n);
        }
        assertEquals("logs1", n.path("node").asText(), n.toString());
        assertTrue(n.path("ts").asText().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"), n.toString());
      }
      for (String secret : List.of(token, token.substring(token.lastIndexOf('.') + 1), forged,
          forged.substring(forged.lastIndexOf('.') + 1), TestNode.SECRET, payload)) {
        assertFalse(o.stdout().contains(secret), "the log holds a token, secret or payload: " + secret);
      }
      List<String> alarming = lines.stream().filter(n -> !n.path("level").asText().matches("INFO|DEBUG|TRACE"))
          .map(JsonNode::toString).toList();
      assertEquals(List.of(), alarming, "nothing at WARN or ERROR from a clean start, a client, a refusal and a drain");
      assertTrue(lines.stream().anyMatch(n -> msg(n, "listening on 127.0.0.1:" + http)), o.stdout());
      List<String> steps = lines.stream().map(n -> n.path("step").asText()).filter(s -> !s.isEmpty()).toList();
      assertEquals(List.of("begin", "connections_closed", "operations_done", "left"), steps, "drain steps");
    } finally {
      if (p.isAlive()) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void textFormatAndPerLoggerLevels() throws Exception {
    int http = TestNode.freePort();
    MainProcessTest.Child child = MainProcessTest.launch(env(http,
        Map.of("SB_LOG_FORMAT", "text", "SB_LOG_LEVELS", "com.hazelcast=warn, dev.switchboard.Main=info")));
    Process p = child.process();
    try {
      awaitReady(child, http);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!child.stdout().contains("listening on") && System.nanoTime() < deadline) {
        Thread.sleep(50); // poll interval of a bounded wait
      }
      List<String> lines = child.stdout().lines().filter(l -> !l.isBlank()).toList();
      assertFalse(lines.isEmpty(), "some output");
      for (String l : lines) {
        assertFalse(l.startsWith("{"), "plain lines, not JSON: " + l);
        assertTrue(l.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z (TRACE|DEBUG|INFO |WARN |ERROR) \\[.*"),
            "ts LEVEL [thread] …: " + l);
        assertFalse(l.contains(" INFO ") && l.contains("] com.hazelcast."), "com.hazelcast=warn applies: " + l);
      }
      assertTrue(lines.stream().anyMatch(l -> l.contains(" INFO ") && l.contains("listening on 127.0.0.1:" + http)),
          child.stdout());
    } finally {
      p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void anUnknownLevelStopsTheNodeWithOneLine() throws Exception {
    MainProcessTest.Outcome o = MainProcessTest.launch(Map.of("SB_JWT_SECRET", TestNode.SECRET, "SB_LOG_LEVEL", "loud"))
        .await(Duration.ofSeconds(30));
    assertNotEquals(0, o.exit(), "exit code");
    MainProcessTest.assertOneCleanLine(o, "SB_LOG_LEVEL");
    o = MainProcessTest.launch(Map.of("SB_JWT_SECRET", TestNode.SECRET, "SB_LOG_LEVELS", "com.hazelcast"))
        .await(Duration.ofSeconds(30));
    assertNotEquals(0, o.exit(), "exit code");
    MainProcessTest.assertOneCleanLine(o, "SB_LOG_LEVELS");
  }
}
