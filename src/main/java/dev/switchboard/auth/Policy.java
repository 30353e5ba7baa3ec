package dev.switchboard.auth;

import dev.switchboard.config.SwitchboardConfig.HttpOptions;
import dev.switchboard.config.SwitchboardConfig.LimitsOptions;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.SwitchboardException;
import dev.switchboard.routing.Method;
import dev.switchboard.routing.Params;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * The single chokepoint for every gate a client passes: at the upgrade (draining, node cap,
 * Origin, per-IP connect rate, per-user cap) and per request (rate, then the method's access rule).
 * Nothing else decides admission or rights, and every gate denies unless a limit or a claim allows.
 */
public final class Policy {
  /** Bound on the per-IP table between sweeps (a flood from many addresses cannot grow it without end). */
  private static final int MAX_TRACKED_IPS = 1_000_000;

  private final LimitsOptions limits;
  private final Set<String> allowedOrigins;
  private final BooleanSupplier draining;
  private final BooleanSupplier minority;
  private final AtomicInteger connections;
  private final ConcurrentHashMap<String, TokenBucket> perIp = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, Integer> perUser = new ConcurrentHashMap<>();

  public Policy(LimitsOptions limits, HttpOptions http, BooleanSupplier draining, BooleanSupplier minority,
                AtomicInteger connections) {
    this.limits = limits;
    this.allowedOrigins = Set.copyOf(http.allowedOrigins());
    this.draining = draining;
    this.minority = minority;
    this.connections = connections;
  }

  /**
   * Gates before the token is even looked at. On success a node connection slot is reserved:
   * the caller must {@link #releaseConnection()} it when the upgrade fails or the socket closes.
   * {@code ownWarmUp}: the node's own warm-up connection (see WarmUp), not charged to the per-IP rate.
   */
  public Rejection admitUpgrade(String ip, String origin, boolean ownWarmUp) {
    if (draining.getAsBoolean()) {
      return Rejection.of(503, ErrorCode.UNAVAILABLE, "node is draining; connect to another node");
    }
    if (minority.getAsBoolean()) {
      return Rejection.of(503, ErrorCode.UNAVAILABLE, "node is cut off from the cluster's majority; connect to another node");
    }
    if (origin != null && !allowedOrigins.isEmpty() && !allowedOrigins.contains(origin)) {
      return Rejection.of(403, ErrorCode.FORBIDDEN, "origin not allowed");
    }
    long wait = ownWarmUp ? 0 : takeIp(ip);
    if (wait > 0) {
      return new Rejection(429, ErrorCode.RATE_LIMITED, "too many connection attempts", Math.max(1, (wait + 999) / 1000));
    }
    if (connections.incrementAndGet() > limits.maxConnections()) {
      connections.decrementAndGet();
      return Rejection.of(503, ErrorCode.UNAVAILABLE, "node connection limit reached; connect to another node");
    }
    return null;
  }

  public void releaseConnection() {
    connections.decrementAndGet();
  }

  private long takeIp(String ip) {
    long now = System.nanoTime();
    long[] wait = new long[1];
    if (perIp.size() >= MAX_TRACKED_IPS && !perIp.containsKey(ip)) {
      sweep();
    }
    perIp.compute(ip, (k, b) -> {
      TokenBucket bucket = b != null ? b : new TokenBucket(limits.connectRatePerIp(), limits.connectRatePerIp(), now);
      wait[0] = bucket.take(now);
      return bucket;
    });
    return wait[0];
  }

  /** Reserves one of the user's connections on this node; release with {@link #releaseUser}. */
  public Rejection admitUser(String userId) {
    boolean[] ok = new boolean[1];
    perUser.compute(userId, (k, n) -> {
      int have = n == null ? 0 : n;
      ok[0] = have < limits.maxConnectionsPerUser();
      return ok[0] ? have + 1 : n;
    });
    return ok[0] ? null : new Rejection(429, ErrorCode.RATE_LIMITED, "too many connections for this user", 1);
  }

  public void releaseUser(String userId) {
    perUser.computeIfPresent(userId, (k, n) -> n <= 1 ? null : n - 1);
  }

  /** A fresh per-connection request bucket. */
  public TokenBucket requestBucket() {
    return new TokenBucket(limits.ratePerSec(), limits.rateBurst(), System.nanoTime());
  }

  /** Request rate gate: throws RATE_LIMITED with the wait until the next request is allowed. */
  public void admitRequest(TokenBucket bucket) {
    long wait = bucket.take(System.nanoTime());
    if (wait > 0) {
      throw SwitchboardException.rateLimited("request rate limit exceeded", wait);
    }
  }

  /**
   * The role gate of the HTTP and admin APIs: {@code admin} passes only with role admin; {@code service}
   * with role service or admin (admin may do anything). Null when allowed, else the 403 to answer.
   */
  public Rejection admitApi(Principal principal, String role) {
    boolean ok = principal != null && !principal.anonymous()
        && (principal.isAdmin() || (!Principal.ROLE_ADMIN.equals(role) && principal.hasRole(role)));
    return ok ? null : Rejection.of(403, ErrorCode.FORBIDDEN, "role " + role + " required");
  }

  /** The method's access rule; FORBIDDEN unless it allows. */
  public void authorize(Method method, Principal principal, Params params) {
    Access access = method.access();
    String denied = access == null ? "no access rule" : access.deniedBecause(principal, params);
    if (denied != null) {
      throw new SwitchboardException(ErrorCode.FORBIDDEN, denied);
    }
  }

  /** Drops per-IP buckets that are full again (their IP has been quiet); called periodically. */
  public void sweep() {
    long now = System.nanoTime();
    for (String ip : perIp.keySet()) {
      perIp.computeIfPresent(ip, (k, b) -> b.full(now) ? null : b);
    }
  }

  public int maxRequestStrikes() {
    return limits.rateFloodStrikes();
  }
}
