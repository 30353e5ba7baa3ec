package dev.switchboard.auth;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Glob, case by case (AclProperties checks it against a regex on generated patterns). */
class GlobTest {
  /** Asserts that {@code pattern} matches each of {@code inputs} exactly when {@code expected}. */
  static void matches(String pattern, boolean expected, String... inputs) {
    Glob g = new Glob(pattern);
    for (String s : inputs) {
      assertEquals(expected, g.matches(s), pattern + " on \"" + s + "\"");
    }
  }

  @Test
  void withoutAStarOnlyTheSameStringMatches() {
    matches("chat:lobby", true, "chat:lobby");
    matches("chat:lobby", false, "chat:lobby2", "chat:lobb", "");
  }

  @Test
  void aStarMatchesAnyRunIncludingNoneAndAcrossSeparators() {
    matches("chat:*", true, "chat:", "chat:a", "chat:a:b/c");
    matches("chat:*", false, "chat", "xchat:a");
    matches("*", true, "", "anything");
  }

  @Test
  void starsInsideMatchInOrderAndPrefixAndSuffixMayNotOverlap() {
    matches("a*b*c", true, "abc", "a-b-c", "abbcc");
    matches("a*b*c", false, "acb", "ab");
    matches("ab*ba", true, "abba");
    matches("ab*ba", false, "aba"); // prefix and suffix would share a character
  }

  @Test
  void onlyTheStarIsSpecial() {
    matches("a.b?[c]", true, "a.b?[c]");
    matches("a.b?[c]", false, "axb?[c]", "a.bx[c]", "a.b?c");
  }

  @Test
  void ofSharesOneGlobPerPattern() {
    assertSame(Glob.of("shared:*"), Glob.of("shared:*"));
    assertTrue(Glob.of("shared:*").matches("shared:x"));
  }
}
