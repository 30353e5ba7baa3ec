package dev.switchboard;

import dev.switchboard.api.Metrics;
import dev.switchboard.auth.Policy;
import dev.switchboard.auth.TokenVerifier;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.routing.MethodRegistry;
import dev.switchboard.topics.TopicHub;
import dev.switchboard.cluster.Addresses;
import dev.switchboard.cluster.Directory;
import dev.switchboard.cluster.DirectSender;
import dev.switchboard.cluster.Sessions;
import dev.switchboard.operations.Operations;
import dev.switchboard.cluster.LocalConnections;
import dev.switchboard.protocol.CloseCode;
import io.vertx.core.Vertx;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What every part of a node shares: its settings, identity, the verifier, the method registry, the
 * policy chokepoint and the meters. Created once by {@link Node}; immutable apart from the draining flag.
 */
public final class NodeContext {
  private final Vertx vertx;
  private final HazelcastClusterManager cluster;
  private final SwitchboardConfig config;
  private final TokenVerifier verifier;
  private final MethodRegistry methods;
  private final Metrics metrics;
  private final Policy policy;
  private final AtomicBoolean draining = new AtomicBoolean();
  private final AtomicBoolean warming = new AtomicBoolean();
  private final AtomicBoolean minority = new AtomicBoolean();
  private volatile TopicHub topics;
  private volatile Directory directory;
  private volatile LocalConnections local;
  private volatile DirectSender directs;
  private volatile Sessions sessions;
  private volatile Operations ops;

  public NodeContext(Vertx vertx, HazelcastClusterManager cluster, SwitchboardConfig config, TokenVerifier verifier,
                     MethodRegistry methods, Metrics metrics) {
    this.vertx = vertx;
    this.cluster = cluster;
    this.config = config;
    this.verifier = verifier;
    this.methods = methods;
    this.metrics = metrics;
    this.policy = new Policy(config.limits(), config.http(), draining::get, minority::get, metrics.connections());
  }

  public Vertx vertx() {
    return vertx;
  }

  public HazelcastClusterManager cluster() {
    return cluster;
  }

  public SwitchboardConfig config() {
    return config;
  }

  public String nodeId() {
    return config.node().id();
  }

  public TokenVerifier verifier() {
    return verifier;
  }

  public MethodRegistry methods() {
    return methods;
  }

  public Metrics metrics() {
    return metrics;
  }

  public Policy policy() {
    return policy;
  }

  public TopicHub topics() {
    return topics;
  }

  /** Set once at start-up, before the gateways accept connections. */
  public void topics(TopicHub hub) {
    this.topics = hub;
  }

  public Directory directory() {
    return directory;
  }

  public LocalConnections local() {
    return local;
  }

  /** Set once at start-up, before the gateways accept connections. */
  public void cluster(Directory directory, LocalConnections local) {
    this.directory = directory;
    this.local = local;
    this.directs = new DirectSender(vertx, nodeId(), directory, local);
    this.sessions = new Sessions(cluster.getHazelcastInstance(), config.lifecycle().sessionTtlMs());
  }

  public Operations ops() {
    return ops;
  }

  /** Set once at start-up. */
  public void ops(Operations ops) {
    this.ops = ops;
  }

  public Sessions sessions() {
    return sessions;
  }

  public DirectSender directs() {
    return directs;
  }

  /** Closes a connection on whatever node holds it. */
  public void closeRemote(String nodeId, String connectionId, CloseCode code) {
    if (nodeId().equals(nodeId)) {
      local.close(connectionId, code);
    } else {
      vertx.eventBus().send(Addresses.node(nodeId), new io.vertx.core.json.JsonObject()
          .put("op", "close").put("conn", connectionId).put("code", code.code()));
    }
  }

  public boolean draining() {
    return draining.get();
  }

  private final long startedAt = System.currentTimeMillis();
  private volatile java.util.function.Supplier<io.vertx.core.Future<Void>> drainer =
      () -> io.vertx.core.Future.failedFuture("not started");

  /** When this node started, epoch milliseconds. */
  public long startedAt() {
    return startedAt;
  }

  /** Set once by Node: what {@link #drain()} runs. */
  public void drainer(java.util.function.Supplier<io.vertx.core.Future<Void>> d) {
    this.drainer = d;
  }

  /**
   * The drain a SIGTERM runs (see Node#shutdown), started by the admin API; completes once the node
   * has left the cluster. Run as a process, the node then exits (see Main); embedded, it only stops.
   */
  public io.vertx.core.Future<Void> drain() {
    return drainer.get();
  }

  public void startDraining() {
    draining.set(true);
  }

  /** While the node runs its warm-up (see WarmUp) it does not report ready. */
  public void warming(boolean on) {
    warming.set(on);
  }

  /** Whether this node is on a minority side of a split cluster (see cluster/Quorum): it serves no client then. */
  public boolean minority() {
    return minority.get();
  }

  /** Returns whether the flag changed. */
  public boolean minority(boolean on) {
    return minority.getAndSet(on) != on;
  }

  /**
   * Ready: joined the cluster, on its majority side and serving there (hearing the others: see
   * cluster/Quorum), warmed up and not draining.
   */
  public boolean ready() {
    dev.switchboard.cluster.Quorum q = dev.switchboard.cluster.Quorum.of(cluster.getHazelcastInstance());
    return !draining.get() && !warming.get() && !minority.get() && (q == null || q.serving()) && cluster.isActive()
        && cluster.getNodes().contains(cluster.getNodeId());
  }
}
