package dev.switchboard.auth;

import dev.switchboard.routing.Params;

/**
 * The authorization rule a method declares. Every method must declare one (the registry refuses a
 * method without it), and {@link Policy} is the only place that evaluates them: deny by default.
 */
@FunctionalInterface
public interface Access {
  /** @return null when allowed, otherwise the reason shown with FORBIDDEN */
  String deniedBecause(Principal principal, Params params);

  /** Any connection that passed the upgrade (authenticated, or anonymous where auth is off). */
  Access CONNECTED = (p, params) -> null;

  static Access role(String role) {
    return (p, params) -> p.hasRole(role) || p.isAdmin() ? null : "role " + role + " required";
  }

  /** Subscribe right on the topic named by a param (claims {@code subs}; own {@code user:} topic; admin). */
  static Access subscribe(String topicParam) {
    return (p, params) -> TopicAcl.canSubscribe(p, params.string(topicParam)) ? null : "not allowed to subscribe";
  }

  /** Publish right on the topic named by a param (claims {@code pubs}; own {@code user:} topic; admin). */
  static Access publish(String topicParam) {
    return (p, params) -> TopicAcl.canPublish(p, params.string(topicParam)) ? null : "not allowed to publish";
  }
}
