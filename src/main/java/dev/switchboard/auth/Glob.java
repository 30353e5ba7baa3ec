package dev.switchboard.auth;

/** A claim pattern where {@code *} matches any run of characters (including none); nothing else is special. */
public final class Glob {
  private final String pattern;
  private final String[] parts;

  /** Most distinct patterns shared through {@link #of}; tokens mostly repeat a few patterns. */
  static final int SHARED_MAX = 4096;
  private static final java.util.concurrent.ConcurrentHashMap<String, Glob> SHARED =
      new java.util.concurrent.ConcurrentHashMap<>();

  public Glob(String pattern) {
    this.pattern = pattern;
    this.parts = pattern.split("\\*", -1);
  }

  /**
   * The glob for a pattern, shared by every connection whose token has it (a connection would
   * otherwise hold its own copies of the same few patterns); bounded, unshared past the bound.
   */
  public static Glob of(String pattern) {
    Glob g = SHARED.get(pattern);
    if (g != null) {
      return g;
    }
    g = new Glob(pattern);
    if (SHARED.size() < SHARED_MAX) {
      Glob had = SHARED.putIfAbsent(pattern, g);
      return had != null ? had : g;
    }
    return g;
  }

  public String pattern() {
    return pattern;
  }

  public boolean matches(String s) {
    if (parts.length == 1) {
      return s.equals(pattern);
    }
    if (!s.startsWith(parts[0])) {
      return false;
    }
    int pos = parts[0].length();
    for (int i = 1; i < parts.length - 1; i++) {
      int at = s.indexOf(parts[i], pos);
      if (at < 0) {
        return false;
      }
      pos = at + parts[i].length();
    }
    String last = parts[parts.length - 1];
    return s.length() - pos >= last.length() && s.endsWith(last);
  }

  @Override
  public String toString() {
    return pattern;
  }
}
