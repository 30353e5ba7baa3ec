package dev.switchboard.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

/**
 * Server WebSocket frames built by hand (RFC 6455: unmasked, no extensions), so that a frame can be
 * encoded once and its bytes written to many sockets, and so that every outbound frame of a
 * connection takes one path (see transport.Connection). Messages over {@link #MAX_FRAME_PAYLOAD}
 * are split into continuation frames, as clients commonly cap a frame at 64 KiB.
 */
public final class WireFrames {
  public static final int MAX_FRAME_PAYLOAD = 65536;
  private static final int FIN = 0x80;
  private static final int TEXT = 0x1;
  private static final int BINARY = 0x2;
  private static final int CONTINUATION = 0x0;

  private WireFrames() {
  }

  /** One message as one or more frames in one direct buffer. */
  public static ByteBuf message(boolean binary, byte[] payload) {
    int n = Math.max(1, (payload.length + MAX_FRAME_PAYLOAD - 1) / MAX_FRAME_PAYLOAD);
    ByteBuf buf = Unpooled.directBuffer(payload.length + 10 * n);
    int at = 0;
    for (int i = 0; i < n; i++) {
      int len = Math.min(MAX_FRAME_PAYLOAD, payload.length - at);
      int opcode = i == 0 ? (binary ? BINARY : TEXT) : CONTINUATION;
      buf.writeByte((i == n - 1 ? FIN : 0) | opcode);
      if (len < 126) {
        buf.writeByte(len);
      } else if (len < 65536) {
        buf.writeByte(126);
        buf.writeShort(len);
      } else {
        buf.writeByte(127);
        buf.writeLong(len);
      }
      buf.writeBytes(payload, at, len);
      at += len;
    }
    return buf;
  }
}
