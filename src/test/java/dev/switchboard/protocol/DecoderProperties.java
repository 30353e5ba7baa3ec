package dev.switchboard.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.switchboard.testsupport.CborBytes;
import dev.switchboard.testsupport.Gen;
import dev.switchboard.testsupport.Props;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Any bytes given to the inbound decoders become a document or INVALID_REQUEST, never another
 * exception; any document becomes a request or an envelope error; and whatever the node then
 * writes back from it (the echoed id, published data) encodes in both formats.
 */
class DecoderProperties {
  static final FrameCodec JSON = CodecProperties.JSON;
  static final FrameCodec CBOR = CodecProperties.CBOR;
  static final String[] FRAGMENTS = {"{", "}", "[", "]", "\"", ":", ",", "{\"id\":", "\"method\":", "\"system.ping\"",
      "\"params\":", "null", "true", "1e999999", "-0", "NaN", "\\u0000", "\\ud800", "\\udc00\\ud800", "1E-2147483649",
      "9999999999999999999999", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "\"\\", "/*", "//", "\u00e9", "\ud83d\ude00", " ",
      "\t", "\u0000", "0x10", "01", ".5", "+1", "1.", "\"id\"", "{\"id\":1,\"id\":2", "123456789012345678901234567890e5"};

  private static byte[] jsonInput(Random r) {
    return switch (r.nextInt(4)) {
      case 0 -> Gen.bytes(r, 300);
      case 1 -> {
        StringBuilder b = new StringBuilder();
        for (int i = 1 + r.nextInt(12); i > 0; i--) {
          b.append(FRAGMENTS[r.nextInt(FRAGMENTS.length)]);
        }
        yield b.toString().getBytes(StandardCharsets.UTF_8);
      }
      case 2 -> Gen.mutate(r, envelope(r).toString().getBytes(StandardCharsets.UTF_8));
      default -> Gen.unicode(r, 100).getBytes(StandardCharsets.UTF_8);
    };
  }

  private static byte[] cborInput(Random r) {
    return switch (r.nextInt(5)) {
      case 0 -> Gen.bytes(r, 300);
      case 1 -> CborBytes.item(r, 4);
      case 2 -> CborBytes.envelope(r);
      case 3 -> Gen.mutate(r, CBOR.encode(envelope(r)).getBytes());
      default -> Gen.mutate(r, CborBytes.envelope(r));
    };
  }

  /** A plausible envelope with random id and params. */
  static JsonNode envelope(Random r) {
    var env = FrameCodec.object();
    if (r.nextInt(4) > 0) {
      env.set("id", r.nextBoolean() ? TextNode.valueOf(Gen.unicode(r, 70)) : Gen.tree(r, 1));
    }
    env.put("method", Gen.pick(r, "system.ping", "topic.publish", "x"));
    env.set("params", Gen.tree(r, 3));
    return env;
  }

  private static void decodeAndHandle(FrameCodec codec, byte[] input) {
    JsonNode doc;
    try {
      doc = codec.decode(Buffer.buffer(input));
    } catch (SwitchboardException e) {
      assertEquals(ErrorCode.INVALID_REQUEST, e.code(), e.getMessage());
      assertClean(e.getMessage());
      return;
    }
    assertNotNull(doc);
    encodesEverywhere(doc);
    Request request;
    try {
      request = Request.parse(doc, () -> TextNode.valueOf("_1"));
    } catch (Request.InvalidEnvelope e) {
      encodesEverywhere(Frames.error(e.id(), e));
      return;
    }
    encodesEverywhere(Frames.result(request.id(), request.params()));
  }

  /** What the node writes: JSON text (toString, as Outbound does) and CBOR through the codec. */
  private static void encodesEverywhere(JsonNode frame) {
    assertNotNull(frame.toString());
    JSON.encode(frame);
    CBOR.encode(frame);
  }

  private static void assertClean(String message) {
    assertFalse(message.contains("Exception") || message.contains("com.fasterxml") || message.contains("java."),
        "message exposes internals: " + message);
  }

  @Test
  void anyBytesOnAJsonConnectionAreADocumentOrInvalidRequest() {
    Props.check("json decoder on any bytes", 5000, c -> decodeAndHandle(JSON, jsonInput(c.random())));
  }

  @Test
  void anyBytesOnACborConnectionAreADocumentOrInvalidRequest() {
    Props.check("cbor decoder on any bytes", 5000, c -> decodeAndHandle(CBOR, cborInput(c.random())));
  }
}
