package dev.switchboard.api;

import dev.switchboard.protocol.CloseCode;
import dev.switchboard.protocol.ErrorCode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import dev.switchboard.operations.OpMeters;
import dev.switchboard.topics.Namespaces;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The node's own meters, beside the ones Vert.x records into the same registry. Counters for
 * the enum-labelled series are created up front so the hot path does no registry look-ups.
 */
public final class Metrics implements OpMeters, dev.switchboard.topics.TopicMeters {
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final AtomicInteger connections = new AtomicInteger();
  private final Counter framesIn;
  private final Counter framesOut;
  private final Counter bytesIn;
  private final Counter bytesOut;
  private final Map<ErrorCode, Counter> errors = new EnumMap<>(ErrorCode.class);
  private final Map<CloseCode, Counter> closes = new EnumMap<>(CloseCode.class);
  private final Map<String, Counter> authFailures = new ConcurrentHashMap<>();
  private final Map<Integer, Counter> upgradeRejections = new ConcurrentHashMap<>();
  private final Counter opsStarted;
  private final Map<String, Counter> opsEnded = new ConcurrentHashMap<>();
  private final Timer opDuration;
  /** By configured namespace, built once at start; "other" for a namespace not configured. */
  private volatile Map<String, Counter> publications = Map.of();
  private Counter otherPublications;
  private volatile Map<String, Counter> deliveries = Map.of();
  private Counter otherDeliveries;
  private final Counter replays;
  private final Counter gapFills;
  private final Counter epochHistoryLost;
  private final Counter epochMerge;
  private final Timer loopDelay;
  private final Timer publishDeliver;
  private final Counter resumed;
  private final Counter notResumed;

