package dev.switchboard.transport;

import dev.switchboard.protocol.CloseCode;
import dev.switchboard.testsupport.Gen;
import dev.switchboard.testsupport.Props;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.http.impl.ws.WebSocketFrameImpl;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Message reassembly (docs/protocol.md, Limits) on generated frame streams, against a model that
 * judges each message whole: any fragmentation of a message reassembles to the same bytes; a
 * fragmented total over the soft limit is MESSAGE_TOO_LARGE with its size, over the hard limit a
 * 1009 close at the frame that passes it; a continuation without a start or a new message inside
 * a fragmented one is a 1008 close; pings and pongs between fragments change nothing; and no more
 * than the soft limit is ever kept.
 */
class ReassemblyProperties {
  static final int SOFT = 64;
  static final int HARD = 256;

  /** What the sink was told, in order. */
  static final class Recorder implements Reassembly.Sink {
    final List<String> verdicts = new ArrayList<>();

    @Override
    public void message(Buffer message, boolean binary) {
      verdicts.add((binary ? "binary " : "text ") + Arrays.toString(message.getBytes()));
    }

    @Override
    public void tooLarge(int size) {
      verdicts.add("too large " + size);
    }

    @Override
    public void close(CloseCode code) {
      verdicts.add("close " + code.code());
    }
  }

  static WebSocketFrame frame(WebSocketFrameType type, byte[] data, boolean fin) {
    return new WebSocketFrameImpl(type, data, fin);
  }

  /** Splits {@code b} into {@code n} pieces at random points (empty pieces allowed). */
  static List<byte[]> split(Random r, byte[] b, int n) {
    int[] cuts = new int[n + 1];
    cuts[n] = b.length;
    for (int i = 1; i < n; i++) {
      cuts[i] = r.nextInt(b.length + 1);
    }
    Arrays.sort(cuts, 1, n);
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(Arrays.copyOfRange(b, cuts[i], cuts[i + 1]));
    }
    return out;
  }

  @Test
  void anyFragmentationOfAnyStreamGetsTheVerdictsOfTheWholeMessages() {
    Props.check("reassembly", 5000, c -> {
      Random r = c.random();
      Recorder sink = new Recorder();
      Reassembly reassembly = new Reassembly(SOFT, HARD, sink);
      List<String> expected = new ArrayList<>();
      boolean closed = false;
      for (int m = Gen.between(r, 1, 6); m > 0 && !closed; m--) {
        boolean binary = r.nextBoolean();
        int size = switch (r.nextInt(4)) {
          case 0 -> r.nextInt(SOFT + 1);
          case 1 -> Gen.pick(r, SOFT - 1, SOFT, SOFT + 1, HARD, HARD + 1);
          case 2 -> SOFT + r.nextInt(HARD - SOFT);
          default -> r.nextInt(2 * HARD);
        };
        byte[] message = new byte[size];
        r.nextBytes(message);
        int pieces = size > HARD ? Gen.between(r, 2, 5) : Gen.between(r, 1, 5); // one frame over HARD never gets here (Netty)
        List<byte[]> parts = split(r, message, pieces);
        String fault = r.nextInt(10) == 0 ? Gen.pick(r, "orphan continuation", "new message inside") : null;
        if ("orphan continuation".equals(fault)) {
          reassembly.frame(frame(WebSocketFrameType.CONTINUATION, new byte[] {1}, r.nextBoolean()));
          expected.add("close 1008");
          closed = true;
          break;
        }
        long total = 0;
        for (int i = 0; i < pieces; i++) {
          boolean fin = i == pieces - 1;
          WebSocketFrameType type = i > 0 ? WebSocketFrameType.CONTINUATION : binary ? WebSocketFrameType.BINARY : WebSocketFrameType.TEXT;
          if (i > 0 && "new message inside".equals(fault)) {
            reassembly.frame(frame(r.nextBoolean() ? WebSocketFrameType.TEXT : WebSocketFrameType.BINARY, new byte[] {2}, r.nextBoolean()));
            expected.add("close 1008");
            closed = true;
            break;
          }
          reassembly.frame(frame(type, parts.get(i), fin));
          total += parts.get(i).length;
          assertTrue(reassembly.keptBytes() <= SOFT, "kept " + reassembly.keptBytes() + " bytes past the soft limit");
          if (pieces > 1 && total > HARD) {
            expected.add("close 1009");
            closed = true;
            break;
          }
          if (r.nextInt(4) == 0) { // control frames between fragments are not part of the message
            reassembly.frame(frame(r.nextBoolean() ? WebSocketFrameType.PING : WebSocketFrameType.PONG, new byte[] {9, 9}, true));
          }
        }
        if (!closed) {
          expected.add(pieces > 1 && size > SOFT ? "too large " + size : (binary ? "binary " : "text ") + Arrays.toString(message));
          assertEquals(0, reassembly.keptBytes(), "nothing kept between messages");
        }
      }
      assertEquals(expected, sink.verdicts);
    });
  }
}
