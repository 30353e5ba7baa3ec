package dev.switchboard.config;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.regex.Pattern;

/** All settings of a node, typed and validated; one record per area, mapping one-to-one onto conf/config.json. */
public record SwitchboardConfig(
    NodeOptions node,
    HttpOptions http,
    ClusterOptions cluster,
    AuthOptions auth,
    LimitsOptions limits,
    LifecycleOptions lifecycle,
    LogOptions log,
    AdminOptions admin,
    Settings settings) {

  private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9_.-]{0,64}");

  public static SwitchboardConfig from(Settings s) {
    String nodeId = s.string("node.id", NODE_ID, "up to 64 of A-Z a-z 0-9 _ . -");
    if (nodeId.isEmpty()) {
      nodeId = "n_" + randomId(10);
    }
    NodeOptions node = new NodeOptions(nodeId, s.string("node.server_version"), NodeRole.parse(s, "node.role"));
    HttpOptions http = new HttpOptions(
        s.string("http.host"),
        s.integer("http.port", 0, 65535),
        s.list("http.allowed_origins"),
        s.integer("http.event_loops", 0, 256));
    ClusterOptions cluster = new ClusterOptions(
        s.string("cluster.config"),
        s.string("cluster.name", Pattern.compile("[A-Za-z0-9_.-]{1,100}"), "1 to 100 of A-Z a-z 0-9 _ . -"),
        s.string("cluster.host"),
        s.integer("cluster.port", 0, 65535),
        s.list("cluster.members"),
        s.string("cluster.bus_host"),
        s.integer("cluster.bus_port", 0, 65535),
        s.number("cluster.join_timeout_ms", 1000, 3_600_000),
        s.integer("cluster.quorum", 0, 10_000),
        s.integer("cluster.member_timeout_s", 2, 600),
        s.integer("cluster.merge_delay_s", 1, 3600),
        s.number("cluster.handover_ms", 0, 600_000));
    AuthOptions auth = new AuthOptions(
        s.bool("auth.required"),
        s.string("jwt.secret"),
        s.string("jwt.public_key"),
        s.string("jwt.private_key"),
        s.string("jwt.issuer"),
        s.string("jwt.audience"),
        s.integer("jwt.leeway_s", 0, 300));
    if (!auth.secret().isEmpty() && auth.secret().getBytes(StandardCharsets.UTF_8).length < 32) {
      throw new ConfigException("invalid setting jwt.secret (SB_JWT_SECRET): must be at least 32 bytes");
    }
    // a data member serves no client: it verifies no token and needs no key
    if (auth.required() && auth.secret().isEmpty() && auth.publicKey().isEmpty() && node.role().servesClients()) {
      throw new ConfigException("auth.required is true but no key is set: set SB_JWT_SECRET (HS256, >= 32 bytes)"
          + " or SB_JWT_PUBLIC_KEY (PEM, RS256/ES256), or SB_AUTH_REQUIRED=false for anonymous development use");
    }
    LimitsOptions limits = new LimitsOptions(
        s.integer("limits.max_message_bytes", 256, 64 << 20),
        s.integer("limits.max_frame_bytes", 256, 64 << 20),
        s.integer("limits.max_json_depth", 2, 1000),
        s.number("limits.heartbeat_ms", 10, 3_600_000),
        s.number("limits.idle_timeout_ms", 20, 86_400_000),
        s.integer("limits.max_connections", 1, 10_000_000),
        s.integer("limits.max_connections_per_user", 1, 10_000_000),
        s.integer("limits.connect_rate_per_ip", 1, 100_000_000),
        s.integer("limits.rate_per_sec", 1, 100_000_000),
        s.integer("limits.rate_burst", 1, 100_000_000),
        s.integer("limits.rate_flood_strikes", 1, 1_000_000),
        s.integer("limits.max_concurrent_ops", 0, 100_000),
        s.integer("limits.outbound_queue_bytes", 1024, Integer.MAX_VALUE),
        s.number("limits.token_expiring_ms", 0, 86_400_000),
        s.integer("limits.max_subscriptions", 1, 1_000_000));
    if (limits.maxFrameBytes() < limits.maxMessageBytes()) {
      throw new ConfigException("invalid setting limits.max_frame_bytes (SB_LIMITS_MAX_FRAME_BYTES): must be at least"
          + " limits.max_message_bytes (" + limits.maxMessageBytes() + ")");
    }
    if (limits.idleTimeoutMs() <= limits.heartbeatMs()) {
      throw new ConfigException("invalid setting limits.idle_timeout_ms (SB_IDLE_TIMEOUT_MS): must be greater than"
          + " limits.heartbeat_ms (" + limits.heartbeatMs() + ")");
    }
    LifecycleOptions lifecycle = new LifecycleOptions(
        s.number("session.ttl_ms", 0, 86_400_000),
        s.number("ops.orphan_timeout_ms", 0, 86_400_000),
        s.number("ops.retention_ms", 0, 86_400_000),
        s.number("shutdown.drain_ms", 0, 3_600_000),
        s.number("shutdown.grace_ms", 0, 3_600_000),
        s.integer("ops.workers", 0, 1024),
        s.integer("ops.queue", 0, 1_000_000),
        s.integer("ops.max_per_user", 1, 1_000_000),
        s.number("ops.deadline_ms", 0, 30L * 86_400_000),
        s.number("node.warmup_ms", 0, 600_000));
    AdminOptions admin = new AdminOptions(
        s.number("admin.gather_timeout_ms", 50, 60_000),
        s.number("admin.live_interval_ms", 50, 60_000));
    return new SwitchboardConfig(node, http, cluster, auth, limits, lifecycle, LogOptions.from(s), admin, s);
  }

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final char[] ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".toCharArray();

  /** A random base-62 string, for node, connection and session ids. */
  public static String randomId(int length) {
    // one draw from the secure source per id (not one per character: each draw takes a lock and
    // may read /dev/urandom, which showed in the upgrade path's profile)
    byte[] bytes = new byte[length];
    RANDOM.nextBytes(bytes);
    char[] out = new char[length];
    for (int i = 0; i < length; i++) {
      out[i] = ALPHABET[(bytes[i] & 0xff) % ALPHABET.length];
    }
    return new String(out);
  }

  /** {@code role}: what this node is in the cluster (see {@link NodeRole}). */
  public record NodeOptions(String id, String serverVersion, NodeRole role) {
    /** A node of the default role, {@link NodeRole#ALL}. */
    public NodeOptions(String id, String serverVersion) {
      this(id, serverVersion, NodeRole.ALL);
    }
  }

  public record HttpOptions(String host, int port, java.util.List<String> allowedOrigins, int eventLoops) {
  }

  /**
   * {@code quorum}: 0 = a side serves while it holds a strict majority of the data members it expects
   * (see cluster/Quorum), n = while it has at least n; {@code memberTimeoutS}: a member silent this long
   * is removed; {@code mergeDelayS}: how often the sides of a healed split look for each other;
   * {@code handoverMs}: the window over which a minority side hands its clients to the majority.
   */
  public record ClusterOptions(String configPath, String name, String host, int port, java.util.List<String> members,
                               String busHost, int busPort, long joinTimeoutMs, int quorum, int memberTimeoutS,
                               int mergeDelayS, long handoverMs) {
    /** With the defaults of conf/config.json for the partition settings. */
    public ClusterOptions(String configPath, String name, String host, int port, java.util.List<String> members,
                          String busHost, int busPort, long joinTimeoutMs) {
      this(configPath, name, host, port, members, busHost, busPort, joinTimeoutMs, 0, 15, 5, 2000);
    }
  }

  /** Secrets live here: never log this record. */
  public record AuthOptions(boolean required, String secret, String publicKey, String privateKey, String issuer,
                            String audience, int leewaySeconds) {
    @Override
    public String toString() {
      return "AuthOptions[required=" + required + ", hs256=" + !secret.isEmpty() + ", publicKey=" + !publicKey.isEmpty()
          + ", issuer=" + issuer + ", audience=" + audience + "]";
    }
  }

  public record LimitsOptions(int maxMessageBytes, int maxFrameBytes, int maxJsonDepth, long heartbeatMs,
                              long idleTimeoutMs, int maxConnections, int maxConnectionsPerUser, int connectRatePerIp,
                              int ratePerSec, int rateBurst, int rateFloodStrikes, int maxConcurrentOps,
                              int outboundQueueBytes, long tokenExpiringMs, int maxSubscriptions) {
  }

  public record LifecycleOptions(long sessionTtlMs, long orphanTimeoutMs, long opRetentionMs, long drainMs,
                                 long shutdownGraceMs, int opWorkers, int opQueue, int opsPerUser,
                                 long opDeadlineMs, long warmupMs) {
  }

  /**
   * {@code gatherTimeoutMs}: how long an admin request waits for each node's answer (a node that
   * does not answer in time is listed as not answering); {@code liveIntervalMs}: how often each node
   * publishes its figures on the {@code $sys:} topics while anyone subscribes.
   */
  public record AdminOptions(long gatherTimeoutMs, long liveIntervalMs) {
  }

  @Override
  public String toString() {
    return "SwitchboardConfig[node=" + node + ", http=" + http + ", cluster=" + cluster + ", auth=" + auth
        + ", limits=" + limits + ", lifecycle=" + lifecycle + ", log=" + log + "]";
  }
}
