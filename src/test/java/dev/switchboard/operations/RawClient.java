package dev.switchboard.operations;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.testsupport.RawWs;
import dev.switchboard.testsupport.WsClient;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A client on a raw socket that reads only when the test reads, and answers the node's pings (its
 * read acknowledgements) only while told to: what a stalled or reset client looks like to a node.
 */
final class RawClient implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final RawWs ws;
  final JsonNode connected;
  /** Its request ids start high: a WsClient resuming its session counts its own from 1. */
  private int nextId = 1000;

  private final boolean pongs;

  RawClient(int port, String uri) throws IOException {
    this(port, uri, true);
  }

  /** {@code pongs}: whether it answers the node's pings while it reads (its acknowledgements). */
  RawClient(int port, String uri, boolean pongs) throws IOException {
    this.pongs = pongs;
    ws = new RawWs(port, uri);
    connected = await(f -> "connected".equals(f.path("type").asText()), WsClient.WAIT);
  }

  int request(String method, ObjectNode params) {
    int id = ++nextId;
    ObjectNode env = JSON.createObjectNode().put("id", id).put("method", method);
    env.set("params", params);
    try {
      ws.sendText(env.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return id;
  }

  /** The next text frame matching, answering pings meanwhile; fails after the timeout. */
  JsonNode await(Predicate<JsonNode> p, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      assertTrue(left > 0, "no matching frame within " + timeout);
      JsonNode f = next(Duration.ofNanos(left));
      if (f != null && p.test(f)) {
        return f;
      }
    }
  }

  /** The next text frame (null when none came in time); pings are answered (if it answers), other control frames skipped. */
  private JsonNode next(Duration timeout) {
    try {
      RawWs.Frame f = ws.read(timeout);
      if (f == null) {
        return null;
      }
      if (f.opcode() == RawWs.PING) {
        if (pongs) {
          ws.send(RawWs.PONG, true, f.payload());
        }
        return null;
      }
      return f.opcode() == RawWs.TEXT ? JSON.readTree(f.text()) : null;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Reads (answering pings) until {@code done}, then neither reads nor answers any more. */
  void answerUntil(BooleanSupplier done, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!done.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "condition not reached within " + timeout);
      next(Duration.ofMillis(20));
    }
  }

  /**
   * Starts demo.count until one runs on a node {@code where} accepts (work goes round-robin over the
   * nodes); the others are cancelled through {@code watch} (same user).
   */
  OpFaultTest.Started startOn(WsClient watch, Predicate<String> where, int to, int intervalMs) {
    for (int i = 0; i < 20; i++) {
      int id = request("demo.count", WsClient.params().put("to", to).put("interval_ms", intervalMs + i));
      String opId = await(x -> x.path("id").asInt(-1) == id, WsClient.WAIT).get("op_id").asText();
      String node = watch.call("op.status", WsClient.params().put("op_id", opId)).at("/result/node_id").asText();
      if (where.test(node)) {
        return new OpFaultTest.Started(id, opId);
      }
      watch.call("op.cancel", WsClient.params().put("op_id", opId));
    }
    return fail("no operation ran where wanted");
  }

  /** Drops the TCP connection with a reset: unread frames are lost. */
  void abort() {
    ws.abort();
  }

  @Override
  public void close() {
    ws.close();
  }
}
