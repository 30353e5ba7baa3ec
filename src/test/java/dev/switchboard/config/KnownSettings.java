package dev.switchboard.config;

import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** Every environment variable a node reads: each setting's generic and fixed names, and SB_CONF. */
public final class KnownSettings {
  private KnownSettings() {
  }

  public static Set<String> names() {
    Set<String> names = new TreeSet<>();
    names.add("SB_CONF");
    for (String path : Settings.leaves(ConfigLoader.defaults()).keySet()) {
      names.add("SB_" + path.replace('.', '_').toUpperCase());
    }
    names.addAll(Settings.ALIASES.keySet());
    return names;
  }

  /** The fixed (alias) names, for tests that check a name maps to the setting it means. */
  public static Map<String, String> aliases() {
    return Settings.ALIASES;
  }
}
