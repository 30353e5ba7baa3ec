package dev.switchboard.transport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testsupport.RawWs;

import java.io.IOException;
import java.time.Duration;

/** Reading JSON envelopes off a {@link RawWs}, skipping control frames, every wait bounded. */
final class RawFrames {
  static final ObjectMapper JSON = new ObjectMapper();

  private RawFrames() {
  }

  /** The next text frame as JSON; pings are answered, a close frame fails the test. */
  static JsonNode nextText(RawWs ws, Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError("no text frame within " + timeout);
      }
      RawWs.Frame f = ws.read(Duration.ofNanos(Math.max(1_000_000, left)));
      if (f == null) {
        continue;
      }
      switch (f.opcode()) {
        case RawWs.TEXT -> {
          if (!f.fin()) {
            throw new AssertionError("the server fragments its frames");
          }
          return JSON.readTree(f.payload());
        }
        case RawWs.PING -> ws.send(RawWs.PONG, true, f.payload());
        case RawWs.CLOSE -> throw new AssertionError("closed with " + f.closeCode() + " while waiting for a text frame");
        default -> {
          // pong or binary: not what is awaited
        }
      }
    }
  }

  /** The next text frame that is a terminal (result or error). */
  static JsonNode nextTerminal(RawWs ws, Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      JsonNode f = nextText(ws, Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime())));
      String t = f.path("type").asText();
      if (t.equals("result") || t.equals("error")) {
        return f;
      }
    }
  }

  /** Connects and reads the {@code connected} frame. */
  static RawWs open(int port, String token) throws IOException {
    RawWs ws = new RawWs(port, "/ws?token=" + token);
    if (ws.status != 101) {
      ws.close();
      throw new AssertionError("upgrade refused: " + ws.status);
    }
    JsonNode hello = nextText(ws, Duration.ofSeconds(10));
    if (!"connected".equals(hello.path("type").asText())) {
      ws.close();
      throw new AssertionError("first frame is not connected: " + hello);
    }
    return ws;
  }
}
