package dev.switchboard.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;

import java.io.IOException;
import java.io.InputStream;
import java.util.Iterator;
import java.util.Map;

/** The Jackson mappers of the wire: JSON and CBOR read into the very same tree model. */
public final class Json {
  /** For building frames and for trusted input (config, cluster messages). */
  public static final ObjectMapper MAPPER = new ObjectMapper();

  private Json() {
  }

  /**
   * A mapper for untrusted input (WebSocket messages, HTTP and event-bus API bodies): nesting depth
   * bounded, duplicate keys rejected, every string and key well-formed Unicode (see {@link Strict}).
   */
  public static ObjectMapper strictJson(int maxDepth, int maxBytes) {
    JsonFactory f = JsonFactory.builder()
        .streamReadConstraints(constraints(maxDepth, maxBytes))
        .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .build();
    return configure(new Strict(f));
  }

  public static ObjectMapper strictCbor(int maxDepth, int maxBytes) {
    CBORFactory f = CBORFactory.builder()
        .streamReadConstraints(constraints(maxDepth, maxBytes))
        .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .build();
    return configure(new Strict(f));
  }

  /** A string (value or key) of an untrusted document holds an unpaired surrogate. */
  public static final class NotUnicode extends JsonProcessingException {
    NotUnicode() {
      super("a string is not valid Unicode (an unpaired surrogate)");
    }
  }

  /**
   * Reads trees whose strings are all well-formed UTF-16. Jackson lets unpaired surrogates through
   * (a JSON {@code \ud800} escape; a CBOR text string carrying an encoded surrogate), and then
   * cannot write them as CBOR: the echo of such an id, or a publication of such data to CBOR
   * subscribers, would fail on the event loop. Refused where input enters instead.
   */
  private static final class Strict extends ObjectMapper {
    Strict(JsonFactory f) {
      super(f);
    }

    @Override
    public JsonNode readTree(InputStream in) throws IOException {
      return wellFormed(super.readTree(in));
    }

    @Override
    public JsonNode readTree(byte[] content) throws IOException {
      return wellFormed(super.readTree(content));
    }
  }

  private static JsonNode wellFormed(JsonNode n) throws NotUnicode {
    if (n != null) {
      check(n);
    }
    return n;
  }

  /** Depth is bounded by the reader's nesting limit. */
  private static void check(JsonNode n) throws NotUnicode {
    if (n.isTextual()) {
      requireWellFormed(n.textValue());
    } else if (n.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        requireWellFormed(e.getKey());
        check(e.getValue());
      }
    } else if (n.isArray()) {
      for (JsonNode child : n) {
        check(child);
      }
    }
  }

  private static void requireWellFormed(String s) throws NotUnicode {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++;
        } else {
          throw new NotUnicode();
        }
      }
    }
  }

  private static StreamReadConstraints constraints(int maxDepth, int maxBytes) {
    return StreamReadConstraints.builder()
        .maxNestingDepth(maxDepth)
        .maxStringLength(Math.max(1024, maxBytes))
        .maxNumberLength(100)
        .build();
  }

  private static ObjectMapper configure(ObjectMapper m) {
    m.enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    m.enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    m.getFactory().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    return m;
  }
}
