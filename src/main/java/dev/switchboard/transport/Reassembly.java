package dev.switchboard.transport;

import dev.switchboard.protocol.CloseCode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocketFrame;

/**
 * Turns a socket's frames into messages within the size limits. Memory stays bounded: past the
 * soft limit a fragmented message's bytes are only counted (it will get MESSAGE_TOO_LARGE), past
 * the hard limit the connection is closed with 1009. A continuation without a start, or a new
 * message inside a fragmented one, closes with 1008. One per connection, on its event loop.
 */
final class Reassembly {
  /** Where complete messages and verdicts go. */
  interface Sink {
    void message(Buffer message, boolean binary);

    void tooLarge(int size);

    void close(CloseCode code);
  }

  private final int maxMessageBytes;
  private final int hardMessageBytes;
  private final Sink sink;
  private Buffer partial;
  private boolean partialBinary;
  private int partialBytes;

  Reassembly(int maxMessageBytes, int hardMessageBytes, Sink sink) {
    this.maxMessageBytes = maxMessageBytes;
    this.hardMessageBytes = hardMessageBytes;
    this.sink = sink;
  }

  /** A data frame (text, binary or continuation); others are ignored. */
  void frame(WebSocketFrame frame) {
    switch (frame.type()) {
      case TEXT, BINARY -> {
        if (partial != null) {
          partial = null;
          sink.close(CloseCode.POLICY);
          return;
        }
        if (frame.isFinal()) {
          sink.message(frame.binaryData(), frame.isBinary());
        } else {
          partialBinary = frame.isBinary();
          partial = Buffer.buffer();
          partialBytes = 0;
          append(frame.binaryData());
        }
      }
      case CONTINUATION -> {
        if (partial == null) {
          sink.close(CloseCode.POLICY);
          return;
        }
        if (!append(frame.binaryData()) || !frame.isFinal()) {
          return;
        }
        Buffer message = partialBytes > maxMessageBytes ? null : partial;
        int size = partialBytes;
        partial = null;
        if (message == null) {
          sink.tooLarge(size);
        } else {
          sink.message(message, partialBinary);
        }
      }
      default -> {
        // ping, pong and close are Vert.x's
      }
    }
  }

  /** False when the hard limit closed the connection. */
  private boolean append(Buffer data) {
    partialBytes += data.length();
    if (partialBytes > hardMessageBytes) {
      partial = null;
      sink.close(CloseCode.TOO_BIG);
      return false;
    }
    if (partialBytes <= maxMessageBytes) {
      partial.appendBuffer(data);
    }
    return true;
  }

  /** Bytes kept of the message being reassembled: never more than the soft limit. */
  int keptBytes() {
    return partial == null ? 0 : partial.length();
  }

  /** The connection is gone: drop what was kept. */
  void clear() {
    partial = null;
  }
}