  public Metrics() {
    Gauge.builder("sb_connections", connections, AtomicInteger::get)
        .description("WebSocket connections open on this node").register(registry);
    framesIn = Counter.builder("sb_frames_in").description("messages received from clients").register(registry);
    framesOut = Counter.builder("sb_frames_out").description("frames sent to clients").register(registry);
    bytesIn = Counter.builder("sb_bytes_in").description("payload bytes received from clients").register(registry);
    bytesOut = Counter.builder("sb_bytes_out").description("payload bytes sent to clients").register(registry);
    for (ErrorCode c : ErrorCode.values()) {
      errors.put(c, Counter.builder("sb_errors").tag("code", c.name()).description("error frames sent, by code")
          .register(registry));
    }
    for (CloseCode c : CloseCode.values()) {
      closes.put(c, Counter.builder("sb_closes").tag("code", String.valueOf(c.code()))
          .description("connections closed by the node, by close code").register(registry));
    }
    replays = Counter.builder("sb_replays").description("subscribes with a position replayed from history (recovered)")
        .register(registry);
    gapFills = Counter.builder("sb_gap_fills").description("history reads for offsets the live feed missed")
        .register(registry);
    epochHistoryLost = epochChanges("history_lost");
    epochMerge = epochChanges("merge");
    resumed = sessionResumes("resumed");
    notResumed = sessionResumes("not_resumed");
    loopDelay = Timer.builder("sb_event_loop_delay")
        .description("how late each gateway event loop ran its periodic tick (busy or blocked loops delay it)")
        .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(10))
        .register(registry);
    publishDeliver = Timer.builder("sb_publish_deliver")
        .description("live publications, from accepted by the publishing node to written to this node's subscribers"
            + " (one sample per publication and event loop with subscribers to it)")
        .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(30))
        .register(registry);
    opsStarted = Counter.builder("sb_operations_started").description("operations accepted by this node's worker")
        .register(registry);
    for (String o : new String[] {"done", "error", "cancelled"}) {
      opEnded(o);
    }
    opDuration = Timer.builder("sb_operation_duration").description("operations run here, from accepted to terminal")
        .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofHours(1))
        .register(registry);
  }

  // ------------------------------------------------------------------ operations (OpMeters)

  @Override
  public void started() {
    opsStarted.increment();
  }

  @Override
  public void ended(String outcome, long millis) {
    Counter c = opsEnded.get(outcome);
    (c != null ? c : opEnded(outcome)).increment();
    opDuration.record(Math.max(0, millis), java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  private Counter opEnded(String outcome) {
    return opsEnded.computeIfAbsent(outcome, o -> Counter.builder("sb_operations_ended").tag("outcome", o)
        .description("operations run on this node that reached their terminal, by outcome").register(registry));
  }

  /** Operations held by this node's worker: queued (waiting for a thread) and running (read at scrape time). */
  public void operationsLive(java.util.function.IntSupplier live, java.util.function.IntSupplier running) {
    Gauge.builder("sb_operations_running", running::getAsInt)
        .description("operations running on this node's worker").register(registry);
    Gauge.builder("sb_operations_queued", () -> Math.max(0, live.getAsInt() - running.getAsInt()))
        .description("operations accepted by this node's worker and waiting for a thread").register(registry);
  }

  // ------------------------------------------------------------------ topics

  /** Live topic subscriptions on this node (read at scrape time). */
  public void subscriptions(java.util.function.IntSupplier live) {
    Gauge.builder("sb_subscriptions", live::getAsInt)
        .description("live topic subscriptions on this node, over all topics").register(registry);
  }

  /** Registers one publication counter per configured namespace (bounded labels, no topic names). */
  public void namespaces(Namespaces namespaces) {
    Map<String, Counter> m = new HashMap<>();
    for (Namespaces.Options o : namespaces.all()) {
      m.put(o.name(), publicationCounter(o.name()));
    }
    otherPublications = publicationCounter("other");
    publications = Map.copyOf(m);
    Map<String, Counter> d = new HashMap<>();
    for (Namespaces.Options o : namespaces.all()) {
      d.put(o.name(), deliveryCounter(o.name()));
    }
    otherDeliveries = deliveryCounter("other");
    deliveries = Map.copyOf(d);
  }

  private Counter deliveryCounter(String ns) {
    return Counter.builder("sb_deliveries").tag("namespace", ns)
        .description("live topic events handed to subscribers on this node (one per event and subscriber; replays not included), by namespace")
        .register(registry);
  }

  @Override
  public void delivered(String topic, int subscribers) {
    Counter c = deliveries.get(Namespaces.namespaceOf(topic));
    if (c == null) {
      c = otherDeliveries;
    }
    if (c != null) {
      c.increment(subscribers);
    }
  }

  private Counter publicationCounter(String ns) {
    return Counter.builder("sb_publications").tag("namespace", ns)
        .description("publications accepted by this node (WebSocket and service APIs), by namespace").register(registry);
  }

  private Counter epochChanges(String cause) {
    return Counter.builder("sb_epoch_changes").tag("cause", cause)
        .description("open topics whose epoch was replaced here, by cause").register(registry);
  }

  private Counter sessionResumes(String result) {
    return Counter.builder("sb_session_resumes").tag("result", result)
        .description("upgrades with a session_id: resumed, or not (unknown, expired or another user's)")
        .register(registry);
  }

  @Override
  public void publishDelivered(long micros) {
    publishDeliver.record(Math.max(0, micros), java.util.concurrent.TimeUnit.MICROSECONDS);
  }

  @Override
  public void replayed() {
    replays.increment();
  }

  @Override
  public void gapFilled() {
    gapFills.increment();
  }

  @Override
  public void epochChanged(String cause) {
    ("merge".equals(cause) ? epochMerge : epochHistoryLost).increment();
  }

  /** One tick's lateness on an event loop, in nanoseconds (negative: early, counted as 0). */
  public void loopDelay(long nanos) {
    long n = Math.max(0, nanos);
    loopDelay.record(n, java.util.concurrent.TimeUnit.NANOSECONDS);
    long second = System.nanoTime() / 1_000_000_000L;
    if (delaySecond != second) { // a new second: its maximum starts again (a race here only blurs one second)
      previousDelayMax = currentDelayMax.getAndSet(0);
      delaySecond = second;
    }
    currentDelayMax.accumulateAndGet(n, Math::max);
  }

  private volatile long delaySecond;
  private volatile long previousDelayMax;
  private final java.util.concurrent.atomic.AtomicLong currentDelayMax = new java.util.concurrent.atomic.AtomicLong();

  /** The largest event-loop delay over roughly the last one to two seconds, in milliseconds (admin figures). */
  public double recentLoopDelayMs() {
    return Math.max(previousDelayMax, currentDelayMax.get()) / 1e6;
  }

  private final Counter sysTicks = Counter.builder("sb_sys_feed_ticks")
      .description("live-figure ticks of this node (see SysFeed); each looks whether anyone subscribes to $sys: topics")
      .register(registry);
  private final Counter sysPublications = Counter.builder("sb_sys_publications")
      .description("publications of this node's figures on the $sys: topics (only while someone subscribes)")
      .register(registry);

  public void sysFeedTick() {
    sysTicks.increment();
  }

  public void sysPublished() {
    sysPublications.increment();
  }

  /** An upgrade that asked to resume a session, and whether it did. */
  public void sessionResume(boolean ok) {
    (ok ? resumed : notResumed).increment();
  }

  /** One publication on {@code topic}: a map look-up and an increment. */
  @Override
  public void published(String topic) {
    Counter c = publications.get(Namespaces.namespaceOf(topic));
    if (c == null) {
      c = otherPublications;
    }
    if (c != null) {
      c.increment();
    }
  }

  // ------------------------------------------------------------------ Hazelcast

  /**
   * Cluster figures read at scrape time from local Hazelcast state (no remote call: the scrape runs
   * on an event loop): members in this member's view, and whether this member's partition replicas
   * are in sync (1) or migrating / missing backups (0).
   */
  public void hazelcast(com.hazelcast.core.HazelcastInstance hz) {
    Gauge.builder("sb_cluster_members", hz, h -> h.getLifecycleService().isRunning() ? h.getCluster().getMembers().size() : 0)
        .description("Hazelcast members in this member's view of the cluster").register(registry);
    Gauge.builder("sb_cluster_local_member_safe", hz,
            h -> h.getLifecycleService().isRunning() && h.getPartitionService().isLocalMemberSafe() ? 1 : 0)
        .description("1 when this member's partition replicas are in sync (safe to stop), else 0").register(registry);
    Counter done = migrations("completed");
    Counter failed = migrations("failed");
    // Hazelcast calls these on its own event threads; they only bump counters
    hz.getPartitionService().addMigrationListener(new com.hazelcast.partition.MigrationListener() {
      @Override
      public void migrationStarted(com.hazelcast.partition.MigrationState state) {
      }

      @Override
      public void migrationFinished(com.hazelcast.partition.MigrationState state) {
      }

      @Override
      public void replicaMigrationCompleted(com.hazelcast.partition.ReplicaMigrationEvent event) {
        done.increment();
      }

      @Override
      public void replicaMigrationFailed(com.hazelcast.partition.ReplicaMigrationEvent event) {
        failed.increment();
      }
    });
  }

  private Counter migrations(String result) {
    return Counter.builder("sb_cluster_replica_migrations").tag("result", result)
        .description("partition replica migrations in the cluster, as this member's listener saw them, by result")
        .register(registry);
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public String scrape() {
    return registry.scrape();
  }

  public AtomicInteger connections() {
    return connections;
  }

  public void frameIn(int bytes) {
    framesIn.increment();
    bytesIn.increment(bytes);
  }

  public void frameOut(int bytes) {
    framesOut.increment();
    bytesOut.increment(bytes);
  }

  /** Frames counted by an event loop since its last report (one counter update per loop turn, not per frame). */
  public void framesOut(long frames, long bytes) {
    framesOut.increment(frames);
    bytesOut.increment(bytes);
  }

  public void error(ErrorCode code) {
    errors.get(code).increment();
  }

  public void close(CloseCode code) {
    closes.get(code).increment();
  }

  public void authFailure(String reason) {
    authFailures.computeIfAbsent(reason, r -> Counter.builder("sb_auth_failures").tag("reason", r)
        .description("tokens refused, by reason").register(registry)).increment();
  }

  public void upgradeRejected(int status) {
    upgradeRejections.computeIfAbsent(status, s -> Counter.builder("sb_upgrade_rejections")
        .tag("status", String.valueOf(s)).description("WebSocket upgrades refused, by HTTP status")
        .register(registry)).increment();
  }
}
