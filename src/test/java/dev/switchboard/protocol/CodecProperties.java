package dev.switchboard.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import dev.switchboard.testsupport.Gen;
import dev.switchboard.testsupport.Props;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Comparator;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The inbound codecs (FrameCodec) on generated documents: what the node writes it reads back the
 * same, in both formats; duplicate keys at any depth and nesting past the limit are INVALID_REQUEST.
 */
class CodecProperties {
  static final int DEPTH = 32;
  static final int MAX_BYTES = 65536;
  static final FrameCodec JSON = FrameCodec.json(DEPTH, MAX_BYTES);
  static final FrameCodec CBOR = FrameCodec.cbor(DEPTH, MAX_BYTES);

  /** Numbers are equal by value: the strict readers give BigDecimal for every fraction, the smallest integer node that fits. */
  static final Comparator<JsonNode> SAME = (a, b) -> {
    if (a.isNumber() && b.isNumber()) {
      return a.decimalValue().compareTo(b.decimalValue());
    }
    return a.equals(b) ? 0 : 1;
  };

  static void assertSame(JsonNode expected, JsonNode actual) {
    assertTrue(expected.equals(SAME, actual), () -> "expected " + expected + " but read " + actual);
  }

  static Buffer buffer(byte[] b) {
    return Buffer.buffer(b);
  }

  @Test
  void whatTheNodeEncodesDecodesToTheSameTreeInBothFormats() {
    Props.check("codec round trip", 2000, c -> {
      JsonNode tree = Gen.tree(c.random(), 1 + c.random().nextInt(6));
      // JSON frames are written with toString (Outbound), CBOR ones with the codec's writer
      assertSame(tree, JSON.decode(buffer(tree.toString().getBytes(StandardCharsets.UTF_8))));
      assertSame(tree, JSON.decode(JSON.encode(tree)));
      assertSame(tree, CBOR.decode(CBOR.encode(tree)));
    });
  }

  @Test
  void nestingUpToTheLimitIsReadAndOneLevelMoreIsInvalidRequest() {
    Props.check("nesting limit", 200, c -> {
      int depth = Gen.between(c.random(), 1, DEPTH + 8);
      JsonNode doc = Gen.nested(depth);
      for (FrameCodec codec : new FrameCodec[] {JSON, CBOR}) {
        Buffer bytes = codec == JSON ? buffer(doc.toString().getBytes(StandardCharsets.UTF_8)) : codec.encode(doc);
        if (depth <= DEPTH) {
          assertSame(doc, codec.decode(bytes));
        } else {
          SwitchboardException e = assertThrows(SwitchboardException.class, () -> codec.decode(bytes), codec.name() + " depth " + depth);
          assertEquals(ErrorCode.INVALID_REQUEST, e.code());
        }
      }
    });
  }

  @Test
  void aDuplicateKeyAtAnyDepthIsInvalidRequest() {
    Props.check("duplicate keys", 1000, c -> {
      Random r = c.random();
      int depth = r.nextInt(6);
      String key = Gen.unicode(r, 6);
      boolean cbor = r.nextBoolean();
      byte[] doc = withDuplicate((cbor ? new ObjectMapper(new CBORFactory()) : new ObjectMapper()).getFactory(), r, depth, key);
      SwitchboardException e = assertThrows(SwitchboardException.class, () -> (cbor ? CBOR : JSON).decode(buffer(doc)),
          "duplicate key " + key + " at depth " + depth);
      assertEquals(ErrorCode.INVALID_REQUEST, e.code());
    });
  }

  /** A document whose innermost object, {@code depth} containers down, has {@code key} twice among other fields. */
  static byte[] withDuplicate(JsonFactory factory, Random r, int depth, String key) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JsonGenerator g = factory.createGenerator(out)) {
      boolean[] arrays = new boolean[depth];
      for (int i = 0; i < depth; i++) {
        arrays[i] = r.nextBoolean();
        if (arrays[i]) {
          g.writeStartArray();
          g.writeNumber(i);
        } else {
          g.writeStartObject();
          g.writeFieldName("level" + i);
        }
      }
      g.writeStartObject();
      g.writeFieldName(key);
      g.writeTree(Gen.tree(r, 1));
      for (int i = r.nextInt(3); i > 0; i--) {
        g.writeFieldName(key + "/" + i); // other fields between the two
        g.writeNumber(i);
      }
      g.writeFieldName(key);
      g.writeTree(Gen.tree(r, 1));
      g.writeEndObject();
      for (int i = depth - 1; i >= 0; i--) {
        if (arrays[i]) {
          g.writeEndArray();
        } else {
          g.writeEndObject();
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
