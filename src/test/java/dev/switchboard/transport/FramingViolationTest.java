package dev.switchboard.transport;

import dev.switchboard.api.Scrape;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.RawWs;
import dev.switchboard.testsupport.Tokens;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What each malformed frame gets (docs/protocol.md, Limits): every violation of RFC 6455 framing
 * closes with 1008, a frame over the limit with 1009, a close reason that is not UTF-8 with 1007
 * (the decoder said 1002 for the first kind, a code outside the contract's catalog); a client's own
 * valid close code is echoed. Found probing hostile frames for FrameFuzzTest; one connection per case.
 */
@Cluster(env = {
    "SB_CONNECT_RATE_PER_IP=100000", "SB_MAX_MESSAGE_BYTES=1024", "SB_LIMITS_MAX_FRAME_BYTES=4096"})
class FramingViolationTest {
  static Nodes nodes;
  static final byte[] PING_REQUEST = "{\"id\":1,\"method\":\"system.ping\"}".getBytes(StandardCharsets.UTF_8);

  static ClientFrame text(boolean fin, byte[] b) {
    return ClientFrame.of(RawWs.TEXT, fin, b);
  }

  static ClientFrame close(int code, byte[] reason) {
    return ClientFrame.of(RawWs.CLOSE, true, ClientFrame.closePayload(code, reason));
  }

  /** Malformed frames by name, each with the close code it must get. */
  static Map<String, Object[]> cases() {
    Map<String, Object[]> c = new LinkedHashMap<>();
    for (int rsv = 1; rsv < 8; rsv++) {
      c.put("reserved bits " + rsv + " on a text frame", new Object[] {1008, text(true, PING_REQUEST).withRsv(rsv)});
    }
    c.put("reserved bit on a continuation", new Object[] {1008, text(false, new byte[] {'{'}),
        ClientFrame.of(RawWs.CONTINUATION, true, new byte[] {'}'}).withRsv(4)});
    c.put("reserved bit on a ping", new Object[] {1008, ClientFrame.of(RawWs.PING, true, new byte[0]).withRsv(2)});
    c.put("reserved bit on a close", new Object[] {1008, close(1000, new byte[0]).withRsv(1)});
    for (int op : new int[] {3, 4, 5, 6, 7, 11, 12, 13, 14, 15}) {
      c.put("opcode " + op, new Object[] {1008, ClientFrame.of(op, true, PING_REQUEST)});
    }
    c.put("unmasked text frame", new Object[] {1008, text(true, PING_REQUEST).unmasked()});
    c.put("unmasked ping", new Object[] {1008, ClientFrame.of(RawWs.PING, true, new byte[] {1}).unmasked()});
    c.put("fragmented ping", new Object[] {1008, ClientFrame.of(RawWs.PING, false, new byte[] {1})});
    c.put("ping of 126 bytes", new Object[] {1008, ClientFrame.of(RawWs.PING, true, new byte[126])});
    c.put("close of 126 bytes", new Object[] {1008, ClientFrame.of(RawWs.CLOSE, true, ClientFrame.closePayload(1000, new byte[124]))});
    c.put("16-bit length for 31 bytes", new Object[] {1008, text(true, PING_REQUEST).declaring(-1, 16)});
    c.put("64-bit length for 31 bytes", new Object[] {1008, text(true, PING_REQUEST).declaring(-1, 64)});
    c.put("64-bit length with the top bit set", new Object[] {1008, text(true, new byte[0]).declaring(Long.MIN_VALUE + 31, 64)});
    c.put("continuation without a start", new Object[] {1008, ClientFrame.of(RawWs.CONTINUATION, true, PING_REQUEST)});
    c.put("text frame inside a fragmented message", new Object[] {1008, text(false, new byte[] {'{'}), text(true, PING_REQUEST)});
    c.put("binary frame inside a fragmented message", new Object[] {1008, text(false, new byte[] {'{'}),
        ClientFrame.of(RawWs.BINARY, true, PING_REQUEST)});
    c.put("close with a one-byte body", new Object[] {1008, ClientFrame.of(RawWs.CLOSE, true, new byte[] {3})});
    for (int code : new int[] {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999}) {
      c.put("close with code " + code, new Object[] {1008, close(code, new byte[0])});
    }
    c.put("close reason not UTF-8", new Object[] {1007, close(1000, new byte[] {(byte) 0xC3, 0x28})});
    c.put("a frame announcing 2^40 bytes", new Object[] {1009, text(true, new byte[0]).declaring(1L << 40, 64)});
    c.put("a frame announcing one byte over the limit", new Object[] {1009, text(true, new byte[0]).declaring(4097, 16)});
    for (int code : new int[] {1000, 1001, 1003, 1011, 3000, 4000, 4999}) {
      c.put("valid close code " + code + " is echoed", new Object[] {code, close(code, "bye".getBytes(StandardCharsets.UTF_8))});
    }
    c.put("close without a code is answered with 1000", new Object[] {1000, ClientFrame.of(RawWs.CLOSE, true, new byte[0])});
    return c;
  }

  @Test
  void eachMalformedFrameGetsItsCloseCodeAndTheNodeCountsIt() throws IOException {
    double before = Scrape.now(nodes.port(0), "sb_closes_total", "code=\"1008\"");
    Random r = new Random(11);
    List<String> wrong = new ArrayList<>();
    int policyCloses = 0;
    for (Map.Entry<String, Object[]> e : cases().entrySet()) {
      int expected = (Integer) e.getValue()[0];
      policyCloses += expected == 1008 ? 1 : 0;
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      for (int i = 1; i < e.getValue().length; i++) {
        bytes.writeBytes(((ClientFrame) e.getValue()[i]).bytes(r));
      }
      try (RawWs ws = RawFrames.open(nodes.port(0), Tokens.user("framer"))) {
        ws.writeRaw(bytes.toByteArray());
        int got = ws.awaitClose(Duration.ofSeconds(10)).closeCode();
        if (got != expected) {
          wrong.add(e.getKey() + ": " + got + " instead of " + expected);
        }
      }
    }
    assertTrue(wrong.isEmpty(), String.join("\n", wrong));
    int expectedCount = policyCloses;
    Scrape.until(() -> Scrape.now(nodes.port(0), "sb_closes_total", "code=\"1008\"") - before == expectedCount,
        Duration.ofSeconds(10), expectedCount + " closes with 1008 counted");
    assertEquals(expectedCount, Scrape.now(nodes.port(0), "sb_closes_total", "code=\"1008\"") - before, 0.0);
  }
}
