package dev.switchboard.auth;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Glob, case by case (AclProperties checks it against a regex on generated patterns). */
class GlobTest {
  @Test
  void withoutAStarOnlyTheSameStringMatches() {
    Glob g = new Glob("chat:lobby");
    assertTrue(g.matches("chat:lobby"));
    assertFalse(g.matches("chat:lobby2"));
    assertFalse(g.matches("chat:lobb"));
    assertFalse(g.matches(""));
  }

  @Test
  void aStarMatchesAnyRunIncludingNoneAndAcrossSeparators() {
    Glob g = new Glob("chat:*");
    assertTrue(g.matches("chat:"));
    assertTrue(g.matches("chat:a"));
    assertTrue(g.matches("chat:a:b/c"));
    assertFalse(g.matches("chat"));
    assertFalse(g.matches("xchat:a"));
    assertTrue(new Glob("*").matches(""));
    assertTrue(new Glob("*").matches("anything"));
  }

  @Test
  void starsInsideMatchInOrderAndPrefixAndSuffixMayNotOverlap() {
    Glob g = new Glob("a*b*c");
    assertTrue(g.matches("abc"));
    assertTrue(g.matches("a-b-c"));
    assertTrue(g.matches("abbcc"));
    assertFalse(g.matches("acb"));
    assertFalse(g.matches("ab"));
    Glob overlap = new Glob("ab*ba");
    assertFalse(overlap.matches("aba"), "prefix and suffix share a character");
    assertTrue(overlap.matches("abba"));
  }

  @Test
  void onlyTheStarIsSpecial() {
    Glob g = new Glob("a.b?[c]");
    assertTrue(g.matches("a.b?[c]"));
    assertFalse(g.matches("axb?[c]"));
    assertFalse(g.matches("a.bx[c]"));
    assertFalse(g.matches("a.b?c"));
  }

  @Test
  void ofSharesOneGlobPerPattern() {
    assertSame(Glob.of("shared:*"), Glob.of("shared:*"));
    assertTrue(Glob.of("shared:*").matches("shared:x"));
  }
}
