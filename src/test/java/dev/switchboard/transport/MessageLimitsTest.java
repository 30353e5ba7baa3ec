package dev.switchboard.transport;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.RawWs;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Size limits (PROTOCOL.md section 3): a message over max_message_bytes is a MESSAGE_TOO_LARGE error
 * and the connection stays; a frame or a reassembled message over the frame limit closes 1009;
 * invalid UTF-8 in a text message closes 1007.
 */
@Cluster(env = {"SB_MAX_MESSAGE_BYTES=" + MessageLimitsTest.MAX_MESSAGE, "SB_LIMITS_MAX_FRAME_BYTES=" + MessageLimitsTest.MAX_FRAME})
class MessageLimitsTest {
  static final int MAX_MESSAGE = 1024;
  static final int MAX_FRAME = 4096;
  static final Duration WAIT = Duration.ofSeconds(10);
  static Nodes nodes;

  private static String token() {
    return Tokens.user("alice");
  }

  /** A ping envelope padded with an (unknown) param to exactly {@code size} bytes. */
  private static String padded(int id, int size) {
    String head = "{\"id\":" + id + ",\"method\":\"system.ping\",\"params\":{\"pad\":\"";
    String tail = "\"}}";
    return head + "x".repeat(size - head.length() - tail.length()) + tail;
  }

  private static byte[] bytes(int n, char c) {
    byte[] b = new byte[n];
    Arrays.fill(b, (byte) c);
    return b;
  }

  @Test
  void messageOverMaxMessageBytesGetsMessageTooLargeAndTheConnectionStays() {
    try (WsClient c = nodes.connect(0, token())) {
      // exactly at the limit: read and validated (the pad param is unknown, so INVALID_PARAMS)
      String atLimit = padded(1, MAX_MESSAGE);
      assertEquals(MAX_MESSAGE, atLimit.getBytes(StandardCharsets.UTF_8).length);
      c.send(atLimit);
      JsonNode ok = c.await(WsClient::isTerminal, WAIT);
      assertEquals("INVALID_PARAMS", ok.at("/error/code").asText(), ok.toString());
      assertEquals(1, ok.get("id").asInt());

      // one byte over, and well over (still under the frame limit): MESSAGE_TOO_LARGE
      for (int size : new int[] {MAX_MESSAGE + 1, MAX_FRAME - 100}) {
        c.send(padded(2, size));
        JsonNode r = c.await(WsClient::isTerminal, WAIT);
        assertEquals("error", r.get("type").asText());
        assertEquals("MESSAGE_TOO_LARGE", r.at("/error/code").asText(), r.toString());
        assertFalse(r.at("/error/retryable").asBoolean());
      }
      JsonNode ping = c.call("system.ping", null);
      assertEquals("result", ping.get("type").asText());
      assertFalse(c.isClosed());
    }
  }

  @Test
  void singleFrameOverTheFrameLimitClosesWith1009() throws Exception {
    try (RawWs ws = RawFrames.open(nodes.port(0), token())) {
      ws.sendHeader(RawWs.TEXT, true, MAX_FRAME + 1000);
      ws.flush();
      assertEquals(1009, ws.awaitClose(WAIT).closeCode());
    }
  }

  @Test
  void fragmentedMessagePastTheFrameLimitClosesWith1009() throws Exception {
    try (RawWs ws = RawFrames.open(nodes.port(0), token())) {
      // every frame is under the frame limit; their sum is not
      ws.send(RawWs.TEXT, false, bytes(MAX_FRAME - 1000, 'a'));
      ws.send(RawWs.CONTINUATION, false, bytes(MAX_FRAME - 1000, 'b'));
      assertEquals(1009, ws.awaitClose(WAIT).closeCode());
    }
  }

  @Test
  void fragmentedMessageBetweenTheLimitsGetsMessageTooLargeAndTheConnectionStays() throws Exception {
    try (RawWs ws = RawFrames.open(nodes.port(0), token())) {
      byte[] whole = padded(3, MAX_MESSAGE + 500).getBytes(StandardCharsets.UTF_8);
      int half = whole.length / 2;
      ws.send(RawWs.TEXT, false, Arrays.copyOfRange(whole, 0, half));
      ws.send(RawWs.CONTINUATION, true, Arrays.copyOfRange(whole, half, whole.length));
      JsonNode r = RawFrames.nextTerminal(ws, WAIT);
      assertEquals("MESSAGE_TOO_LARGE", r.at("/error/code").asText(), r.toString());

      ws.sendText("{\"id\":4,\"method\":\"system.ping\"}");
      JsonNode ping = RawFrames.nextTerminal(ws, WAIT);
      assertEquals("result", ping.get("type").asText(), ping.toString());
      assertEquals(4, ping.get("id").asInt());
    }
  }

  @Test
  void fragmentedMessageUnderTheLimitIsReassembledEvenAcrossAMultiByteCharacter() throws Exception {
    try (RawWs ws = RawFrames.open(nodes.port(0), token())) {
      byte[] whole = "{\"id\":\"é-1\",\"method\":\"system.ping\"}".getBytes(StandardCharsets.UTF_8);
      int split = 8; // inside the two bytes of é (bytes 7 and 8)
      assertEquals((byte) 0xC3, whole[7]);
      ws.send(RawWs.TEXT, false, Arrays.copyOfRange(whole, 0, split));
      ws.send(RawWs.CONTINUATION, false, Arrays.copyOfRange(whole, split, split + 10));
      ws.send(RawWs.CONTINUATION, true, Arrays.copyOfRange(whole, split + 10, whole.length));
      JsonNode r = RawFrames.nextTerminal(ws, WAIT);
      assertEquals("result", r.get("type").asText(), r.toString());
      assertEquals("é-1", r.get("id").asText());
    }
  }

  @Test
  void invalidUtf8InATextFrameClosesWith1007() throws Exception {
    try (RawWs ws = RawFrames.open(nodes.port(0), token())) {
      byte[] prefix = "{\"id\":\"".getBytes(StandardCharsets.US_ASCII);
      byte[] suffix = "\",\"method\":\"system.ping\"}".getBytes(StandardCharsets.US_ASCII);
      byte[] bad = {(byte) 0xC3, (byte) 0x28}; // a lead byte followed by a non-continuation byte
      byte[] msg = new byte[prefix.length + bad.length + suffix.length];
      System.arraycopy(prefix, 0, msg, 0, prefix.length);
      System.arraycopy(bad, 0, msg, prefix.length, bad.length);
      System.arraycopy(suffix, 0, msg, prefix.length + bad.length, suffix.length);
      ws.send(RawWs.TEXT, true, msg);
      RawWs.Frame close = ws.awaitClose(WAIT);
      assertEquals(1007, close.closeCode());
    }
  }

  @Test
  void invalidUtf8SplitAcrossFragmentsClosesWith1007() throws Exception {
    try (RawWs ws = RawFrames.open(nodes.port(0), token())) {
      ws.send(RawWs.TEXT, false, "{\"id\":\"a".getBytes(StandardCharsets.US_ASCII));
      // a truncated three-byte sequence at the end of the message
      ws.send(RawWs.CONTINUATION, true, new byte[] {'"', '}', (byte) 0xE2, (byte) 0x82});
      assertEquals(1007, ws.awaitClose(WAIT).closeCode());
    }
  }
}
