package dev.switchboard.routing;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.protocol.Json;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/** The methods a node offers, by name. Filled at start-up, read-only afterwards. */
public final class MethodRegistry {
  private final Map<String, Method> methods = new LinkedHashMap<>();

  public MethodRegistry register(Method m) {
    Objects.requireNonNull(m.access(), () -> "method " + m.name() + " declares no access rule");
    Objects.requireNonNull(m.params(), () -> "method " + m.name() + " declares no params");
    if (methods.putIfAbsent(m.name(), m) != null) {
      throw new IllegalStateException("method " + m.name() + " registered twice");
    }
    return this;
  }

  public Method get(String name) {
    return methods.get(name);
  }

  public Collection<Method> all() {
    return Collections.unmodifiableCollection(methods.values());
  }

  /** The {@code system.methods} result. */
  public ObjectNode describe() {
    ObjectNode out = Json.MAPPER.createObjectNode();
    ArrayNode list = out.putArray("methods");
    for (Method m : methods.values()) {
      ObjectNode e = list.addObject();
      e.put("name", m.name());
      e.put("streaming", m.streaming());
      e.set("params", m.params().describe());
    }
    return out;
  }
}
