package dev.switchboard.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.switchboard.testsupport.Gen;
import dev.switchboard.testsupport.Props;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Envelope rules (PROTOCOL.md section 2, docs/protocol.md): an id is a string of at most 64
 * characters (UTF-16 units, as JavaScript counts them) or an integer that fits in 64 bits; any other
 * id is INVALID_REQUEST without echo; a valid id is echoed as the very node sent, through both formats.
 */
class EnvelopeProperties {
  static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  static final TextNode GENERATED = TextNode.valueOf("_1");

  /** An id of any shape, near the limits more often than not. */
  static JsonNode anyId(Random r) {
    return switch (r.nextInt(10)) {
      case 0, 1 -> TextNode.valueOf(Gen.string(r, "ab\u00e9", Gen.between(r, 60, 70)));
      case 2 -> TextNode.valueOf(Gen.unicode(r, 40)); // astral characters count two
      case 3 -> NODES.numberNode(Gen.anyLong(r));
      case 4 -> NODES.numberNode(BigInteger.valueOf(Gen.anyLong(r)).add(BigInteger.ONE.shiftLeft(Gen.between(r, 62, 70))));
      case 5 -> NODES.numberNode(BigInteger.ONE.shiftLeft(64).negate().add(BigInteger.valueOf(r.nextInt(3))));
      case 6 -> Gen.number(r);
      case 7 -> NODES.binaryNode(Gen.bytes(r, 8));
      default -> Gen.tree(r, 2);
    };
  }

  static boolean valid(JsonNode id) {
    if (id.isTextual()) {
      return id.textValue().length() <= Request.MAX_ID_LENGTH;
    }
    return id.isIntegralNumber() && id.bigIntegerValue().bitLength() < 64;
  }

  static ObjectNode envelope(JsonNode id) {
    ObjectNode env = FrameCodec.object().put("method", "system.ping");
    env.set("id", id);
    return env;
  }

  @Test
  void anIdIsAcceptedExactlyWhenItIsAShortStringOrA64BitIntegerAndEchoedAsSent() {
    Props.check("envelope id rule", 3000, c -> {
      JsonNode id = anyId(c.random());
      if (valid(id)) {
        Request req = Request.parse(envelope(id), () -> GENERATED);
        assertSame(id, req.id(), "the id node itself is echoed");
      } else {
        Request.InvalidEnvelope e = assertThrows(Request.InvalidEnvelope.class, () -> Request.parse(envelope(id), () -> GENERATED),
            "id " + id);
        assertEquals(ErrorCode.INVALID_REQUEST, e.code());
        assertNull(e.id(), "an invalid id is not echoed");
      }
    });
  }

  @Test
  void anIdKeepsItsVerdictAndItsTypeThroughEitherFormatAndBackInTheReply() {
    Props.check("envelope id through the wire", 2000, c -> {
      JsonNode id = anyId(c.random());
      FrameCodec codec = c.random().nextBoolean() ? CodecProperties.JSON : CodecProperties.CBOR;
      if (codec == CodecProperties.JSON && id.isBinary()) {
        return; // JSON has no byte strings (they would be written as base64 text)
      }
      JsonNode decoded = codec.decode(codec.encode(envelope(id)));
      JsonNode sent = decoded.get("id"); // the id as the wire carried it (a decimal of scale 0 is written as an integer)
      assertTrue(id.equals(CodecProperties.SAME, sent), id + " read as " + sent);
      if (id.isTextual() || id.isIntegralNumber()) {
        assertEquals(id.isTextual(), sent.isTextual());
        assertEquals(id.isIntegralNumber(), sent.isIntegralNumber());
      }
      try {
        Request req = Request.parse(decoded, () -> GENERATED);
        assertTrue(valid(sent), "accepted " + sent);
        JsonNode echoed = codec.decode(codec.encode(Frames.result(req.id(), FrameCodec.object()))).get("id");
        assertEquals(sent.isTextual(), echoed.isTextual(), "string stays a string: " + sent);
        assertEquals(sent.isIntegralNumber(), echoed.isIntegralNumber(), "integer stays an integer: " + sent);
        assertTrue(sent.equals(CodecProperties.SAME, echoed), sent + " echoed as " + echoed);
      } catch (Request.InvalidEnvelope e) {
        assertTrue(!valid(sent), "refused " + sent);
        assertNull(e.id());
      }
    });
  }

  @Test
  void aMissingIdIsGeneratedAndOtherEnvelopeFaultsEchoAValidId() {
    Props.check("envelope shape", 2000, c -> {
      Random r = c.random();
      ObjectNode env = FrameCodec.object();
      JsonNode id = r.nextBoolean() ? null : anyId(r);
      if (id != null) {
        env.set("id", id);
      }
      JsonNode method = r.nextInt(3) == 0 ? Gen.tree(r, 1) : TextNode.valueOf(Gen.unicode(r, 10));
      env.set("method", method);
      JsonNode params = r.nextInt(3) == 0 ? null : r.nextBoolean() ? Gen.tree(r, 2) : FrameCodec.object();
      if (params != null) {
        env.set("params", params);
      }
      boolean envelopeOk = method.isTextual() && (params == null || params.isObject());
      try {
        Request req = Request.parse(env, () -> GENERATED);
        if (id == null) {
          assertSame(GENERATED, req.id());
        }
        assertTrue(envelopeOk && (id == null || valid(id)), "accepted " + env);
        assertEquals(method.textValue(), req.method());
        assertTrue(req.params().isObject());
      } catch (Request.InvalidEnvelope e) {
        if (id != null && !valid(id)) {
          assertNull(e.id());
        } else if (!envelopeOk) {
          assertSame(id == null ? GENERATED : id, e.id(), "a valid id is echoed with the envelope's error");
        } else {
          fail("refused a valid envelope " + env);
        }
      }
    });
  }

  @Test
  void aDocumentThatIsNotAnObjectIsInvalidRequestWithoutId() {
    Props.check("non-object documents", 500, c -> {
      JsonNode doc = Gen.tree(c.random(), 2);
      if (doc.isObject()) {
        return;
      }
      Request.InvalidEnvelope e = assertThrows(Request.InvalidEnvelope.class, () -> Request.parse(doc, () -> GENERATED));
      assertNull(e.id());
    });
  }
}
