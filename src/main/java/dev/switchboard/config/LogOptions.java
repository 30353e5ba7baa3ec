package dev.switchboard.config;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * {@code log.*}: how the node writes its log (see logging/Logs). {@code format}: {@code json} (one
 * object per line) or {@code text}; {@code level}: the root level; {@code levels}: per-logger levels,
 * {@code name=level} pairs separated by commas, e.g. {@code dev.switchboard.topics=debug,com.hazelcast=warn}
 * (a name covers the loggers below it).
 */
public record LogOptions(String format, String level, Map<String, String> levels) {
  public static final Set<String> FORMATS = Set.of("json", "text");
  public static final Set<String> LEVELS = Set.of("trace", "debug", "info", "warn", "error", "off");
  private static final Pattern LOGGER = Pattern.compile("[A-Za-z_$][A-Za-z0-9_$.-]{0,200}");

  public LogOptions {
    levels = Map.copyOf(levels);
  }

  static LogOptions from(Settings s) {
    String format = s.string("log.format").trim().toLowerCase(Locale.ROOT);
    if (!FORMATS.contains(format)) {
      throw invalid("log.format", "json or text, got '" + format + "'");
    }
    String level = level("log.level", s.string("log.level"));
    Map<String, String> levels = new LinkedHashMap<>();
    for (String pair : s.list("log.levels")) {
      int eq = pair.indexOf('=');
      String name = eq < 0 ? pair : pair.substring(0, eq).trim();
      if (eq < 0 || !LOGGER.matcher(name).matches()) {
        throw invalid("log.levels", "logger=level pairs separated by commas, got '" + pair + "'");
      }
      levels.put(name, level("log.levels", pair.substring(eq + 1)));
    }
    return new LogOptions(format, level, levels);
  }

  private static String level(String path, String given) {
    String v = given.trim().toLowerCase(Locale.ROOT);
    if (!LEVELS.contains(v)) {
      throw invalid(path, "one of trace, debug, info, warn, error, off; got '" + given.trim() + "'");
    }
    return v;
  }

  private static ConfigException invalid(String path, String what) {
    return new ConfigException("invalid setting " + path + " (" + Settings.envName(path) + "): expected " + what);
  }
}
