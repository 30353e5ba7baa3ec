package dev.switchboard.transport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.protocol.FrameCodec;
import dev.switchboard.testsupport.RawWs;

import java.io.IOException;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Predicate;

/**
 * One fuzzer connection on a raw socket, JSON or CBOR: writes a case's bytes and reads what the
 * node sent back until a given frame, a close frame or the end of the stream, every wait bounded.
 */
final class FuzzConnection implements AutoCloseable {
  static final Duration WAIT = Duration.ofSeconds(10);

  final RawWs ws;
  final boolean cbor;
  private final Random random;
  private int sentinels;

  /** What the node sent: terminals (the stop frame excluded), pong payloads, the close code, oddities. */
  static final class Observed {
    final List<JsonNode> terminals = new ArrayList<>();
    final List<byte[]> pongs = new ArrayList<>();
    final List<String> oddities = new ArrayList<>();
    Integer closeCode;
    boolean eof;
    JsonNode stop;
  }

  private FuzzConnection(RawWs ws, boolean cbor, Random random) {
    this.ws = ws;
    this.cbor = cbor;
    this.random = random;
  }

  /** Connects (JSON: with or without the subprotocol offered) and reads the {@code connected} frame. */
  static FuzzConnection open(int port, String token, boolean cbor, Random random) throws IOException {
    String offer = cbor ? FrameCodec.CBOR_SUBPROTOCOL : random.nextBoolean() ? FrameCodec.JSON_SUBPROTOCOL : null;
    RawWs ws = new RawWs(port, "/ws?token=" + token, 0, offer);
    if (ws.status != 101) {
      ws.close();
      throw new AssertionError("upgrade refused: " + ws.status);
    }
    FuzzConnection c = new FuzzConnection(ws, cbor, random);
    Observed hello = c.read(f -> "connected".equals(f.path("type").asText()), true);
    if (hello.stop == null || !hello.oddities.isEmpty()) {
      ws.close();
      throw new AssertionError("no connected frame: " + hello.oddities + " close " + hello.closeCode);
    }
    return c;
  }

  /** Sends a system.ping in this connection's format; returns its id. */
  String sendSentinel() throws IOException {
    String id = "sentinel-" + (++sentinels);
    ObjectNode env = FuzzCases.JSON.createObjectNode().put("id", id).put("method", "system.ping");
    byte[] payload = cbor ? FuzzCases.CBOR.writeValueAsBytes(env) : FuzzCases.JSON.writeValueAsBytes(env);
    ws.writeRaw(ClientFrame.of(cbor ? RawWs.BINARY : RawWs.TEXT, true, payload).bytes(random));
    return id;
  }

  /**
   * Reads until a frame {@code stop} accepts, a close frame or the end of the stream. Pings of the
   * node are answered only while {@code answerPings} (a connection about to be closed by the node
   * must not race its close with a write: the node's reset could discard its close frame).
   */
  Observed read(Predicate<JsonNode> stop, boolean answerPings) throws IOException {
    Observed o = new Observed();
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        o.oddities.add("nothing more within " + WAIT);
        return o;
      }
      RawWs.Frame f;
      try {
        f = ws.read(Duration.ofNanos(left));
      } catch (java.io.EOFException | SocketException gone) {
        o.eof = true;
        return o;
      }
      if (f == null) {
        continue;
      }
      switch (f.opcode()) {
        case RawWs.TEXT, RawWs.BINARY -> {
          if (!f.fin()) {
            o.oddities.add("a fragmented frame from the node");
          }
          if ((f.opcode() == RawWs.BINARY) != cbor) {
            o.oddities.add("a " + (cbor ? "text" : "binary") + " frame on a " + (cbor ? "CBOR" : "JSON") + " connection");
          }
          JsonNode doc = decode(f);
          if (doc == null) {
            o.oddities.add("an undecodable frame");
          } else if (stop.test(doc)) {
            o.stop = doc;
            return o;
          } else if (doc.path("type").asText().matches("result|error")) {
            o.terminals.add(doc);
          } else {
            o.oddities.add("an unexpected frame " + doc);
          }
        }
        case RawWs.PING -> {
          if (answerPings) {
            ws.send(RawWs.PONG, true, f.payload());
          }
        }
        case RawWs.PONG -> o.pongs.add(f.payload());
        case RawWs.CLOSE -> {
          o.closeCode = f.closeCode();
          return o;
        }
        default -> o.oddities.add("opcode " + f.opcode() + " from the node");
      }
    }
  }

  private static JsonNode decode(RawWs.Frame f) {
    try {
      return (f.opcode() == RawWs.BINARY ? FuzzCases.CBOR : FuzzCases.JSON).readTree(f.payload());
    } catch (IOException e) {
      return null;
    }
  }

  @Override
  public void close() {
    ws.close();
  }
}
