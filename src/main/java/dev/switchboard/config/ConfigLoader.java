package dev.switchboard.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Loads the settings: the defaults built into the jar (a copy of conf/config.json), then the config
 * file ({@code SB_CONF}, default {@code conf/config.json} when it exists), then environment variables.
 * Only keys that exist in the defaults may be set: a misspelled key is an error, not a silent no-op.
 *
 * <p>Not vertx-config's ConfigRetriever: the settings configure Hazelcast and the Vert.x instance, so
 * they must be complete before a Vert.x exists, and read at once (one line and exit 2 on an error).
 */
public final class ConfigLoader {

  public static final String DEFAULTS_RESOURCE = "/switchboard/config.json";
  public static final String DEFAULT_CONF_PATH = "conf/config.json";

  private ConfigLoader() {
  }

  public static SwitchboardConfig load(Map<String, String> env) {
    JsonObject tree = defaults();
    String confPath = env.get("SB_CONF");
    Path file = Path.of(confPath != null && !confPath.isBlank() ? confPath : DEFAULT_CONF_PATH);
    if (Files.isRegularFile(file)) {
      mergeFile(tree, readFile(file), "", file);
    } else if (confPath != null && !confPath.isBlank()) {
      throw new ConfigException("invalid setting SB_CONF: no config file at " + confPath);
    }
    applyEnv(tree, env);
    return SwitchboardConfig.from(new Settings(tree));
  }

  static JsonObject defaults() {
    try (InputStream in = ConfigLoader.class.getResourceAsStream(DEFAULTS_RESOURCE)) {
      if (in == null) {
        throw new ConfigException("the built-in defaults " + DEFAULTS_RESOURCE + " are missing from the jar");
      }
      return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new ConfigException("cannot read the built-in defaults: " + e.getMessage());
    }
  }

  private static JsonObject readFile(Path file) {
    try {
      return new JsonObject(Files.readString(file, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new ConfigException("invalid setting SB_CONF: cannot read " + file + ": " + e.getMessage());
    } catch (DecodeException e) {
      throw new ConfigException("invalid setting SB_CONF: " + file + " is not a JSON object");
    }
  }

  private static void mergeFile(JsonObject target, JsonObject source, String prefix, Path file) {
    for (String key : source.fieldNames()) {
      String path = prefix.isEmpty() ? key : prefix + "." + key;
      if (!target.containsKey(key) && "namespaces".equals(prefix) && source.getValue(key) instanceof JsonObject) {
        target.put(key, source.getValue(key)); // a new namespace: its keys are checked by topics.Namespaces
        continue;
      }
      if (!target.containsKey(key)) {
        throw new ConfigException("unknown setting " + path + " in " + file);
      }
      Object have = target.getValue(key);
      Object give = source.getValue(key);
      if (have instanceof JsonObject && give instanceof JsonObject) {
        mergeFile((JsonObject) have, (JsonObject) give, path, file);
      } else if (have instanceof JsonObject) {
        throw new ConfigException("invalid setting " + path + " in " + file + ": expected an object");
      } else {
        target.put(key, give);
      }
    }
  }

  private static void applyEnv(JsonObject tree, Map<String, String> env) {
    for (Map.Entry<String, Object> leaf : Settings.leaves(tree).entrySet()) {
      String path = leaf.getKey();
      String generic = "SB_" + path.replace('.', '_').toUpperCase();
      String value = env.get(generic);
      String name = generic;
      for (Map.Entry<String, String> alias : Settings.ALIASES.entrySet()) {
        if (alias.getValue().equals(path) && env.containsKey(alias.getKey())) {
          value = env.get(alias.getKey());
          name = alias.getKey();
        }
      }
      if (value != null) {
        put(tree, path, parse(name, path, leaf.getValue(), value));
      }
    }
  }

  private static Object parse(String name, String path, Object like, String value) {
    String v = value.trim();
    if (like instanceof Boolean) {
      if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
        return Boolean.parseBoolean(v);
      }
      throw new ConfigException("invalid setting " + path + " (" + name + "): expected true or false, got '" + v + "'");
    }
    if (like instanceof Number) {
      try {
        return Long.parseLong(v);
      } catch (NumberFormatException e) {
        throw new ConfigException("invalid setting " + path + " (" + name + "): expected a whole number, got '" + v + "'");
      }
    }
    return value;
  }

  private static void put(JsonObject tree, String path, Object value) {
    String[] parts = path.split("\\.");
    JsonObject node = tree;
    for (int i = 0; i < parts.length - 1; i++) {
      node = node.getJsonObject(parts[i]);
    }
    node.put(parts[parts.length - 1], value);
  }
}
