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
    String[][] cases = { // params, then "field: message" of the refusal
        {"{}", "topic: topic is required"},
        {"{\"topic\":null}", "topic: topic is required"},
        {"{\"topic\":1}", "topic: topic must be a string"},
        {"{\"topic\":\"chat:abcd\"}", "topic: topic must be at most 8 characters"},
        {"{\"topic\":\"Chat\"}", "topic: topic has an invalid format"},
        {"{\"topic\":\"a\",\"limit\":1.5}", "limit: limit must be an integer"},
        {"{\"topic\":\"a\",\"limit\":99999999999999999999}", "limit: limit must be an integer"},
        {"{\"topic\":\"a\",\"limit\":0}", "limit: limit must be between 1 and 100"},
        {"{\"topic\":\"a\",\"flag\":\"true\"}", "flag: flag must be true or false"},
        {"{\"topic\":\"a\",\"meta\":[]}", "meta: meta must be an object"},
        {"{\"topic\":\"a\",\"meta\":{}}", "meta.n: meta.n is required"},
        {"{\"topic\":\"a\",\"meta\":{\"n\":1,\"x\":2}}", "meta.x: unknown param meta.x"},
        {"{\"topic\":\"a\",\"bogus\":1}", "bogus: unknown param bogus"}};
    for (String[] c : cases) {
      assertEquals(c[1], refused(SCHEMA, c[0]));
    }
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
