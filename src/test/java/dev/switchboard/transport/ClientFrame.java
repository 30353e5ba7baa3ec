package dev.switchboard.transport;

import java.io.ByteArrayOutputStream;
import java.util.Random;

/**
 * A client WebSocket frame (RFC 6455 section 5.2) with every field under the test's control,
 * including the ones a correct client never gets wrong: reserved bits, opcode, the mask bit, and
 * a declared length that may differ from the payload or use a longer encoding than needed.
 *
 * @param declaredLength the length written in the header (-1: the payload's)
 * @param lengthForm     7, 16 or 64: which length encoding to use (0: the shortest that fits)
 */
record ClientFrame(boolean fin, int rsv, int opcode, boolean masked, byte[] payload, long declaredLength, int lengthForm) {

  static ClientFrame of(int opcode, boolean fin, byte[] payload) {
    return new ClientFrame(fin, 0, opcode, true, payload, -1, 0);
  }

  ClientFrame withRsv(int bits) {
    return new ClientFrame(fin, bits, opcode, masked, payload, declaredLength, lengthForm);
  }

  ClientFrame unmasked() {
    return new ClientFrame(fin, rsv, opcode, false, payload, declaredLength, lengthForm);
  }

  ClientFrame declaring(long length, int form) {
    return new ClientFrame(fin, rsv, opcode, masked, payload, length, form);
  }

  /** The frame's bytes; the mask key comes from {@code random} (a seeded run stays replayable). */
  byte[] bytes(Random random) {
    byte[] key = new byte[4];
    random.nextBytes(key);
    return bytes(key);
  }

  /** The frame's bytes masked with {@code key} (all zeros: the payload goes as it is, still a masked frame). */
  byte[] bytes(byte[] key) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(payload.length + 14);
    out.write((fin ? 0x80 : 0) | (rsv & 7) << 4 | (opcode & 0x0f));
    long len = declaredLength >= 0 ? declaredLength : payload.length;
    int form = lengthForm != 0 ? lengthForm : len < 126 ? 7 : len < 65536 ? 16 : 64;
    int maskBit = masked ? 0x80 : 0;
    if (form == 7) {
      out.write(maskBit | (int) (len & 0x7f));
    } else if (form == 16) {
      out.write(maskBit | 126);
      out.write((int) (len >> 8) & 0xff);
      out.write((int) len & 0xff);
    } else {
      out.write(maskBit | 127);
      for (int i = 7; i >= 0; i--) {
        out.write((int) (len >>> (8 * i)) & 0xff);
      }
    }
    if (masked) {
      out.write(key, 0, 4);
      for (int i = 0; i < payload.length; i++) {
        out.write(payload[i] ^ key[i & 3]);
      }
    } else {
      out.write(payload, 0, payload.length);
    }
    return out.toByteArray();
  }

  /** A close frame payload: the code (big-endian) and a reason of raw bytes. */
  static byte[] closePayload(int code, byte[] reason) {
    byte[] p = new byte[2 + reason.length];
    p[0] = (byte) (code >> 8);
    p[1] = (byte) code;
    System.arraycopy(reason, 0, p, 2, reason.length);
    return p;
  }
}
