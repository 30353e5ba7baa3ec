package dev.switchboard;

import com.hazelcast.config.Config;
import dev.switchboard.api.EventBusApi;
import dev.switchboard.api.Metrics;
import dev.switchboard.api.ProbeVerticle;
import dev.switchboard.auth.TokenVerifier;
import dev.switchboard.config.ConfigException;
import dev.switchboard.config.NodeRole;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.cluster.Addresses;
import dev.switchboard.cluster.Directory;
import dev.switchboard.cluster.LocalConnections;
import dev.switchboard.cluster.Quorum;
import dev.switchboard.methods.AuthRefresh;
import dev.switchboard.methods.OpMethods;
import dev.switchboard.operations.ExternalKind;
import dev.switchboard.operations.OpHub;
import dev.switchboard.operations.OperationKind;
import dev.switchboard.operations.OperationMethod;
import dev.switchboard.operations.Operations;
import dev.switchboard.operations.builtin.DemoCount;
import dev.switchboard.operations.builtin.DemoPrimes;
import dev.switchboard.methods.TopicHistory;
import dev.switchboard.methods.TopicPresence;
import dev.switchboard.methods.UserDevices;
import dev.switchboard.methods.UserSend;
import dev.switchboard.methods.TopicPublish;
import dev.switchboard.methods.TopicSubscribe;
import dev.switchboard.methods.TopicUnsubscribe;
import dev.switchboard.topics.Namespaces;
import dev.switchboard.topics.TopicHub;
import dev.switchboard.methods.SystemInfo;
import dev.switchboard.methods.SystemMethods;
import dev.switchboard.methods.SystemPing;
import dev.switchboard.routing.MethodRegistry;
import dev.switchboard.transport.GatewayVerticle;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A running Switchboard node: clustered Vert.x on Hazelcast, the method registry, and one
 * {@link GatewayVerticle} per event loop sharing the HTTP port; a data node ({@link NodeRole#DATA})
 * has only the {@link ProbeVerticle} there (see NodeRole for what each role runs).
 */
public final class Node {
  private static final Logger LOG = LoggerFactory.getLogger(Node.class);
  static final long ANNOUNCE_MS = 5000;
  /** How long a leaving node waits for the others to note its departure. */
  static final long LEAVING_MS = 2000;

  private final NodeContext context;
  private final List<GatewayVerticle> gateways;
  private final int port;
  private volatile dev.switchboard.transport.WarmUp.Report warmUp;
  private volatile Future<Void> stopping;

  private Node(NodeContext context, List<GatewayVerticle> gateways, int port) {
    this.context = context;
    this.gateways = gateways;
    this.port = port;
  }

  public NodeContext context() {
    return context;
  }

  /**
   * Completes once the session writes this node's connections made so far have landed (or after
   * {@code timeoutMs}): a closed connection's last write included, once its close was handled.
   */
  public Future<Void> sessionWritesLanded(long timeoutMs) {
    return Future.join(gateways.stream().map(g -> g.sessionWritesLanded(timeoutMs)).toList()).mapEmpty();
  }

  /** What the start-up warm-up did (null until it is over). */
  public dev.switchboard.transport.WarmUp.Report warmUp() {
    return warmUp;
  }

  public int port() {
    return port;
  }

  public String nodeId() {
    return context.nodeId();
  }

  /** Starts a node; a gateway waits for a data member (see NoDataMemberRetry). */
  public static Future<Node> start(SwitchboardConfig config) {
    return NoDataMemberRetry.start(config, Node::startOnce);
  }

  private static Future<Node> startOnce(SwitchboardConfig config) {
    Config hz;
    Namespaces namespaces;
    TokenVerifier[] verifier = new TokenVerifier[1];
    try {
      namespaces = new Namespaces(config.settings().tree().getJsonObject("namespaces"));
      hz = HazelcastSetup.hazelcastConfig(config.cluster(), config.node().role());
      HazelcastSetup.historyConfig(hz, namespaces);
      HazelcastSetup.sessionsConfig(hz, config.lifecycle().sessionTtlMs());
    } catch (ConfigException e) {
      return Future.failedFuture(e);
    }
    Metrics metrics = new Metrics();
    Quorum quorum = HazelcastSetup.quorum(hz);
    HazelcastClusterManager cluster = new HazelcastClusterManager(hz);
    int loops = config.http().eventLoops() > 0 ? config.http().eventLoops() : Runtime.getRuntime().availableProcessors();
    VertxOptions options = new VertxOptions()
        .setEventLoopPoolSize(loops)
        .setPreferNativeTransport(true)
        .setEventBusOptions(new EventBusOptions().setHost(config.cluster().busHost()).setPort(config.cluster().busPort()))
        .setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true)
            // no event-bus address label: there is an address per topic and per node, which would
            // make one meter series each (unbounded cardinality, and cost on every message)
            // the pool labels (a handful of pools: worker, internal blocking, named ones): without them
            // every pool's meters share one id, only the first pool's gauges register, and Micrometer
            // warns at start ("Gauge has been already registered (vertx.pool.queue.pending)")
            .setLabels(java.util.EnumSet.of(Label.HTTP_METHOD, Label.HTTP_CODE, Label.EB_SIDE, Label.EB_FAILURE,
                Label.POOL_TYPE, Label.POOL_NAME))
            // no per-socket Vert.x meters: they hold a request timer, tags and socket metric for each
            // WebSocket's whole life and run on every connect; the sb_* meters cover connections,
            // frames, bytes and closes
            .addDisabledMetricsCategory(io.vertx.micrometer.MetricsDomain.HTTP_SERVER)
            .addDisabledMetricsCategory(io.vertx.micrometer.MetricsDomain.NET_SERVER));
    Future<Vertx> clustered = Vertx.builder()
        .with(options)
        .withClusterManager(cluster)
        .withMetrics(new MicrometerMetricsFactory(metrics.registry()))
        .buildClustered()
        .timeout(config.cluster().joinTimeoutMs(), TimeUnit.MILLISECONDS);
    // Assembling the node creates Hazelcast proxies (getMap, getRingbuffer, …), each a call to every
    // member that waits for their answers: seconds while a member is frozen or partitions migrate.
    // Off the event loop, so that the Vert.x and Hazelcast callbacks it carries go on meanwhile.
    return clustered.compose(vertx -> vertx.<Future<Node>>executeBlocking(() -> {
      try {
        verifier[0] = new TokenVerifier(vertx, config.auth());
      } catch (ConfigException e) {
        return vertx.close().transform(v -> Future.failedFuture(e));
      }
      MethodRegistry methods = new MethodRegistry()
          .register(new SystemInfo())
          .register(new SystemMethods())
          .register(new SystemPing())
          .register(new AuthRefresh())
          .register(new TopicSubscribe())
          .register(new TopicUnsubscribe())
          .register(new TopicPublish())
          .register(new TopicHistory())
          .register(new TopicPresence())
          .register(new UserDevices())
          .register(new UserSend());
      NodeContext ctx = new NodeContext(vertx, cluster, config, verifier[0], methods, metrics);
      TopicHub hub = new TopicHub(vertx, cluster.getHazelcastInstance(), namespaces, quorum);
      // on every node (not only the oldest, as the directory's cleanup): its own topics' bus
      // registrations and histories may have gone with the members that left, and routes settle
      // again when a member joins or a side merges back (see LiveFeed#membershipChanged)
      cluster.getHazelcastInstance().getCluster().addMembershipListener(new com.hazelcast.cluster.MembershipListener() {
        @Override
        public void memberAdded(com.hazelcast.cluster.MembershipEvent e) {
          hub.membershipChanged();
        }

        @Override
        public void memberRemoved(com.hazelcast.cluster.MembershipEvent e) {
          hub.membershipChanged();
        }
      });
      metrics.namespaces(namespaces);
      hub.meters(metrics);
      metrics.subscriptions(hub::subscriptions);
      metrics.hazelcast(cluster.getHazelcastInstance());
      ctx.topics(hub);
      LocalConnections local = new LocalConnections(vertx, config.node().id());
      NodeRole role = config.node().role();
      Directory directory = new Directory(vertx, cluster.getHazelcastInstance(), config.node().id(), role.wire(),
          hub::membersLost);
      ctx.cluster(directory, local);
      directory.reassertOnMembershipChanges(local::held, local::holds);
      directory.afterMembershipChanges(hub::reassertPresence);
      hub.directory(directory);
      var life = config.lifecycle();
      OpHub opHub = new OpHub(vertx, cluster.getHazelcastInstance(), config.node().id(),
          life.opWorkers() > 0 ? life.opWorkers() : Runtime.getRuntime().availableProcessors(), life.opQueue(),
          life.orphanTimeoutMs(), life.opRetentionMs(), true);
      opHub.worker().deadline(life.opDeadlineMs()).meters(metrics);
      metrics.operationsLive(opHub.worker()::live, opHub.worker()::running);
      ctx.ops(new Operations(vertx, opHub));
      for (OperationKind kind : List.of(new DemoCount(), new DemoPrimes())) {
        methods.register(new OperationMethod(kind, Math.max(1, config.limits().maxConcurrentOps()), life.opsPerUser()));
      }
      for (String external : config.settings().list("ops.external")) {
        methods.register(new OperationMethod(new ExternalKind(external), Math.max(1, config.limits().maxConcurrentOps()),
            life.opsPerUser()));
      }
      OpMethods.all().forEach(methods::register);
      List<GatewayVerticle> gateways = new CopyOnWriteArrayList<>();
      vertx.setPeriodic(10_000, id -> ctx.policy().sweep());
      // a data node runs no operation: it registers no kind, so no work is sent to it
      Future<Void> kinds = !role.servesClients() ? opHub.start() : opHub.start()
          .compose(r -> opHub.worker().register(new DemoCount()))
          .compose(r -> opHub.worker().register(new DemoPrimes()));
      long warmupMs = role.servesClients() ? life.warmupMs() : 0; // nothing to warm without a WebSocket server
      ctx.warming(warmupMs > 0);
      Future<Void> departures = vertx.eventBus().<io.vertx.core.json.JsonObject>consumer(Addresses.quorum(ctx.nodeId()), m -> {
        try {
          quorum.leaving(java.util.UUID.fromString(m.body().getString("member", "")));
          m.reply(new io.vertx.core.json.JsonObject());
        } catch (RuntimeException e) {
          m.fail(400, "member must be a member uuid");
        }
      }).completion();
      return kinds.compose(r -> local.ready()).compose(r -> departures).compose(r -> hub.ready())
          .compose(r -> dev.switchboard.api.AdminNode.register(ctx))
          .compose(r -> dev.switchboard.api.SysFeed.start(ctx))
          .compose(r -> majority(vertx, cluster.getHazelcastInstance(), config.cluster().joinTimeoutMs()))
          .compose(r -> listen(ctx, gateways, loops))
          .map(port -> {
            Node n = new Node(ctx, gateways, port);
            ctx.drainer(n::drainThenExit);
            Context on = vertx.getOrCreateContext();
            quorum.onMajorityChange(ok -> on.runOnContext(v -> n.majorityChanged(ok)));
            cluster.getHazelcastInstance().getLifecycleService().addLifecycleListener(e -> {
              if (e.getState() == com.hazelcast.core.LifecycleEvent.LifecycleState.MERGED) {
                on.runOnContext(v -> n.merged());
              }
            });
            on.runOnContext(v -> n.majorityChanged(quorum.majority())); // a change before the listener was on
            return n;
          })
          .compose(n -> {
            // takes part in the cross rounds of nodes that join later (they ask announced nodes only:
            // registered before this one announces itself, after its own warm-up)
            return dev.switchboard.transport.WarmUp.serve(ctx, n.port(), warmupMs).otherwiseEmpty()
                .compose(x -> dev.switchboard.transport.WarmUp.run(ctx, n.port(), warmupMs))
                .onComplete(v -> ctx.warming(false)).map(report -> {
                  n.warmUp = report;
                  return n;
                });
          })
          .compose(n -> n.announce().map(n))
          .recover(err -> vertx.close().transform(v -> Future.failedFuture(err)));
    }, false).compose(started -> started, err -> vertx.close().transform(v -> Future.failedFuture(err))));
  }

  /**
   * Opens the node's HTTP port; completes with the port bound. A node serving clients: the event-bus
   * API for services and one gateway verticle per event loop. A data node: the probes and metrics only.
   */
  private static Future<Integer> listen(NodeContext ctx, List<GatewayVerticle> gateways, int loops) {
    Vertx vertx = ctx.vertx();
    if (!ctx.config().node().role().servesClients()) {
      ProbeVerticle probes = new ProbeVerticle(ctx);
      return vertx.deployVerticle(probes).map(id -> probes.actualPort());
    }
    return EventBusApi.register(ctx).compose(r -> vertx.deployVerticle(() -> {
      GatewayVerticle g = new GatewayVerticle(ctx);
      gateways.add(g);
      return g;
    }, new DeploymentOptions().setInstances(loops))).map(id -> gateways.get(0).actualPort());
  }

  /**
   * Completes once Hazelcast first judged this node's side a majority (its protection guards the
   * histories from then on; before, it refuses them), or fails after {@code timeoutMs}.
   */
  static Future<Void> majority(Vertx vertx, com.hazelcast.core.HazelcastInstance hz, long timeoutMs) {
    var protection = hz.getSplitBrainProtectionService().getSplitBrainProtection(Quorum.NAME);
    Promise<Void> done = Promise.promise();
    long deadline = System.currentTimeMillis() + timeoutMs;
    vertx.setPeriodic(0, 50, id -> {
      if (protection.hasMinimumSize()) {
        vertx.cancelTimer(id);
        done.tryComplete();
      } else if (System.currentTimeMillis() >= deadline) {
        vertx.cancelTimer(id);
        done.tryFail("no majority of the cluster's members joined within " + timeoutMs + " ms");
      }
    });
    return done.future();
  }

  /**
   * Drain and stop: readiness turns false, clients get {@code reconnect} then close 1012 spread
   * over the drain window, then the node leaves the cluster. Idempotent.
   */
  public synchronized Future<Void> shutdown() {
    if (stopping != null) {
      return stopping;
    }
    context.startDraining();
    long drainMs = context.config().lifecycle().drainMs();
    // operations running here get the grace period to finish (new work goes to other nodes); the
    // node leaves the cluster only after that, so their clients, wherever they resumed, get them
    Future<Void> opsDone = context.ops() == null ? Future.succeededFuture()
        : context.ops().hub().worker().drain(context.config().lifecycle().shutdownGraceMs());
    Promise<Void> drained = Promise.promise();
    // told first: the others still count this node while it drains (it answers them), and expect it
    // gone once it leaves
    announceLeaving().onComplete(x -> Future.join(gateways.stream().map(g -> g.drain(drainMs, "draining")).toList())
        .timeout(drainMs + 2000, TimeUnit.MILLISECONDS)
        .onComplete(ar -> drained.complete()));
    long settleMs = dev.switchboard.transport.GatewayVerticle.CLOSING_TIMEOUT_SECONDS * 1000L + 2000;
    long began = System.currentTimeMillis();
    // the drain's steps, each an event with "step" and the ms since it began
    LOG.atInfo().addKeyValue("step", "begin").addKeyValue("connections", context.local().size())
        .addKeyValue("drain_ms", drainMs).addKeyValue("grace_ms", context.config().lifecycle().shutdownGraceMs())
        .log("node {} draining: {} connection(s), drain {} ms, grace {} ms", nodeId(), context.local().size(), drainMs,
            context.config().lifecycle().shutdownGraceMs());
    stopping = drained.future()
        .compose(v -> Future.join(gateways.stream().map(g -> g.settled(settleMs)).toList()).otherwiseEmpty())
        .compose(v -> {
          long ms = System.currentTimeMillis() - began;
          LOG.atInfo().addKeyValue("step", "connections_closed").addKeyValue("elapsed_ms", ms)
              .log("node {} drain: connections closed after {} ms", nodeId(), ms);
          return opsDone;
        })
        .compose(v -> {
          long ms = System.currentTimeMillis() - began;
          LOG.atInfo().addKeyValue("step", "operations_done").addKeyValue("elapsed_ms", ms)
              .log("node {} drain: operations done after {} ms; leaving the cluster", nodeId(), ms);
          return context.vertx().close();
        })
        .onSuccess(v -> {
          long ms = System.currentTimeMillis() - began;
          LOG.atInfo().addKeyValue("step", "left").addKeyValue("elapsed_ms", ms).log("node {} left after {} ms", nodeId(), ms);
        })
        .onFailure(err -> LOG.atWarn().addKeyValue("step", "failed").addKeyValue("elapsed_ms", System.currentTimeMillis() - began)
            .log("node {} did not close cleanly: {}", nodeId(), String.valueOf(err.getMessage())));
    return stopping;
  }

  private volatile Runnable afterDrain = () -> { };

  /**
   * What runs once a drain asked for by the admin API is over: Main exits the process (as after a
   * SIGTERM); a node embedded in another JVM (tests) only stops.
   */
  public void afterDrain(Runnable r) {
    this.afterDrain = r;
  }

  private Future<Void> drainThenExit() {
    boolean first = stopping == null;
    Future<Void> f = shutdown();
    if (first) {
      f.onComplete(ar -> afterDrain.run());
    }
    return f;
  }

  /** Publishes this node in the cluster's node list, now and every few seconds (connection count). */
  private Future<Void> announce() {
    Context ctx = context.vertx().getOrCreateContext();
    context.vertx().setPeriodic(ANNOUNCE_MS, id -> reannounce(ctx));
    return context.directory().announce(ctx, port, 0, startedAt);
  }

  private final long startedAt = System.currentTimeMillis();

  private void reannounce(Context ctx) {
    if (!context.draining()) {
      context.directory().announce(ctx, port, context.local().size(), startedAt);
    }
  }

  /** Stops at once without the drain window (tests, failed start). */
  public Future<Void> close() {
    context.startDraining();
    // not chained on announceLeaving's future: its listeners run on a context this very close ends
    Promise<Void> closed = Promise.promise();
    announceLeaving().onComplete(ar -> context.vertx().close().onComplete(closed));
    return closed.future();
  }

  /**
   * Tells every other node that this one leaves on purpose, and waits for their answers (at most
   * {@link #LEAVING_MS}): once it is gone they expect one member fewer, so its departure does not count
   * against their majority (see Quorum).
   */
  private Future<Void> announceLeaving() {
    Vertx vertx = context.vertx();
    String me = context.cluster().getHazelcastInstance().getCluster().getLocalMember().getUuid().toString();
    io.vertx.core.eventbus.DeliveryOptions opts = new io.vertx.core.eventbus.DeliveryOptions().setSendTimeout(LEAVING_MS);
    return context.directory().nodes().compose(nodes -> Future.join(nodes.stream()
            .map(n -> ((io.vertx.core.json.JsonObject) n).getString("node_id"))
            .filter(id -> id != null && !id.equals(nodeId()))
            .map(id -> vertx.eventBus().request(Addresses.quorum(id), new io.vertx.core.json.JsonObject().put("member", me), opts))
            .toList()))
        .timeout(LEAVING_MS, TimeUnit.MILLISECONDS)
        .<Void>mapEmpty()
        .otherwiseEmpty();
  }

  /**
   * This node's side was merged into another cluster after a split: its copies of every structure were
   * discarded (the other side's kept). Its clients, whose sessions and registrations went with them,
   * reconnect (reason "merged"); topics it appended to while apart get new epochs (TopicHub#merged).
   * On a side that was a minority this finds no client and no such topic: it served nothing.
   */
  private void merged() {
    LOG.warn("node " + nodeId() + " was merged into the cluster after a split");
    reannounce(context.vertx().getOrCreateContext()); // under its new member uuid, at once
    context.topics().merged();
    long window = context.config().cluster().handoverMs();
    gateways.forEach(g -> g.drain(window, "merged"));
  }

  /**
   * This node's side of the cluster gained or lost the majority (see Quorum; on a Vert.x context).
   * Lost: the node reports not ready, refuses upgrades and hands every client to the majority (the
   * drain's {@code reconnect}, reason "minority", and close 1012, over {@code cluster.handover_ms}); its
   * topics refuse appends and reads meanwhile. Regained (after the merge): it serves again, without
   * what it cached of its own copy of the histories.
   */
  private void majorityChanged(boolean ok) {
    if (!context.minority(!ok)) {
      return;
    }
    if (ok) {
      LOG.warn("node " + nodeId() + " is back with the cluster's majority: serving again");
      context.topics().rejoined();
    } else {
      LOG.warn("node " + nodeId() + " is cut off from the cluster's majority: not ready, handing its clients over");
      context.ops().cutOff();
      long window = context.config().cluster().handoverMs();
      gateways.forEach(g -> g.drain(window, "minority"));
    }
  }
}
