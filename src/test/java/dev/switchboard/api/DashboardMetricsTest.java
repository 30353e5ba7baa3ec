package dev.switchboard.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.Node;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Grafana board (deploy/grafana/switchboard.json) queries only metrics a node really exports:
 * a node does a little of everything (a client connects, subscribes, publishes, runs an operation, a
 * token is refused),
 * then every metric name in the board's PromQL must be a sample name in its /metrics.
 */
@Cluster
class DashboardMetricsTest {
  static final Path BOARD = Path.of("deploy/grafana/switchboard.json");
  private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left", "group_right",
      "offset", "bool", "and", "or", "unless", "inf", "nan");
  private static final Pattern IDENT = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  static Nodes nodes;

  @Test
  void everyMetricOnTheBoardIsExported() throws Exception {
    List<String> exprs = exprs(new ObjectMapper().readTree(Files.readString(BOARD)));
    assertTrue(exprs.size() >= 10, "the board has queries: " + exprs);
    Set<String> used = new TreeSet<>();
    for (String e : exprs) {
      Set<String> names = metricNames(e);
      assertTrue(!names.isEmpty(), "no metric in " + e);
      used.addAll(names);
    }
    Node node = nodes.node();
    Vertx vertx = nodes.vertx();
    try (WsClient pub = nodes.client(0, "pub", "chat:*")) {
      WsClient c = connect(vertx, node, null);
      String session = c.connected().get("session_id").asText();
      double handlers = Scrape.now(node.port(), "vertx_eventbus_handlers");
      assertEquals("result", c.call("topic.subscribe", WsClient.params().put("topic", "chat:board")).path("type").asText());
      // a topic opened here adds its bus consumer: the gauge is the node's total over addresses, not one address's
      Scrape.until(() -> Scrape.now(node.port(), "vertx_eventbus_handlers") > handlers, WsClient.WAIT,
          "vertx_eventbus_handlers counts the new topic's consumer");
      assertEquals(1, Scrape.now(node.port(), "sb_subscriptions"), "one subscription");
      publish(pub);
      c.await(f -> "event".equals(f.path("type").asText()), WsClient.WAIT);
      int id = c.request("demo.count", WsClient.params().put("to", 2).put("interval_ms", 0));
      JsonNode end = c.await(f -> f.path("id").asInt(-1) == id && WsClient.isTerminal(f), WsClient.WAIT);
      assertEquals("result", end.path("type").asText(), end.toString());
      c.socket().close((short) 1001); // a drop: the session stays for a resume
      c.awaitClose(WsClient.WAIT);
      c.close();
      publish(pub); // missed while away: the resume replays it
      try (WsClient again = connect(vertx, node, session);
           WsClient fresh = connect(vertx, node, "s_no_such_session")) {
        assertTrue(again.connected().get("resumed").asBoolean(), again.connected().toString());
        again.await(f -> "event".equals(f.path("type").asText()), WsClient.WAIT);
        assertTrue(!fresh.connected().get("resumed").asBoolean());
      }
      Scrape.until(() -> Scrape.now(node.port(), "sb_subscriptions") == 0, WsClient.WAIT, "no subscription left");
      Scrape.until(() -> Scrape.now(node.port(), "sb_operations_ended_total", "outcome=\"done\"") >= 1,
          WsClient.WAIT, "the operation's terminal is counted");
      // the refusal series (by reason, by status) appear with their first refusal
      assertEquals(401, WsClient.open(vertx, node.port(), "/ws?token=not-a-jwt", Map.of(), null).status());
      // the JVM's GC pause timer appears with its first collection, which a fresh JVM may not have had
      // yet (the CI run of the merge: jvm_gc_pause_seconds_sum missing)
      System.gc();
      Scrape.until(() -> Scrape.metrics(node.port()).contains("jvm_gc_pause_seconds_count"), WsClient.WAIT,
          "a collection is recorded");
      String text = Scrape.metrics(node.port());
      Files.writeString(Path.of("target/board-scrape.txt"), text); // to read when the check fails
      assertEquals(2, Scrape.value(text, "sb_publications_total", "namespace=\"chat\""), "publications by namespace");
      // the first live delivery; the second publication may still find the dropped socket listed (it leaves asynchronously)
      assertTrue(Scrape.value(text, "sb_deliveries_total", "namespace=\"chat\"") >= 1, "live deliveries by namespace");
      assertTrue(Scrape.value(text, "sb_operations_started_total") >= 1, "operations started");
      assertEquals(0, Scrape.value(text, "sb_operations_running"), "none running after its terminal");
      assertEquals(0, Scrape.value(text, "sb_operations_queued"), "none queued");
      assertTrue(Scrape.value(text, "sb_operation_duration_seconds_count") >= 1, "operation duration");
      assertEquals(1, Scrape.value(text, "sb_cluster_members"), "one member");
      assertEquals(1, Scrape.value(text, "sb_session_resumes_total", "result=\"resumed\""), "resumed");
      assertEquals(1, Scrape.value(text, "sb_session_resumes_total", "result=\"not_resumed\""), "not resumed");
      assertTrue(Scrape.value(text, "sb_replays_total") >= 1, "the resume replayed");
      Set<String> exported = new TreeSet<>();
      for (String line : text.split("\n")) {
        Matcher m = IDENT.matcher(line);
        if (!line.startsWith("#") && m.lookingAt()) {
          exported.add(m.group());
        }
      }
      Set<String> missing = new TreeSet<>(used);
      missing.removeAll(exported);
      assertTrue(missing.isEmpty(), "the board uses metrics the node does not export: " + missing);
    }
  }

  private static WsClient connect(Vertx vertx, Node node, String session) {
    return WsClient.open(vertx, node.port(), "/ws?token=" + Tokens.user("alice", "chat:*")
        + (session == null ? "" : "&session_id=" + session), Map.of(), null).ok();
  }

  private static void publish(WsClient pub) {
    JsonNode r = pub.call("topic.publish", WsClient.params().put("topic", "chat:board")
        .set("data", WsClient.params().put("k", 1)));
    assertEquals("result", r.path("type").asText(), r.toString());
  }

  @Test
  void namesAreParsedOutOfPromQl() {
    assertEquals(Set.of("a_total", "b_seconds_bucket"), metricNames(
        "sum by (code) (rate(a_total{code=~\"40.*\", x=\"y\"}[5m])) / on(le) histogram_quantile(0.99, "
            + "sum by (le) (rate(b_seconds_bucket[$__rate_interval]))) * 1e3"));
  }

  static List<String> exprs(JsonNode n) {
    List<String> out = new ArrayList<>();
    if (n.isObject()) {
      n.fields().forEachRemaining(f -> {
        if (f.getKey().equals("expr") && f.getValue().isTextual()) {
          out.add(f.getValue().asText());
        } else {
          out.addAll(exprs(f.getValue()));
        }
      });
    } else if (n.isArray()) {
      n.forEach(x -> out.addAll(exprs(x)));
    }
    return out;
  }

  /** Identifiers that are neither functions (followed by "("), keywords, label names nor durations. */
  static Set<String> metricNames(String expr) {
    String s = expr.replaceAll("\"(\\\\.|[^\"\\\\])*\"", "\"\"") // string literals
        .replaceAll("\\{[^}]*}", " ") // label matchers
        .replaceAll("\\[[^]]*]", " ") // ranges
        .replaceAll("(?i)\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " "); // label lists
    Set<String> names = new TreeSet<>();
    Matcher m = IDENT.matcher(s);
    while (m.find()) {
      String id = m.group();
      int end = m.end();
      while (end < s.length() && s.charAt(end) == ' ') {
        end++;
      }
      boolean function = end < s.length() && s.charAt(end) == '(';
      boolean number = m.start() > 0 && Character.isDigit(s.charAt(m.start() - 1));
      if (!function && !number && !KEYWORDS.contains(id.toLowerCase())) {
        names.add(id);
      }
    }
    return names;
  }
}
