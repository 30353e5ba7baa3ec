package dev.switchboard.transport;

import io.vertx.core.http.WebSocketFrameType;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static dev.switchboard.transport.ReassemblyProperties.HARD;
import static dev.switchboard.transport.ReassemblyProperties.SOFT;
import static dev.switchboard.transport.ReassemblyProperties.frame;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Message reassembly, case by case (the generated streams are ReassemblyProperties'): no node, no socket. */
class ReassemblyTest {
  final ReassemblyProperties.Recorder sink = new ReassemblyProperties.Recorder();
  final Reassembly r = new Reassembly(SOFT, HARD, sink);

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static byte[] bytes(int n) {
    return new byte[n];
  }

  @Test
  void aWholeFrameIsOneMessageOfItsKind() {
    r.frame(frame(WebSocketFrameType.TEXT, bytes("ab"), true));
    r.frame(frame(WebSocketFrameType.BINARY, new byte[] {1, 2}, true));
    assertEquals(List.of("text [97, 98]", "binary [1, 2]"), sink.verdicts);
    assertEquals(0, r.keptBytes());
  }

  @Test
  void fragmentsJoinInOrderWithPingsBetweenThemChangingNothing() {
    r.frame(frame(WebSocketFrameType.BINARY, new byte[] {1}, false));
    r.frame(frame(WebSocketFrameType.PING, new byte[] {9}, true));
    r.frame(frame(WebSocketFrameType.CONTINUATION, new byte[] {}, false));
    r.frame(frame(WebSocketFrameType.PONG, new byte[] {9}, true));
    r.frame(frame(WebSocketFrameType.CONTINUATION, new byte[] {2, 3}, true));
    assertEquals(List.of("binary [1, 2, 3]"), sink.verdicts);
  }

  @Test
  void aFragmentedMessageOfExactlyTheSoftLimitPassesAndOneByteMoreIsTooLargeWithItsSize() {
    r.frame(frame(WebSocketFrameType.TEXT, bytes(SOFT - 1), false));
    r.frame(frame(WebSocketFrameType.CONTINUATION, bytes(1), true));
    assertEquals(1, sink.verdicts.size());
    r.frame(frame(WebSocketFrameType.TEXT, bytes(SOFT), false));
    r.frame(frame(WebSocketFrameType.CONTINUATION, bytes(1), false));
    assertEquals(SOFT, r.keptBytes(), "past the soft limit nothing more is kept");
    r.frame(frame(WebSocketFrameType.CONTINUATION, bytes(0), true));
    assertEquals("too large " + (SOFT + 1), sink.verdicts.get(1));
    assertEquals(0, r.keptBytes());
  }

  @Test
  void passingTheHardLimitClosesWith1009AtThatFrame() {
    r.frame(frame(WebSocketFrameType.TEXT, bytes(HARD), false));
    assertEquals(List.of(), sink.verdicts, "at the hard limit: still open");
    r.frame(frame(WebSocketFrameType.CONTINUATION, bytes(1), false));
    assertEquals(List.of("close 1009"), sink.verdicts);
    assertEquals(0, r.keptBytes());
  }

  @Test
  void aContinuationWithoutAStartClosesWith1008() {
    r.frame(frame(WebSocketFrameType.CONTINUATION, bytes("x"), true));
    assertEquals(List.of("close 1008"), sink.verdicts);
  }

  @Test
  void aNewMessageInsideAFragmentedOneClosesWith1008() {
    r.frame(frame(WebSocketFrameType.TEXT, bytes("a"), false));
    r.frame(frame(WebSocketFrameType.TEXT, bytes("b"), true));
    assertEquals(List.of("close 1008"), sink.verdicts);
    assertEquals(0, r.keptBytes());
  }

  @Test
  void clearDropsWhatWasKept() {
    r.frame(frame(WebSocketFrameType.TEXT, bytes("abc"), false));
    assertEquals(3, r.keptBytes());
    r.clear();
    assertEquals(0, r.keptBytes());
  }
}
