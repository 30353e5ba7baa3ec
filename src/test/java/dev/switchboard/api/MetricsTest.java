package dev.switchboard.api;

import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Http;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.WsClient;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** GET /metrics: Prometheus text with the node's own series, moving with activity. */
@Cluster
class MetricsTest {
  static final Duration WAIT = Duration.ofSeconds(10);
  static Nodes nodes;

  private static double now(String name, String... labels) {
    return Scrape.now(nodes.port(0), name, labels);
  }

  @Test
  void metricsIsPrometheusTextWithTheNodeSeries() {
    HttpResponse<String> r = Http.get(nodes.port(0), "/metrics");
    assertEquals(200, r.statusCode());
    assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/plain"),
        r.headers().toString());
    String text = r.body();
    assertTrue(text.contains("# TYPE sb_connections gauge"), "sb_connections is a gauge");
    assertTrue(text.contains("# TYPE sb_frames_in_total counter"));
    assertTrue(text.contains("# TYPE sb_frames_out_total counter"));
    assertFalse(Double.isNaN(Scrape.value(text, "sb_connections")));
    assertFalse(Double.isNaN(Scrape.value(text, "sb_frames_in_total")));
    assertFalse(Double.isNaN(Scrape.value(text, "sb_frames_out_total")));
    for (String code : new String[] {"INVALID_REQUEST", "UNKNOWN_METHOD", "RATE_LIMITED", "MESSAGE_TOO_LARGE"}) {
      assertFalse(Double.isNaN(Scrape.value(text, "sb_errors_total", "code=\"" + code + "\"")), code);
    }
    // every sample line is "name{labels} value"
    for (String line : text.split("\n")) {
      if (!line.isEmpty() && !line.startsWith("#")) {
        assertTrue(line.matches("[a-zA-Z_:][a-zA-Z0-9_:]*(\\{.*\\})? \\S+"), "not a sample line: " + line);
      }
    }
  }

  @Test
  void countersMoveWithActivity() {
    double framesIn = now("sb_frames_in_total");
    double framesOut = now("sb_frames_out_total");
    double unknown = now("sb_errors_total", "code=\"UNKNOWN_METHOD\"");
    double invalid = now("sb_errors_total", "code=\"INVALID_REQUEST\"");
    try (WsClient c = nodes.client(0, "alice")) {
      Scrape.until(() -> now("sb_connections") >= 1, WAIT, "sb_connections counts the open socket");
      assertEquals("result", c.call("system.ping", null).get("type").asText());
      assertEquals("UNKNOWN_METHOD", c.call("no.such", null).at("/error/code").asText());
      c.send("not json");
      assertEquals("INVALID_REQUEST", c.await(WsClient::isTerminal, WAIT).at("/error/code").asText());

      assertTrue(now("sb_frames_in_total") >= framesIn + 3, "frames in");
      // connected + 3 replies
      assertTrue(now("sb_frames_out_total") >= framesOut + 4, "frames out");
      assertEquals(unknown + 1, now("sb_errors_total", "code=\"UNKNOWN_METHOD\""));
      assertEquals(invalid + 1, now("sb_errors_total", "code=\"INVALID_REQUEST\""));
    }
    Scrape.until(() -> now("sb_connections") == 0, WAIT, "sb_connections back to 0 after the close");
  }

  /**
   * Every live publication written to a subscriber is one sample of sb_publish_deliver_seconds: one
   * subscriber (so one event loop) and N publications add exactly N to the count, the +Inf bucket
   * agrees, and the time lies between 0 and the test's own wall time for them.
   */
  @Test
  void publicationsWrittenToASubscriberFillThePublishDeliverHistogram() {
    int n = 25;
    double count = now("sb_publish_deliver_seconds_count");
    double sum = now("sb_publish_deliver_seconds_sum");
    try (WsClient sub = nodes.client(0, "alice", "chat:*");
         WsClient pub = nodes.client(0, "alice", "chat:*")) {
      assertEquals("result", sub.call("topic.subscribe", WsClient.params().put("topic", "chat:latency"))
          .path("type").asText());
      long start = System.nanoTime();
      for (int i = 0; i < n; i++) {
        pub.request("topic.publish", WsClient.params().put("topic", "chat:latency").set("data", WsClient.params().put("i", i)));
      }
      for (int i = 0; i < n; i++) {
        JsonNode e = sub.await(f -> "event".equals(f.path("type").asText()), WAIT);
        assertEquals(i, e.at("/data/i").asInt(), e.toString());
      }
      double elapsedS = (System.nanoTime() - start) / 1e9;
      // the loop records right after writing the frames, before this client can read them
      String text = Scrape.metrics(nodes.port(0));
      assertEquals(count + n, Scrape.value(text, "sb_publish_deliver_seconds_count"), "one sample per publication");
      assertEquals(count + n, Scrape.value(text, "sb_publish_deliver_seconds_bucket", "le=\"+Inf\""));
      double added = Scrape.value(text, "sb_publish_deliver_seconds_sum") - sum;
      assertTrue(added >= 0 && added <= n * (elapsedS + 0.01), "sum of " + n + " latencies: " + added + " s");
      assertTrue(text.contains("# TYPE sb_publish_deliver_seconds histogram"), "a Prometheus histogram");
    }
  }

  @Test
  void refusedUpgradeCountsAnAuthFailureAndARejection() {
    double failures = now("sb_auth_failures_total");
    double rejected401 = now("sb_upgrade_rejections_total", "status=\"401\"");
    WsClient.Upgrade bad = nodes.open(0, "/ws?token=not-a-jwt", Map.of(), null);
    assertEquals(401, bad.status());
    WsClient.Upgrade none = nodes.open(0, "/ws", Map.of(), null);
    assertEquals(401, none.status());
    String text = Scrape.metrics(nodes.port(0));
    assertTrue(text.contains("sb_auth_failures_total{"), "sb_auth_failures_total is exposed");
    assertEquals(failures + 2, Scrape.value(text, "sb_auth_failures_total"));
    assertEquals(rejected401 + 2, Scrape.value(text, "sb_upgrade_rejections_total", "status=\"401\""));
    assertEquals(0, now("sb_connections"), "a refused upgrade holds no connection slot");
  }
}
