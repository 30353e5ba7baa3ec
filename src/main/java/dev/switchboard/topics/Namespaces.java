package dev.switchboard.topics;

import dev.switchboard.config.ConfigException;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.Map;

/**
 * Topic namespaces from conf/ ({@code namespaces.<name>}): history size and time-to-live,
 * presence and join/leave. The namespace of a topic is the part before its first {@code :};
 * topics of unlisted namespaces use {@code default}. Rights never come from here, only from tokens.
 */
public final class Namespaces {
  public static final String DEFAULT = "default";

  /** One namespace's options. */
  public record Options(String name, int historySize, int historyTtlSeconds, boolean presence, boolean joinLeave) {
  }

  private final Map<String, Options> byName = new HashMap<>();

  public Namespaces(JsonObject tree) {
    if (tree == null || !tree.containsKey(DEFAULT)) {
      throw new ConfigException("invalid setting namespaces: a 'default' namespace is required");
    }
    for (String name : tree.fieldNames()) {
      Object v = tree.getValue(name);
      if (!(v instanceof JsonObject)) {
        throw new ConfigException("invalid setting namespaces." + name + ": expected an object");
      }
      JsonObject o = (JsonObject) v;
      byName.put(name, new Options(name,
          intIn(o, name, "history_size", 0, 1_000_000),
          intIn(o, name, "history_ttl_s", 0, 30 * 86_400),
          boolIn(o, name, "presence"),
          boolIn(o, name, "join_leave")));
    }
  }

  private static int intIn(JsonObject o, String ns, String key, int min, int max) {
    Object v = o.getValue(key);
    if (!(v instanceof Number) || v instanceof Double || ((Number) v).longValue() < min || ((Number) v).longValue() > max) {
      throw new ConfigException("invalid setting namespaces." + ns + "." + key + ": expected a whole number from "
          + min + " to " + max);
    }
    return ((Number) v).intValue();
  }

  private static boolean boolIn(JsonObject o, String ns, String key) {
    Object v = o.getValue(key);
    if (!(v instanceof Boolean)) {
      throw new ConfigException("invalid setting namespaces." + ns + "." + key + ": expected true or false");
    }
    return (Boolean) v;
  }

  public static String namespaceOf(String topic) {
    int colon = topic.indexOf(':');
    return colon < 0 ? DEFAULT : topic.substring(0, colon);
  }

  public Options of(String topic) {
    Options o = byName.get(namespaceOf(topic));
    return o != null ? o : byName.get(DEFAULT);
  }

  public Iterable<Options> all() {
    return byName.values();
  }
}
