package dev.switchboard.routing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** Params that passed their method's {@link ParamSchema}: the typed getters cannot fail on declared fields. */
public final class Params {
  private final ObjectNode node;

  Params(ObjectNode node) {
    this.node = node;
  }

  public boolean has(String name) {
    return node.hasNonNull(name);
  }

  public String string(String name) {
    JsonNode v = node.get(name);
    return v == null ? null : v.textValue();
  }

  public long integer(String name, long fallback) {
    JsonNode v = node.get(name);
    return v == null ? fallback : v.longValue();
  }

  public boolean bool(String name, boolean fallback) {
    JsonNode v = node.get(name);
    return v == null ? fallback : v.booleanValue();
  }

  public JsonNode node(String name) {
    return node.get(name);
  }

  public ObjectNode raw() {
    return node;
  }
}
