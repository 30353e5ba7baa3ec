package dev.switchboard.protocol;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;

/** The Jackson mappers of the wire: JSON and CBOR read into the very same tree model. */
public final class Json {
  /** For building frames and for trusted input (config, cluster messages). */
  public static final ObjectMapper MAPPER = new ObjectMapper();

  private Json() {
  }

  /** A mapper for untrusted client input: nesting depth bounded, duplicate keys rejected. */
  public static ObjectMapper strictJson(int maxDepth, int maxBytes) {
    JsonFactory f = JsonFactory.builder()
        .streamReadConstraints(constraints(maxDepth, maxBytes))
        .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .build();
    return configure(new ObjectMapper(f));
  }

  public static ObjectMapper strictCbor(int maxDepth, int maxBytes) {
    CBORFactory f = CBORFactory.builder()
        .streamReadConstraints(constraints(maxDepth, maxBytes))
        .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .build();
    return configure(new ObjectMapper(f));
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
