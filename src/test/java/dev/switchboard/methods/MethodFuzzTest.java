package dev.switchboard.methods;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.api.Scrape;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.FrameCodec;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Gen;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.SevereLog;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every method the node lists (system.methods), called with generated params built from its own
 * description: edge values, wrong types, unknown params, nested objects, on a JSON and a CBOR
 * connection. Each request gets exactly one terminal, never INTERNAL, an INVALID_PARAMS always names
 * its field; operations that start are cancelled at once. Seed printed ({@code -Dfuzz.seed}),
 * {@code -Dfuzz.requests} sizes the run; up to {@link #WINDOW} requests are in flight per connection.
 */
@Cluster(env = {"SB_RATE_PER_SEC=1000000", "SB_RATE_BURST=1000000"})
class MethodFuzzTest {
  static final long SEED = Long.getLong("fuzz.seed", System.nanoTime());
  static final int REQUESTS = Integer.getInteger("fuzz.requests", 2000);
  static final Duration WAIT = Duration.ofSeconds(10);
  /**
   * Requests in flight per connection ({@code -Dfuzz.window}, 1: one at a time). An op.attach of an
   * op_id the registry does not know answers UNKNOWN_OPERATION only after 2 s (OpAttach): one at a
   * time, the ~1 in 20 requests that are such attaches made the run take ~100 s.
   */
  static final int WINDOW = Integer.getInteger("fuzz.window", 4);
  static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  static final Set<String> CODES = java.util.Arrays.stream(ErrorCode.values()).map(Enum::name)
      .collect(java.util.stream.Collectors.toSet());
  static Nodes nodes;

  @Test
  void everyMethodWithGeneratedParamsGetsOneTerminalAndNeverInternal() {
    System.out.printf("MethodFuzzTest: seed %d, %d requests (replay: -Dfuzz.seed=%d)%n", SEED, REQUESTS, SEED);
    Random r = new Random(SEED);
    double internalBefore = Scrape.now(nodes.port(0), "sb_errors_total", "code=\"INTERNAL\"");
    String token = Tokens.user("mf", "chat:*", "user:*");
    Map<String, Integer> outcomes = new TreeMap<>();
    try (SevereLog severe = SevereLog.install();
         WsClient json = nodes.connect(0, token);
         WsClient cbor = nodes.open(0, "/ws?token=" + token, Map.of(), FrameCodec.CBOR_SUBPROTOCOL).ok()) {
      JsonNode methods = json.call("system.methods", null).at("/result/methods");
      assertTrue(methods.size() > 10, methods.toString());
      Map<WsClient, InFlight> inFlight = new java.util.IdentityHashMap<>();
      inFlight.put(json, new InFlight(json));
      inFlight.put(cbor, new InFlight(cbor));
      for (int i = 1; i <= REQUESTS; i++) {
        JsonNode m = methods.get(r.nextInt(methods.size()));
        WsClient c = r.nextBoolean() ? json : cbor;
        ObjectNode env = NODES.objectNode().put("id", "m" + i).put("method", m.get("name").asText());
        env.set("params", params(r, m.get("params"), 0));
        InFlight on = inFlight.get(c);
        on.send(env, m.get("name").asText(), "seed " + SEED + ", request " + i + ": " + env);
        while (on.requests.size() >= WINDOW) {
          on.readOne(outcomes);
        }
      }
      for (InFlight on : inFlight.values()) {
        while (!on.requests.isEmpty()) {
          on.readOne(outcomes);
        }
        // nothing owed is left over: a second terminal would show here
        on.send(NODES.objectNode().put("id", "last").put("method", "system.ping"), null, "seed " + SEED + ", the last ping");
        while (!on.requests.isEmpty()) {
          on.readOne(outcomes);
        }
      }
      assertEquals(List.of(), severe.records(), "SEVERE log lines on the node (seed " + SEED + ")");
    }
    System.out.println("MethodFuzzTest: outcomes " + outcomes);
    assertEquals(internalBefore, Scrape.now(nodes.port(0), "sb_errors_total", "code=\"INTERNAL\""), 0.0, "INTERNAL errors");
  }

  /** A request sent and not yet answered: what to report, the method, when its terminal is due. */
  private record Request(String where, String method, long dueNanos) {
  }

  /**
   * The requests in flight on one connection, at most {@link #WINDOW}. Each must get its terminal within
   * {@link #WAIT} of being sent; a terminal of a request not in flight (a second one, or one never asked
   * for) fails the test. An operation that starts is cancelled at once (its first frame carries op_id),
   * so that no request runs for long.
   */
  private static final class InFlight {
    final WsClient c;
    final Map<String, Request> requests = new java.util.LinkedHashMap<>();
    final Set<String> cancelled = new java.util.HashSet<>();

    InFlight(WsClient c) {
      this.c = c;
    }

    void send(ObjectNode env, String method, String where) {
      c.sendEnvelope(env);
      requests.put(env.get("id").asText(), new Request(where, method, System.nanoTime() + WAIT.toNanos()));
    }

    /** Reads and checks one frame; records the outcome when it is a terminal. */
    void readOne(Map<String, Integer> outcomes) {
      Request oldest = requests.values().iterator().next();
      long left = oldest.dueNanos() - System.nanoTime();
      JsonNode f = c.poll(Duration.ofNanos(Math.max(1, left)));
      if (f == null) {
        throw new AssertionError(oldest.where() + " -> no terminal within " + WAIT);
      }
      String type = f.path("type").asText();
      String fid = f.path("id").asText();
      Request req = requests.get(fid);
      String where = req != null ? req.where() : "seed " + SEED + ", frame";
      if (type.equals("error")) {
        String code = f.at("/error/code").asText();
        assertTrue(CODES.contains(code) && !code.equals("INTERNAL"), where + " -> " + f);
        if (code.equals("INVALID_PARAMS")) {
          assertTrue(f.at("/error/details/field").isTextual(), where + " -> INVALID_PARAMS without details.field " + f);
        }
      }
      boolean terminal = type.equals("result") || type.equals("error");
      if (terminal && !fid.startsWith("cancel-")) {
        if (requests.remove(fid) == null) {
          throw new AssertionError("seed " + SEED + ": a terminal of no request in flight (a second one?): " + f
              + "; in flight: " + requests.keySet());
        }
        if (req.method() != null) {
          outcomes.merge(req.method() + " " + (type.equals("result") ? "result" : f.at("/error/code").asText()), 1,
              Integer::sum);
        }
      } else if (!terminal && req != null && f.hasNonNull("op_id") && cancelled.add(fid)) {
        c.sendEnvelope(NODES.objectNode().put("id", "cancel-" + fid).put("method", "op.cancel")
            .set("params", NODES.objectNode().put("op_id", f.get("op_id").asText())));
      }
    }
  }

  /** Params from a method's description ({name: "type" | "type?" ..., nested: {_type, ...}}, "*": anything). */
  static ObjectNode params(Random r, JsonNode described, int depth) {
    ObjectNode out = NODES.objectNode();
    for (Iterator<Map.Entry<String, JsonNode>> it = described.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> p = it.next();
      String name = p.getKey();
      if (name.equals("_type")) {
        continue;
      }
      if (name.equals("*")) {
        JsonNode any = Gen.tree(r, 2);
        if (any.isObject()) {
          out.setAll((ObjectNode) any);
        }
        continue;
      }
      String type = p.getValue().isObject() ? p.getValue().path("_type").asText() : p.getValue().asText();
      boolean optional = type.contains("?");
      if (r.nextInt(optional ? 2 : 10) == 0) {
        continue; // left out
      }
      out.set(name, r.nextInt(10) == 0 ? wrong(r) : value(r, name, type, p.getValue(), depth));
    }
    if (r.nextInt(12) == 0) {
      out.put(Gen.pick(r, "extra", "topics", "Topic", "limit_", ""), 1);
    }
    return out;
  }

  private static JsonNode value(Random r, String name, String type, JsonNode described, int depth) {
    if (type.startsWith("object")) {
      return depth < 2 ? params(r, described, depth + 1) : NODES.objectNode();
    }
    if (type.startsWith("integer")) {
      return r.nextInt(4) == 0 ? NODES.numberNode(BigInteger.ONE.shiftLeft(Gen.between(r, 62, 70)))
          : NODES.numberNode(Gen.pick(r, 0L, 1L, -1L, 2L, 5L, 100L, 1000L, 1001L, 10_000L, 1_000_000L, 1_000_001L,
          1_000_000_000_000L, Long.MAX_VALUE, Long.MIN_VALUE, (long) r.nextInt(50)));
    }
    if (type.startsWith("boolean")) {
      return NODES.booleanNode(r.nextBoolean());
    }
    if (type.startsWith("string")) {
      return NODES.textNode(switch (name) {
        case "topic" -> Gen.pick(r, "chat:" + Gen.string(r, "ab", 3), "user:mf", "user:other", "news:x", "chat:", "a b",
            "chat:" + "x".repeat(196), "x".repeat(201), "user:mf:x", "", "ü");
        case "token" -> Gen.pick(r, "a.b.c", "", Tokens.user("mf", "chat:*"), Tokens.user("other"), "x".repeat(9000),
            Tokens.unsigned(Tokens.claims("mf", 60)));
        case "op_id" -> Gen.pick(r, "op_" + Gen.string(r, "abc123", 10), "", "x".repeat(65));
        case "epoch" -> Gen.pick(r, "", "e", "\"", "x".repeat(64), Gen.unicode(r, 10));
        case "device_id" -> Gen.pick(r, "d_1", "", "bad id", "x".repeat(129), Gen.unicode(r, 5));
        default -> Gen.unicode(r, 20);
      });
    }
    JsonNode any = Gen.tree(r, 3);
    return r.nextInt(20) == 0 ? NODES.textNode("x".repeat(Gen.between(r, 1000, 60_000))) : any;
  }

  private static JsonNode wrong(Random r) {
    return Gen.pick(r, NODES.nullNode(), NODES.textNode("1"), NODES.numberNode(1.5), NODES.booleanNode(true),
        NODES.arrayNode().add(1), NODES.objectNode().put("k", "v"), NODES.numberNode(BigInteger.TEN.pow(30)));
  }
}
