package dev.switchboard.transport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.switchboard.NodeContext;
import dev.switchboard.auth.TokenBucket;
import dev.switchboard.protocol.CloseCode;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.FrameCodec;
import dev.switchboard.protocol.SwitchboardException;
import dev.switchboard.routing.Dispatcher;
import io.netty.buffer.ByteBufUtil;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

/**
 * A connection's requests: the messages its {@link Reassembly} made whole, checked (size, UTF-8 for
 * text, the encoding the connection speaks), decoded and handed to the dispatcher under the
 * connection's request rate limit. A client that keeps sending while being told to back off is
 * closed. Its own class so that the connection keeps the socket and its clocks, and this what the
 * client asks. One per connection, on its event loop.
 */
final class Requests implements Reassembly.Sink {
  private final NodeContext node;
  private final Connection connection;
  private final FrameCodec codec;
  private final Dispatcher dispatcher;
  private final TokenBucket bucket;
  private final int maxMessageBytes;
  private int strikes;
  private long generatedIds;
  /** Messages read from this socket, whatever became of them (for the close event's log line). */
  private long messagesIn;

  Requests(NodeContext node, Connection connection, FrameCodec codec, Dispatcher dispatcher) {
    this.node = node;
    this.connection = connection;
    this.codec = codec;
    this.dispatcher = dispatcher;
    this.bucket = node.policy().requestBucket();
    this.maxMessageBytes = node.config().limits().maxMessageBytes();
  }

  @Override
  public void tooLarge(int size) {
    node.metrics().frameIn(size);
    messagesIn++;
    unusable(admit(), new SwitchboardException(ErrorCode.MESSAGE_TOO_LARGE, "message exceeds " + maxMessageBytes + " bytes"));
  }

  /**
   * Every inbound message takes a token from the connection's request bucket, whatever it turns out
   * to be: a stream of oversized, undecodable or malformed messages is limited like requests are.
   * Returns the refusal (RATE_LIMITED), or null when admitted.
   */
  private SwitchboardException admit() {
    try {
      node.policy().admitRequest(bucket);
      return null;
    } catch (SwitchboardException refused) {
      return refused;
    }
  }

  /** Answers a message that never became a request: the refusal if it was refused, else what is wrong with it. */
  private void unusable(SwitchboardException refused, SwitchboardException wrong) {
    dispatcher.sendError(connection, null, refused != null ? refused : wrong);
    strike(refused != null);
  }

  private void strike(boolean limited) {
    if (!limited) {
      strikes = 0;
    } else if (++strikes >= node.policy().maxRequestStrikes()) {
      // A client that keeps sending while being told to back off is flooding.
      connection.close(CloseCode.SLOW_CONSUMER);
    }
  }

  long messagesIn() {
    return messagesIn;
  }

  @Override
  public void close(CloseCode code) {
    connection.close(code);
  }

  @Override
  public void message(Buffer message, boolean binary) {
    int size = message.length();
    if (size > maxMessageBytes) {
      tooLarge(size);
      return;
    }
    node.metrics().frameIn(size);
    messagesIn++;
    if (!binary && !ByteBufUtil.isText(((BufferInternal) message).getByteBuf(), java.nio.charset.StandardCharsets.UTF_8)) {
      connection.close(CloseCode.INVALID_UTF8); // RFC 6455 section 8.1: a text message must be valid UTF-8
      return;
    }
    SwitchboardException refused = admit();
    if (binary != codec.binary()) {
      unusable(refused, new SwitchboardException(ErrorCode.INVALID_REQUEST,
          codec.binary() ? "this connection speaks CBOR in binary frames" : "this connection speaks JSON in text frames"));
      return;
    }
    JsonNode doc;
    try {
      doc = codec.decode(message);
    } catch (SwitchboardException e) {
      unusable(refused, e);
      return;
    }
    // a refused request is still answered under its own id, as its one terminal frame
    dispatcher.dispatch(connection, doc, refused, this::nextId);
    strike(refused != null);
  }

  private JsonNode nextId() {
    return TextNode.valueOf("_" + (++generatedIds));
  }
}
