package dev.switchboard.routing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.protocol.Json;
import dev.switchboard.protocol.SwitchboardException;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The typed params a method declares. Validation runs before the policy and the handler; a failure
 * is INVALID_PARAMS naming the field. Unknown fields are refused too: a typo in a param name should
 * be an error, not a silently ignored option.
 */
public final class ParamSchema {
  public enum Type { STRING, INTEGER, BOOLEAN, OBJECT, ANY }

  /** One declared param; build with the static factories and the fluent constraints. */
  public static final class Param {
    final String name;
    final Type type;
    boolean required;
    long min = Long.MIN_VALUE;
    long max = Long.MAX_VALUE;
    int maxLength = Integer.MAX_VALUE;
    Pattern pattern;
    ParamSchema fields;
    String brief;

    private Param(String name, Type type) {
      this.name = name;
      this.type = type;
    }

    public Param required() {
      this.required = true;
      return this;
    }

    public Param range(long min, long max) {
      this.min = min;
      this.max = max;
      return this;
    }

    public Param maxLength(int n) {
      this.maxLength = n;
      return this;
    }

    public Param pattern(Pattern p) {
      this.pattern = p;
      return this;
    }

    /** For OBJECT params: the fields inside. */
    public Param fields(ParamSchema schema) {
      this.fields = schema;
      return this;
    }

    public Param brief(String text) {
      this.brief = text;
      return this;
    }
  }

  public static Param string(String name) {
    return new Param(name, Type.STRING);
  }

  public static Param integer(String name) {
    return new Param(name, Type.INTEGER);
  }

  public static Param bool(String name) {
    return new Param(name, Type.BOOLEAN);
  }

  public static Param object(String name) {
    return new Param(name, Type.OBJECT);
  }

  public static Param any(String name) {
    return new Param(name, Type.ANY);
  }

  public static final ParamSchema NONE = new ParamSchema(List.of(), false);

  /**
   * Any params object (bounded by the message limits): for operation kinds run by external
   * services, whose workers validate their own params and answer INVALID_PARAMS.
   */
  public static final ParamSchema OPEN = new ParamSchema(List.of(), true);

  private final List<Param> params;
  private final boolean open;

  private ParamSchema(List<Param> params, boolean open) {
    this.params = params;
    this.open = open;
  }

  public static ParamSchema of(Param... params) {
    return new ParamSchema(List.of(params), false);
  }

  /** Validates in place and returns a typed view. */
  public Params validate(ObjectNode given) {
    check(given, "");
    return new Params(given);
  }

  private void check(ObjectNode given, String prefix) {
    if (open) {
      return;
    }
    Iterator<String> names = given.fieldNames();
    while (names.hasNext()) {
      String n = names.next();
      if (params.stream().noneMatch(p -> p.name.equals(n))) {
        throw SwitchboardException.invalidParams(prefix + n, "unknown param " + prefix + n);
      }
    }
    for (Param p : params) {
      String field = prefix + p.name;
      JsonNode v = given.get(p.name);
      if (v == null || v.isNull()) {
        if (p.required) {
          throw SwitchboardException.invalidParams(field, field + " is required");
        }
        given.remove(p.name);
        continue;
      }
      switch (p.type) {
        case STRING -> {
          if (!v.isTextual()) {
            throw SwitchboardException.invalidParams(field, field + " must be a string");
          }
          String s = v.textValue();
          if (s.length() > p.maxLength) {
            throw SwitchboardException.invalidParams(field, field + " must be at most " + p.maxLength + " characters");
          }
          if (p.pattern != null && !p.pattern.matcher(s).matches()) {
            throw SwitchboardException.invalidParams(field, field + " has an invalid format");
          }
        }
        case INTEGER -> {
          if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw SwitchboardException.invalidParams(field, field + " must be an integer");
          }
          long n = v.longValue();
          if (n < p.min || n > p.max) {
            throw SwitchboardException.invalidParams(field, field + " must be between " + p.min + " and " + p.max);
          }
        }
        case BOOLEAN -> {
          if (!v.isBoolean()) {
            throw SwitchboardException.invalidParams(field, field + " must be true or false");
          }
        }
        case OBJECT -> {
          if (!v.isObject()) {
            throw SwitchboardException.invalidParams(field, field + " must be an object");
          }
          if (p.fields != null) {
            p.fields.check((ObjectNode) v, field + ".");
          }
        }
        case ANY -> {
        }
        default -> throw new IllegalStateException();
      }
    }
  }

  /** A brief description for {@code system.methods}: {name: "type" or "type?"}. */
  public ObjectNode describe() {
    ObjectNode out = Json.MAPPER.createObjectNode();
    if (open) {
      out.put("*", "any (checked by the worker)");
    }
    for (Param p : params) {
      String t = p.type.name().toLowerCase() + (p.required ? "" : "?");
      if (p.fields != null) {
        ObjectNode inner = p.fields.describe();
        inner.put("_type", t);
        out.set(p.name, inner);
      } else {
        out.put(p.name, p.brief == null ? t : t + " " + p.brief);
      }
    }
    return out;
  }

  public List<String> names() {
    List<String> out = new ArrayList<>();
    params.forEach(p -> out.add(p.name));
    return out;
  }

  static ArrayNode array() {
    return Json.MAPPER.createArrayNode();
  }
}
