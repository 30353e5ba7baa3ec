package dev.switchboard.config;

import io.vertx.core.json.JsonObject;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The merged settings tree (built-in defaults, then the config file, then the environment) with
 * typed, validating getters. Every failure names the setting by its path and its environment
 * variable, so the start-up line tells the operator exactly what to fix.
 */
public final class Settings {

  /**
   * Environment names fixed by the protocol (PROTOCOL.md section 9) that differ from the generic
   * rule {@code SB_} + path in upper snake case. The generic name works for every key as well.
   */
  static final Map<String, String> ALIASES = Map.ofEntries(
      Map.entry("SB_ALLOWED_ORIGINS", "http.allowed_origins"),
      Map.entry("SB_MAX_MESSAGE_BYTES", "limits.max_message_bytes"),
      Map.entry("SB_HEARTBEAT_MS", "limits.heartbeat_ms"),
      Map.entry("SB_IDLE_TIMEOUT_MS", "limits.idle_timeout_ms"),
      Map.entry("SB_MAX_CONNECTIONS", "limits.max_connections"),
      Map.entry("SB_MAX_CONNECTIONS_PER_USER", "limits.max_connections_per_user"),
      Map.entry("SB_CONNECT_RATE_PER_IP", "limits.connect_rate_per_ip"),
      Map.entry("SB_RATE_PER_SEC", "limits.rate_per_sec"),
      Map.entry("SB_RATE_BURST", "limits.rate_burst"),
      Map.entry("SB_MAX_CONCURRENT_OPS", "limits.max_concurrent_ops"),
      Map.entry("SB_OUTBOUND_QUEUE_BYTES", "limits.outbound_queue_bytes"),
      Map.entry("SB_TOKEN_EXPIRING_MS", "limits.token_expiring_ms"),
      Map.entry("SB_DRAIN_MS", "shutdown.drain_ms"),
      Map.entry("SB_ORPHAN_TIMEOUT_MS", "ops.orphan_timeout_ms"),
      Map.entry("SB_OP_RETENTION_MS", "ops.retention_ms"));

  private final JsonObject root;

  Settings(JsonObject root) {
    this.root = root;
  }

  /** The tree as loaded (for `system.info`-style introspection and tests); secrets included. */
  public JsonObject tree() {
    return root.copy();
  }

  /** The generic environment variable of a path: {@code limits.max_message_bytes} → {@code SB_LIMITS_MAX_MESSAGE_BYTES}. */
  public static String envName(String path) {
    for (Map.Entry<String, String> e : ALIASES.entrySet()) {
      if (e.getValue().equals(path)) {
        return e.getKey();
      }
    }
    return "SB_" + path.replace('.', '_').toUpperCase();
  }

  private Object raw(String path) {
    String[] parts = path.split("\\.");
    JsonObject node = root;
    for (int i = 0; i < parts.length - 1; i++) {
      node = node.getJsonObject(parts[i]);
      if (node == null) {
        throw new ConfigException("setting " + path + " is missing");
      }
    }
    return node.getValue(parts[parts.length - 1]);
  }

  private ConfigException bad(String path, String expected, Object got) {
    String shown = path.contains("secret") || path.contains("private") ? "(hidden)" : "'" + got + "'";
    return new ConfigException("invalid setting " + path + " (" + envName(path) + "): expected "
        + expected + ", got " + shown);
  }

  public String string(String path) {
    Object v = raw(path);
    if (!(v instanceof String)) {
      throw bad(path, "a string", v);
    }
    return (String) v;
  }

  public String string(String path, Pattern pattern, String what) {
    String v = string(path);
    if (!pattern.matcher(v).matches()) {
      throw bad(path, what, v);
    }
    return v;
  }

  public List<String> list(String path) {
    String v = string(path).trim();
    if (v.isEmpty()) {
      return List.of();
    }
    return List.of(v.split("\\s*,\\s*"));
  }

  public boolean bool(String path) {
    Object v = raw(path);
    if (!(v instanceof Boolean)) {
      throw bad(path, "true or false", v);
    }
    return (Boolean) v;
  }

  public long number(String path, long min, long max) {
    Object v = raw(path);
    if (!(v instanceof Number) || v instanceof Double || v instanceof Float) {
      throw bad(path, "a whole number from " + min + " to " + max, v);
    }
    long n = ((Number) v).longValue();
    if (n < min || n > max) {
      throw bad(path, "a whole number from " + min + " to " + max, v);
    }
    return n;
  }

  public int integer(String path, int min, int max) {
    return (int) number(path, min, max);
  }

  /** Leaf paths of a tree, in order, e.g. {@code http.port}. */
  static Map<String, Object> leaves(JsonObject tree) {
    Map<String, Object> out = new LinkedHashMap<>();
    collect("", tree, out);
    return out;
  }

  private static void collect(String prefix, JsonObject node, Map<String, Object> out) {
    for (String key : node.fieldNames()) {
      Object v = node.getValue(key);
      String path = prefix.isEmpty() ? key : prefix + "." + key;
      if (v instanceof JsonObject) {
        collect(path, (JsonObject) v, out);
      } else {
        out.put(path, v);
      }
    }
  }
}
