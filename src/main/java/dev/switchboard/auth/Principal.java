package dev.switchboard.auth;

import java.util.List;
import java.util.Set;

/**
 * Who is on a connection, from a verified token (PROTOCOL.md section 10) or anonymous.
 *
 * @param userId      the token's {@code sub}
 * @param deviceId    the token's {@code device_id} claim, or null
 * @param roles       {@code roles} (array) or {@code role} (string)
 * @param subs        glob patterns of topics the user may subscribe to (empty: none)
 * @param pubs        glob patterns of topics the user may publish to (empty: none)
 * @param expiresAtMs the token's {@code exp} in epoch milliseconds; 0 for anonymous connections
 * @param anonymous   true when auth is not required and no token was given
 */
public record Principal(String userId, String deviceId, Set<String> roles, List<Glob> subs, List<Glob> pubs,
                        long expiresAtMs, boolean anonymous) {

  public static final String ROLE_ADMIN = "admin";
  public static final String ROLE_SERVICE = "service";

  public static Principal anonymous(String userId) {
    return new Principal(userId, null, Set.of(), List.of(), List.of(), 0, true);
  }

  public boolean hasRole(String role) {
    return roles.contains(role);
  }

  public boolean isAdmin() {
    return roles.contains(ROLE_ADMIN);
  }
}
