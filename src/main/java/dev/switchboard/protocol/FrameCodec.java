package dev.switchboard.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBufInputStream;
import io.vertx.core.buffer.Buffer;

import java.io.IOException;
import java.io.InputStream;

/**
 * One wire format of the envelopes: JSON in text frames or CBOR in binary frames (PROTOCOL.md section 1).
 * Both read into and write from the same Jackson tree, so the rest of the node never sees the format.
 */
public final class FrameCodec {
  public static final String JSON_SUBPROTOCOL = "switchboard.v1.json";
  public static final String CBOR_SUBPROTOCOL = "switchboard.v1.cbor";

  private static final ObjectMapper JSON_WRITER = new ObjectMapper();
  private static final ObjectMapper CBOR_WRITER = new ObjectMapper(new com.fasterxml.jackson.dataformat.cbor.CBORFactory());

  private final boolean binary;
  private final ObjectMapper reader;
  private final ObjectMapper writer;

  private FrameCodec(boolean binary, ObjectMapper reader, ObjectMapper writer) {
    this.binary = binary;
    this.reader = reader;
    this.writer = writer;
  }

  public static FrameCodec json(int maxDepth, int maxBytes) {
    return new FrameCodec(false, Json.strictJson(maxDepth, maxBytes), JSON_WRITER);
  }

  public static FrameCodec cbor(int maxDepth, int maxBytes) {
    return new FrameCodec(true, Json.strictCbor(maxDepth, maxBytes), CBOR_WRITER);
  }

  /** True when frames of this format travel as binary WebSocket messages. */
  public boolean binary() {
    return binary;
  }

  public String name() {
    return binary ? "cbor" : "json";
  }

  /**
   * Parses one inbound message. Size was checked by the caller before this; depth and string limits
   * are enforced by the parser while it reads.
   *
   * @throws SwitchboardException INVALID_REQUEST when the bytes are not one well-formed document
   */
  public JsonNode decode(Buffer message) {
    try (InputStream in = new ByteBufInputStream(((io.vertx.core.internal.buffer.BufferInternal) message).getByteBuf().duplicate())) {
      JsonNode node = reader.readTree(in);
      if (node == null || node.isMissingNode()) {
        throw new SwitchboardException(ErrorCode.INVALID_REQUEST, "empty message");
      }
      return node;
    } catch (Json.NotUnicode e) {
      throw new SwitchboardException(ErrorCode.INVALID_REQUEST, "message has a string that is not valid Unicode");
    } catch (StreamConstraintsException e) {
      throw new SwitchboardException(ErrorCode.INVALID_REQUEST, "message nesting or size exceeds the limit");
    } catch (JsonProcessingException e) {
      throw new SwitchboardException(ErrorCode.INVALID_REQUEST, binary ? "message is not valid CBOR" : "message is not valid JSON");
    } catch (IOException e) {
      throw new SwitchboardException(ErrorCode.INVALID_REQUEST, "message could not be read");
    } catch (NumberFormatException | ArithmeticException e) {
      // Jackson throws these, not a parse error, for numbers it cannot represent (an exponent of 1e30 digits)
      throw new SwitchboardException(ErrorCode.INVALID_REQUEST, "message has a number out of range");
    }
  }

  public Buffer encode(JsonNode frame) {
    try {
      return Buffer.buffer(writer.writeValueAsBytes(frame));
    } catch (JsonProcessingException e) {
      // Frames are built by the node from plain tree nodes: this cannot happen for well-formed trees.
      throw new IllegalStateException("frame could not be encoded", e);
    }
  }

  public static ObjectNode object() {
    return Json.MAPPER.createObjectNode();
  }
}
