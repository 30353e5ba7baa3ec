package dev.switchboard.auth;

/** A claim pattern where {@code *} matches any run of characters (including none); nothing else is special. */
public final class Glob {
  private final String pattern;
  private final String[] parts;

  public Glob(String pattern) {
    this.pattern = pattern;
    this.parts = pattern.split("\\*", -1);
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
