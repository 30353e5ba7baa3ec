package dev.switchboard.routing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.SwitchboardException;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** ParamSchema, case by case (ParamSchemaProperties holds the generated checks): no node. */
class ParamSchemaTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final ParamSchema SCHEMA = ParamSchema.of(
      ParamSchema.string("topic").required().maxLength(8).pattern(Pattern.compile("[a-z:]+")),
      ParamSchema.integer("limit").range(1, 100),
      ParamSchema.bool("flag"),
      ParamSchema.object("meta").fields(ParamSchema.of(ParamSchema.integer("n").required())),
      ParamSchema.any("data"));

  static ObjectNode json(String text) {
    try {
      return (ObjectNode) JSON.readTree(text);
    } catch (Exception e) {
      throw new IllegalArgumentException(text, e);
    }
  }

  /** The field and message of the INVALID_PARAMS that {@code params} gets. */
  static String refused(ParamSchema schema, String params) {
    SwitchboardException e = assertThrows(SwitchboardException.class, () -> schema.validate(json(params)), params);
    assertEquals(ErrorCode.INVALID_PARAMS, e.code());
    return e.details().path("field").asText() + ": " + e.getMessage();
  }

  @Test
  void validParamsPassTypedAndNullOptionalsAreDropped() {
    Params p = SCHEMA.validate(json("{\"topic\":\"chat:a\",\"limit\":100,\"flag\":true,\"meta\":{\"n\":1},"
        + "\"data\":[1]}"));
    assertEquals("chat:a", p.string("topic"));
    assertEquals(100, p.integer("limit", 0));
    assertTrue(p.bool("flag", false));
    Params q = SCHEMA.validate(json("{\"topic\":\"a\",\"limit\":null}"));
    assertFalse(q.has("limit"), "a null optional is dropped");
    assertEquals(7, q.integer("limit", 7));
  }

  @Test
  void eachViolationNamesItsField() {
    assertEquals("topic: topic is required", refused(SCHEMA, "{}"));
    assertEquals("topic: topic is required", refused(SCHEMA, "{\"topic\":null}"));
    assertEquals("topic: topic must be a string", refused(SCHEMA, "{\"topic\":1}"));
    assertEquals("topic: topic must be at most 8 characters", refused(SCHEMA, "{\"topic\":\"chat:abcd\"}"));
    assertEquals("topic: topic has an invalid format", refused(SCHEMA, "{\"topic\":\"Chat\"}"));
    assertEquals("limit: limit must be an integer", refused(SCHEMA, "{\"topic\":\"a\",\"limit\":1.5}"));
    assertEquals("limit: limit must be an integer", refused(SCHEMA, "{\"topic\":\"a\",\"limit\":99999999999999999999}"));
    assertEquals("limit: limit must be between 1 and 100", refused(SCHEMA, "{\"topic\":\"a\",\"limit\":0}"));
    assertEquals("flag: flag must be true or false", refused(SCHEMA, "{\"topic\":\"a\",\"flag\":\"true\"}"));
    assertEquals("meta: meta must be an object", refused(SCHEMA, "{\"topic\":\"a\",\"meta\":[]}"));
    assertEquals("meta.n: meta.n is required", refused(SCHEMA, "{\"topic\":\"a\",\"meta\":{}}"));
    assertEquals("meta.x: unknown param meta.x", refused(SCHEMA, "{\"topic\":\"a\",\"meta\":{\"n\":1,\"x\":2}}"));
    assertEquals("bogus: unknown param bogus", refused(SCHEMA, "{\"topic\":\"a\",\"bogus\":1}"));
  }

  @Test
  void noneTakesNothingAndOpenTakesAnything() {
    ParamSchema.NONE.validate(json("{}"));
    assertEquals("x: unknown param x", refused(ParamSchema.NONE, "{\"x\":1}"));
    assertTrue(ParamSchema.OPEN.validate(json("{\"x\":{\"y\":[1]}}")).has("x"));
  }

  @Test
  void describeListsTypesWithOptionalMarkedAndNestedFields() {
    ObjectNode d = SCHEMA.describe();
    assertEquals("string", d.get("topic").asText());
    assertEquals("integer?", d.get("limit").asText());
    assertEquals("object?", d.at("/meta/_type").asText());
    assertEquals("integer", d.at("/meta/n").asText());
    assertEquals("any (checked by the worker)", ParamSchema.OPEN.describe().get("*").asText());
    assertEquals(List.of("topic", "limit", "flag", "meta", "data"), SCHEMA.names());
  }
}
