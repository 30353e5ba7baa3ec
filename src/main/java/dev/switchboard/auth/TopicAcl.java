package dev.switchboard.auth;

import java.util.List;

/**
 * Topic rights from the token's claims (PROTOCOL.md section 10): {@code subs}/{@code pubs} globs;
 * {@code user:<sub>} belongs to its own user only, whatever
 * the globs say; role {@code admin} may do anything but publish to a reserved {@code $sys:} topic,
 * which only admin may subscribe to. A missing claim denies.
 */
public final class TopicAcl {
  public static final String USER_NAMESPACE = "user";

  private TopicAcl() {
  }

  /** Reserved system topics ({@code $sys:…}): role admin only, whatever the globs say. */
  public static final String RESERVED_PREFIX = "$sys:";

  public static boolean canSubscribe(Principal p, String topic) {
    if (topic != null && topic.startsWith(RESERVED_PREFIX)) {
      return p.isAdmin();
    }
    return allowed(p, topic, p.subs());
  }

  /** Nobody publishes to a reserved topic, admin included: only the nodes do, not through a client door. */
  public static boolean canPublish(Principal p, String topic) {
    if (topic != null && topic.startsWith(RESERVED_PREFIX)) {
      return false;
    }
    return allowed(p, topic, p.pubs());
  }

  private static boolean allowed(Principal p, String topic, List<Glob> globs) {
    if (topic == null) {
      return false;
    }
    if (p.isAdmin()) {
      return true;
    }
    String owner = personalOwner(topic);
    if (owner != null) {
      return !p.anonymous() && owner.equals(p.userId());
    }
    for (Glob g : globs) {
      if (g.matches(topic)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The user a personal topic belongs to ({@code user:alice} → alice), or null. The whole rest is the
   * user id: user ids may contain {@code /} or {@code :}, so no prefix of it can be a different owner.
   */
  static String personalOwner(String topic) {
    return topic.startsWith(USER_NAMESPACE + ":") ? topic.substring(USER_NAMESPACE.length() + 1) : null;
  }
}
