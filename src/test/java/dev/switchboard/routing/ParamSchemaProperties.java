package dev.switchboard.routing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.SwitchboardException;
import dev.switchboard.testsupport.Gen;
import dev.switchboard.testsupport.Props;
import dev.switchboard.topics.TopicNames;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Param checks (docs/protocol.md, Envelopes): on generated schemas and params, valid params pass;
 * one unknown param, at the top or inside an object param, is INVALID_PARAMS naming it (dotted); one
 * wrong value is INVALID_PARAMS naming its param; every INVALID_PARAMS carries details.field.
 */
class ParamSchemaProperties {
  static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  static final Map<ParamSchema, List<ParamSchema.Param>> DECLARED = new IdentityHashMap<>();

  /** A schema of 1-4 params with distinct names, one level of OBJECT nesting at most. */
  static ParamSchema schema(Random r, boolean nest) {
    List<ParamSchema.Param> params = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (int i = Gen.between(r, 1, 4); i > 0; i--) {
      String name = Gen.pick(r, "a", "b", "topic", "limit", "since", "x_y", "n1");
      if (names.contains(name)) {
        continue;
      }
      names.add(name);
      ParamSchema.Param p = switch (r.nextInt(nest ? 5 : 4)) {
        case 0 -> r.nextBoolean() ? ParamSchema.string(name).maxLength(Gen.between(r, 1, 20))
            : ParamSchema.string(name).maxLength(200).pattern(TopicNames.NAME);
        case 1 -> ParamSchema.integer(name).range(Gen.between(r, -5, 5), Gen.between(r, 5, 1000));
        case 2 -> ParamSchema.bool(name);
        case 3 -> ParamSchema.any(name);
        default -> ParamSchema.object(name).fields(schema(r, false));
      };
      params.add(r.nextBoolean() ? p.required() : p);
    }
    ParamSchema schema = ParamSchema.of(params.toArray(ParamSchema.Param[]::new));
    DECLARED.put(schema, params);
    return schema;
  }

  static JsonNode validValue(Random r, ParamSchema.Param p) {
    return switch (p.type) {
      case STRING -> NODES.textNode(p.pattern != null ? Gen.string(r, "abc:/_.-@9", 1 + r.nextInt(30))
          .replaceFirst("^$", "t") : Gen.string(r, "abc\u00e9", p.maxLength));
      case INTEGER -> NODES.numberNode(p.min + r.nextInt((int) (p.max - p.min + 1)));
      case BOOLEAN -> NODES.booleanNode(r.nextBoolean());
      case OBJECT -> validParams(r, p.fields);
      default -> {
        JsonNode any = Gen.tree(r, 2);
        yield any.isNull() ? NODES.textNode("x") : any;
      }
    };
  }

  /** A value of the wrong type or out of the param's bounds. */
  static JsonNode wrongValue(Random r, ParamSchema.Param p) {
    return switch (p.type) {
      case STRING -> r.nextBoolean() ? Gen.pick(r, NODES.numberNode(1), NODES.booleanNode(true), NODES.objectNode(), NODES.arrayNode())
          : NODES.textNode(p.pattern != null ? Gen.pick(r, "", "a b", "é", "x".repeat(201), "a\nb") : "y".repeat(p.maxLength + 1));
      case INTEGER -> Gen.pick(r, NODES.textNode("1"), NODES.numberNode(1.5), NODES.booleanNode(false),
          NODES.numberNode(BigInteger.ONE.shiftLeft(64)), NODES.numberNode(p.max + 1), NODES.numberNode(p.min - 1));
      case BOOLEAN -> Gen.pick(r, NODES.textNode("true"), NODES.numberNode(1), NODES.arrayNode());
      case OBJECT -> Gen.pick(r, NODES.arrayNode(), NODES.textNode("{}"), NODES.numberNode(0));
      default -> throw new IllegalArgumentException("every value is right for ANY");
    };
  }

  /** Every required param, and some optional ones (absent or explicitly null). */
  static ObjectNode validParams(Random r, ParamSchema schema) {
    ObjectNode o = NODES.objectNode();
    if (schema == null) {
      return o;
    }
    for (ParamSchema.Param p : params(schema)) {
      int pick = r.nextInt(4);
      if (p.required || pick < 2) {
        o.set(p.name, validValue(r, p));
      } else if (pick == 2) {
        o.putNull(p.name);
      }
    }
    return o;
  }

