package dev.switchboard.auth;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** TopicAcl, case by case (AclProperties holds the generated checks). */
class TopicAclTest {
  static Principal principal(String user, Set<String> roles, List<String> subs, List<String> pubs) {
    return new Principal(user, null, roles, subs.stream().map(Glob::new).toList(),
        pubs.stream().map(Glob::new).toList(), Long.MAX_VALUE, false);
  }

  @Test
  void subsAndPubsAreSeparateRights() {
    Principal p = principal("alice", Set.of(), List.of("chat:*"), List.of("news:*"));
    assertTrue(TopicAcl.canSubscribe(p, "chat:a"));
    assertFalse(TopicAcl.canPublish(p, "chat:a"));
    assertTrue(TopicAcl.canPublish(p, "news:a"));
    assertFalse(TopicAcl.canSubscribe(p, "news:a"));
  }

  @Test
  void noClaimAndNoTopicDeny() {
    Principal p = principal("alice", Set.of(), List.of(), List.of());
    assertFalse(TopicAcl.canSubscribe(p, "chat:a"));
    assertFalse(TopicAcl.canPublish(p, "chat:a"));
    Principal all = principal("alice", Set.of(), List.of("*"), List.of("*"));
    assertFalse(TopicAcl.canSubscribe(all, null));
    assertFalse(TopicAcl.canPublish(all, null));
  }

  @Test
  void aPersonalTopicIsItsUsersAloneWhateverTheGlobs() {
    Principal alice = principal("alice", Set.of(), List.of(), List.of());
    Principal bob = principal("bob", Set.of(), List.of("*", "user:*"), List.of("*"));
    assertTrue(TopicAcl.canSubscribe(alice, "user:alice"));
    assertTrue(TopicAcl.canPublish(alice, "user:alice"));
    assertFalse(TopicAcl.canSubscribe(bob, "user:alice"));
    assertFalse(TopicAcl.canPublish(bob, "user:alice"));
    assertFalse(TopicAcl.canSubscribe(alice, "user:alice:x"), "the whole rest is the owner: alice:x is not alice");
    Principal anonymous = new Principal("alice", null, Set.of(), List.of(), List.of(), 0, true);
    assertFalse(TopicAcl.canSubscribe(anonymous, "user:alice"), "an anonymous connection owns no personal topic");
  }

  @Test
  void adminMayDoAnythingAndOtherRolesGrantNothing() {
    Principal admin = principal("root", Set.of(Principal.ROLE_ADMIN), List.of(), List.of());
    assertTrue(TopicAcl.canSubscribe(admin, "user:alice"));
    assertTrue(TopicAcl.canPublish(admin, "chat:a"));
    Principal service = principal("svc", Set.of(Principal.ROLE_SERVICE), List.of(), List.of());
    assertFalse(TopicAcl.canSubscribe(service, "chat:a"));
  }

  @Test
  void personalOwnerIsTheWholeRestAfterUserColon() {
    assertEquals("a/b:c", TopicAcl.personalOwner("user:a/b:c"));
    assertEquals("", TopicAcl.personalOwner("user:"));
    assertNull(TopicAcl.personalOwner("users:a"));
    assertNull(TopicAcl.personalOwner("chat:user:a"));
  }
}
