package dev.switchboard.auth;

import dev.switchboard.testsupport.Gen;
import dev.switchboard.testsupport.Props;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Topic rights (PROTOCOL.md section 10): globs match as the regex reference does ({@code *} is any
 * run, nothing else is special); a missing claim denies; {@code user:<sub>} belongs to its user
 * alone whatever the globs; role admin may do anything.
 */
class AclProperties {
  /** A small alphabet makes matches likely; regex metacharacters check that only * is special. */
  static final String ALPHABET = "ab:.*?[\\$/\n";

  static boolean reference(String pattern, String s) {
    StringBuilder re = new StringBuilder("(?s)");
    String[] literals = pattern.split("\\*", -1);
    for (int i = 0; i < literals.length; i++) {
      re.append(i > 0 ? ".*" : "").append(Pattern.quote(literals[i]));
    }
    return Pattern.compile(re.toString()).matcher(s).matches();
  }

  @Test
  void globsMatchLikeTheRegexReference() {
    Props.check("glob vs regex", 5000, c -> {
      Random r = c.random();
      String pattern = Gen.string(r, ALPHABET, 8);
      // subjects built from the pattern (each * filled in) half the time: a match is then likely
      String s = r.nextBoolean() ? Gen.string(r, ALPHABET + "c", 12) : pattern.replace("*", Gen.string(r, ALPHABET, 3));
      assertEquals(reference(pattern, s), new Glob(pattern).matches(s), () -> "glob " + pattern + " on " + s);
      assertEquals(reference(pattern, s), Glob.of(pattern).matches(s));
    });
  }

  static Principal principal(Random r, String user, Set<String> roles) {
    List<Glob> subs = new ArrayList<>();
    List<Glob> pubs = new ArrayList<>();
    for (int i = r.nextInt(3); i > 0; i--) {
      subs.add(Glob.of(Gen.pick(r, "*", "chat:*", "user:*", "user:" + user, "*:lobby", "a*b")));
    }
    for (int i = r.nextInt(3); i > 0; i--) {
      pubs.add(Glob.of(Gen.pick(r, "*", "chat:*", "user:*", "news:*")));
    }
    return new Principal(user, null, roles, subs, pubs, 0, false);
  }

  static String topic(Random r, String user) {
    return switch (r.nextInt(4)) {
      case 0 -> "user:" + user;
      case 1 -> "user:" + Gen.pick(r, user + "x", user.substring(1), "", "*", user + ":x", "bob");
      default -> Gen.pick(r, "chat:", "news:", "a", "xb:", "") + Gen.string(r, "ab:/lobby", 10);
    };
  }

  @Test
  void withoutClaimsNothingIsAllowed() {
    Props.check("acl: deny by default", 1000, c -> {
      Principal none = new Principal("alice", null, Set.of(), List.of(), List.of(), 0, false);
      String t = topic(c.random(), "alice");
      boolean own = t.equals("user:alice");
      assertEquals(own, TopicAcl.canSubscribe(none, t), t);
      assertEquals(own, TopicAcl.canPublish(none, t), t);
      Principal anon = Principal.anonymous("anon-1");
      assertFalse(TopicAcl.canSubscribe(anon, t.equals("user:alice") ? "user:anon-1" : t), "anonymous " + t);
      assertFalse(TopicAcl.canPublish(anon, "user:anon-1"));
    });
  }

  @Test
  void personalTopicsBelongToTheirUserAloneWhateverTheGlobs() {
    Props.check("acl: user:<sub>", 2000, c -> {
      Random r = c.random();
      String user = Gen.pick(r, "alice", "al:ice", "a/b", "bob*");
      Principal p = principal(r, user, Set.of());
      String t = topic(r, user);
      if (t.startsWith("user:")) {
        boolean own = t.equals("user:" + user);
        assertEquals(own, TopicAcl.canSubscribe(p, t), t + " for " + user + " with " + p.subs());
        assertEquals(own, TopicAcl.canPublish(p, t), t + " for " + user + " with " + p.pubs());
      } else {
        assertEquals(p.subs().stream().anyMatch(g -> reference(g.pattern(), t)), TopicAcl.canSubscribe(p, t), t);
        assertEquals(p.pubs().stream().anyMatch(g -> reference(g.pattern(), t)), TopicAcl.canPublish(p, t), t);
      }
    });
  }

  @Test
  void adminMayDoAnythingAndOtherRolesGrantNothing() {
    Props.check("acl: roles", 1000, c -> {
      Random r = c.random();
      Principal admin = principal(r, "root", Set.of(Principal.ROLE_ADMIN));
      Principal service = new Principal("svc", null, Set.of(Principal.ROLE_SERVICE), List.of(), List.of(), 0, false);
      String t = topic(r, "someone");
      assertTrue(TopicAcl.canSubscribe(admin, t) && TopicAcl.canPublish(admin, t), t);
      assertFalse(TopicAcl.canSubscribe(service, t) || TopicAcl.canPublish(service, t), "service on a WebSocket: " + t);
      assertFalse(TopicAcl.canSubscribe(admin, null), "no topic, no right");
    });
  }
}