  /** The params each generated schema was built from (ParamSchema keeps its list to itself). */
  static List<ParamSchema.Param> params(ParamSchema s) {
    return DECLARED.get(s);
  }

  static SwitchboardException refused(ParamSchema schema, ObjectNode given) {
    SwitchboardException e = assertThrows(SwitchboardException.class, () -> schema.validate(given), given.toString());
    assertEquals(ErrorCode.INVALID_PARAMS, e.code());
    assertNotNull(e.details(), "INVALID_PARAMS without details");
    assertTrue(e.details().path("field").isTextual(), "INVALID_PARAMS without details.field: " + e.details());
    return e;
  }

  @Test
  void validParamsPassAndNullOptionalsAreDropped() {
    Props.check("params: valid pass", 2000, c -> {
      ParamSchema schema = schema(c.random(), true);
      ObjectNode given = validParams(c.random(), schema);
      Params p = schema.validate(given);
      for (ParamSchema.Param declared : params(schema)) {
        JsonNode v = p.node(declared.name);
        assertTrue(v == null || !v.isNull(), "null optional " + declared.name + " kept");
        assertEquals(declared.required, declared.required && v != null, "required " + declared.name + " missing");
      }
    });
  }

  @Test
  void oneUnknownParamAnywhereIsRefusedNamingIt() {
    Props.check("params: unknown refused", 2000, c -> {
      Random r = c.random();
      ParamSchema schema = schema(r, true);
      ObjectNode given = validParams(r, schema);
      String unknown = Gen.pick(r, "aa", "Topic", "limits", "since_", "", "é", "__proto__");
      String expected = unknown;
      ParamSchema.Param nested = params(schema).stream().filter(p -> p.type == ParamSchema.Type.OBJECT).findFirst().orElse(null);
      if (nested != null && r.nextBoolean()) {
        ObjectNode inner = (ObjectNode) (given.hasNonNull(nested.name) ? given.get(nested.name) : given.set(nested.name, validParams(r, nested.fields)).get(nested.name));
        inner.put(unknown, 1);
        expected = nested.name + "." + unknown;
      } else {
        given.put(unknown, 1);
      }
      assertEquals(expected, refused(schema, given).details().get("field").asText());
    });
  }

  @Test
  void oneWrongValueIsRefusedNamingItsParam() {
    Props.check("params: wrong value refused", 2000, c -> {
      Random r = c.random();
      ParamSchema schema = schema(r, true);
      ObjectNode given = validParams(r, schema);
      List<String> candidates = new ArrayList<>();
      for (ParamSchema.Param p : params(schema)) {
        if (p.type == ParamSchema.Type.OBJECT && given.hasNonNull(p.name)) {
          params(p.fields).stream().filter(q -> q.type != ParamSchema.Type.ANY).forEach(q -> candidates.add(p.name + "." + q.name));
        }
        if (p.type != ParamSchema.Type.ANY) {
          candidates.add(p.name);
        }
      }
      if (candidates.isEmpty()) {
        return;
      }
      String path = candidates.get(r.nextInt(candidates.size()));
      String[] parts = path.split("\\.");
      ObjectNode holder = parts.length == 1 ? given : (ObjectNode) given.get(parts[0]);
      ParamSchema.Param p = find(parts.length == 1 ? schema : find(schema, parts[0]).fields, parts[parts.length - 1]);
      holder.set(p.name, wrongValue(r, p));
      assertEquals(path, refused(schema, given).details().get("field").asText());
    });
  }

  @Test
  void aMissingRequiredParamIsRefusedNamingIt() {
    Props.check("params: required missing", 1000, c -> {
      ParamSchema schema = schema(c.random(), false);
      ObjectNode given = validParams(c.random(), schema);
      params(schema).stream().filter(p -> p.required).findFirst().ifPresent(p -> {
        if (c.random().nextBoolean()) {
          given.remove(p.name);
        } else {
          given.putNull(p.name);
        }
        assertEquals(p.name, refused(schema, given).details().get("field").asText());
      });
    });
  }

  static ParamSchema.Param find(ParamSchema s, String name) {
    return params(s).stream().filter(p -> p.name.equals(name)).findFirst().orElseThrow();
  }
}
