package dev.switchboard;

import com.hazelcast.config.Config;
import com.hazelcast.config.InterfacesConfig;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.config.XmlConfigBuilder;
import dev.switchboard.api.EventBusApi;
import dev.switchboard.api.Metrics;
import dev.switchboard.auth.TokenVerifier;
import dev.switchboard.config.ConfigException;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.config.SwitchboardConfig.ClusterOptions;
import com.hazelcast.config.IndexConfig;
import com.hazelcast.config.IndexType;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.RingbufferConfig;
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
import io.vertx.core.internal.logging.Logger;
import io.vertx.core.internal.logging.LoggerFactory;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A running Switchboard node: clustered Vert.x on Hazelcast, the method registry, and one
 * {@link GatewayVerticle} per event loop sharing the HTTP port.
 */
public final class Node {
  private static final Logger LOG = LoggerFactory.getLogger(Node.class);
  public static final String BUILTIN_CLUSTER_XML = "/switchboard/cluster.xml";
  static final long ANNOUNCE_MS = 5000;
  /** How long a leaving node waits for the others to note its departure. */
  static final long LEAVING_MS = 2000;

  private final NodeContext context;
  private final List<GatewayVerticle> gateways;
  private final int port;
  private volatile dev.switchboard.transport.WarmUp.Report warmUp;
  private volatile Future<Void> stopping;

  private Node(NodeContext context, List<GatewayVerticle> gateways) {
    this.context = context;
    this.gateways = gateways;
    this.port = gateways.get(0).actualPort();
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

  public static Future<Node> start(SwitchboardConfig config) {
    Config hz;
    Namespaces namespaces;
    TokenVerifier[] verifier = new TokenVerifier[1];
    try {
      namespaces = new Namespaces(config.settings().tree().getJsonObject("namespaces"));
      hz = hazelcastConfig(config.cluster());
      historyConfig(hz, namespaces);
      sessionsConfig(hz, config.lifecycle().sessionTtlMs());
    } catch (ConfigException e) {
      return Future.failedFuture(e);
    }
    Metrics metrics = new Metrics();
    Quorum quorum = quorum(hz);
    HazelcastClusterManager cluster = new HazelcastClusterManager(hz);
    int loops = config.http().eventLoops() > 0 ? config.http().eventLoops() : Runtime.getRuntime().availableProcessors();
    VertxOptions options = new VertxOptions()
        .setEventLoopPoolSize(loops)
        .setPreferNativeTransport(true)
        .setEventBusOptions(new EventBusOptions().setHost(config.cluster().busHost()).setPort(config.cluster().busPort()))
        .setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true)
            // no event-bus address label: there is an address per topic and per node, which would
            // make one meter series each (unbounded cardinality, and cost on every message)
            .setLabels(java.util.EnumSet.of(Label.HTTP_METHOD, Label.HTTP_CODE, Label.EB_SIDE, Label.EB_FAILURE))
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
    return clustered.compose(vertx -> {
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
      // registrations and histories may have gone with the members that left
      cluster.getHazelcastInstance().getCluster().addMembershipListener(new com.hazelcast.cluster.MembershipListener() {
        @Override
        public void memberAdded(com.hazelcast.cluster.MembershipEvent e) {
        }

        @Override
        public void memberRemoved(com.hazelcast.cluster.MembershipEvent e) {
          hub.membersLeft();
        }
      });
      ctx.topics(hub);
      LocalConnections local = new LocalConnections(vertx, config.node().id());
      Directory directory = new Directory(vertx, cluster.getHazelcastInstance(), config.node().id(), hub::membersLost);
      ctx.cluster(directory, local);
      hub.directory(directory);
      var life = config.lifecycle();
      OpHub opHub = new OpHub(vertx, cluster.getHazelcastInstance(), config.node().id(),
          life.opWorkers() > 0 ? life.opWorkers() : Runtime.getRuntime().availableProcessors(), life.opQueue(),
          life.orphanTimeoutMs(), life.opRetentionMs(), true);
      opHub.worker().deadline(life.opDeadlineMs());
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
      Future<Void> kinds = opHub.start()
          .compose(r -> opHub.worker().register(new DemoCount()))
          .compose(r -> opHub.worker().register(new DemoPrimes()));
      ctx.warming(life.warmupMs() > 0);
      Future<Void> departures = vertx.eventBus().<io.vertx.core.json.JsonObject>consumer(Addresses.quorum(ctx.nodeId()), m -> {
        try {
          quorum.leaving(java.util.UUID.fromString(m.body().getString("member", "")));
          m.reply(new io.vertx.core.json.JsonObject());
        } catch (RuntimeException e) {
          m.fail(400, "member must be a member uuid");
        }
      }).completion();
      return kinds.compose(r -> local.ready()).compose(r -> departures).compose(r -> hub.ready())
          .compose(r -> majority(vertx, cluster.getHazelcastInstance(), config.cluster().joinTimeoutMs()))
          .compose(r -> EventBusApi.register(ctx)).compose(r -> vertx.deployVerticle(() -> {
            GatewayVerticle g = new GatewayVerticle(ctx);
            gateways.add(g);
            return g;
          }, new DeploymentOptions().setInstances(loops))
          .map(id -> {
            Node n = new Node(ctx, gateways);
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
            return dev.switchboard.transport.WarmUp.serve(ctx, n.port(), life.warmupMs()).otherwiseEmpty()
                .compose(x -> dev.switchboard.transport.WarmUp.run(ctx, n.port(), life.warmupMs()))
                .onComplete(v -> ctx.warming(false)).map(report -> {
                  n.warmUp = report;
                  return n;
                });
          })
          .compose(n -> n.announce().map(n)))
          .recover(err -> vertx.close().transform(v -> Future.failedFuture(err)));
    });
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

  /** cluster.xml from the configured path (or the copy built into the jar), adjusted by the settings. */
  public static Config hazelcastConfig(ClusterOptions c) {
    Config hz;
    Path path = Path.of(c.configPath());
    try {
      if (Files.isRegularFile(path)) {
        hz = new XmlConfigBuilder(path.toString()).build();
      } else if ("cluster.xml".equals(c.configPath())) {
        try (InputStream in = Node.class.getResourceAsStream(BUILTIN_CLUSTER_XML)) {
          if (in == null) {
            throw new ConfigException("invalid setting cluster.config (SB_CLUSTER_CONFIG): no cluster.xml found");
          }
          hz = new XmlConfigBuilder(in).build();
        }
      } else {
        throw new ConfigException("invalid setting cluster.config (SB_CLUSTER_CONFIG): no file at " + c.configPath());
      }
    } catch (IOException | RuntimeException e) {
      if (e instanceof ConfigException) {
        throw (ConfigException) e;
      }
      throw new ConfigException("invalid setting cluster.config (SB_CLUSTER_CONFIG): " + c.configPath()
          + " is not a valid Hazelcast XML configuration");
    }
    hz.setClusterName(c.name());
    NetworkConfig net = hz.getNetworkConfig();
    // A member given without a port means "the cluster's usual ports": the configured base port and
    // its auto-increment range. Hazelcast would instead try the range above this node's own port,
    // so a second node on 5702 would never find the first on 5701: spell the ports out.
    int basePort = net.getPort();
    int portCount = net.isPortAutoIncrement() ? Math.max(1, net.getPortCount()) : 1;
    if (c.port() > 0) {
      net.setPort(c.port());
    }
    JoinConfig join = net.getJoin();
    if (join.getTcpIpConfig().isEnabled() && !c.members().isEmpty()) {
      List<String> members = new java.util.ArrayList<>();
      for (String m : c.members()) {
        if (m.contains(":")) {
          members.add(m);
        } else {
          for (int p = basePort; p < basePort + portCount; p++) {
            members.add(m + ":" + p);
          }
        }
      }
      join.getTcpIpConfig().setMembers(members);
    }
    if (!c.host().isEmpty()) {
      InterfacesConfig ifaces = net.getInterfaces();
      ifaces.setEnabled(true).setInterfaces(List.of(c.host()));
    }
    partitions(hz, c);
    return dev.switchboard.cluster.SessionProcessors.register(dev.switchboard.cluster.DeviceRegistry.register(hz));
  }

  /**
   * What holds when the cluster splits (docs/protocol.md, "Partitions and long pauses"): only a side
   * holding the majority serves ({@link Quorum}, guarding the histories and epochs at their partition
   * owner); the sides look for each other
   * every {@code merge_delay_s} once healed, and the merging (smaller) side's copies are discarded:
   * it never served while apart.
   */
  static void partitions(Config hz, ClusterOptions c) {
    // A write whose backup does not answer completes after this timeout on the primary alone; a history
    // append is then only acknowledged if the side still serves (TopicLog), which a side cut off for
    // this long no longer does (it stops hearing the others after half the member timeout). Failing
    // such writes instead (fail.on.indeterminate.state) also failed start-up and registrations on a
    // merely slow machine.
    hz.setProperty("hazelcast.operation.backup.timeout.millis", Long.toString(c.memberTimeoutS() * 1000L));
    hz.setProperty("hazelcast.max.no.heartbeat.seconds", Integer.toString(c.memberTimeoutS()));
    hz.setProperty("hazelcast.merge.first.run.delay.seconds", Integer.toString(c.mergeDelayS()));
    hz.setProperty("hazelcast.merge.next.run.delay.seconds", Integer.toString(c.mergeDelayS()));
    long heartbeatMs = 1000L * Long.parseLong(java.util.Objects.requireNonNullElse(
        hz.getProperty("hazelcast.heartbeat.interval.seconds"), "5"));
    // heard from within half the member timeout (and at least two heartbeats): a side that stops
    // hearing the others refuses before its view changes, a heartbeat late under load does not count
    long toleranceMs = Math.max(2 * heartbeatMs, c.memberTimeoutS() * 1000L / 2);
    hz.addSplitBrainProtectionConfig(new com.hazelcast.config.SplitBrainProtectionConfig(Quorum.NAME, true)
        .setFunctionImplementation(new Quorum(c.quorum(), heartbeatMs, toleranceMs))
        .setProtectOn(com.hazelcast.splitbrainprotection.SplitBrainProtectionOn.READ_WRITE));
    // Vert.x re-registers its own consumers once merged; the smaller side's copy of the routes is stale
    hz.getMultiMapConfig("__vertx.subs").setMergePolicyConfig(discard());
    hz.getMapConfig("__vertx.nodeInfo").setMergePolicyConfig(discard());
  }

  /** The quorum of a configuration made by {@link #hazelcastConfig}. */
  public static Quorum quorum(Config hz) {
    return (Quorum) hz.getSplitBrainProtectionConfig(Quorum.NAME).getFunctionImplementation();
  }

  static com.hazelcast.config.MergePolicyConfig discard() {
    return new com.hazelcast.config.MergePolicyConfig(com.hazelcast.spi.merge.DiscardMergePolicy.class.getName(),
        com.hazelcast.config.MergePolicyConfig.DEFAULT_BATCH_SIZE);
  }

  /**
   * Sessions live for {@code session_ttl} after their last write. Every session write (an entry
   * processor, see Sessions) sets that time-to-live itself; the map-wide one is the same, for
   * anything else that writes the map.
   */
  static void sessionsConfig(Config hz, long ttlMs) {
    // never queried: no JSON metadata (Hazelcast would otherwise parse every value on each write)
    hz.addMapConfig(new MapConfig(Addresses.SESSIONS).setBackupCount(1).setMergePolicyConfig(discard())
        .setMetadataPolicy(com.hazelcast.config.MetadataPolicy.OFF)
        .setTimeToLiveSeconds(ttlMs <= 0 ? 0 : (int) Math.max(1, (ttlMs + 999) / 1000)));
  }

  /**
   * One Ringbuffer configuration per namespace (capacity = history size, time-to-live, one
   * synchronous backup: async backups lose acknowledged events on failover).
   */
  static void historyConfig(Config hz, Namespaces namespaces) {
    for (Namespaces.Options ns : namespaces.all()) {
      String pattern = Addresses.historyPattern(Namespaces.DEFAULT.equals(ns.name()) ? "" : ns.name() + ":");
      hz.addRingBufferConfig(new RingbufferConfig(pattern)
          .setCapacity(Math.max(1, ns.historySize()))
          .setTimeToLiveSeconds(ns.historyTtlSeconds())
          .setBackupCount(1)
          .setAsyncBackupCount(0)
          .setSplitBrainProtectionName(Quorum.NAME)
          .setMergePolicyConfig(discard()));
    }
    // Every structure of ours: after a split, the smaller side's copy is discarded (it served nothing
    // while apart, and its entries of clients it handed over are stale)
    hz.addMapConfig(new MapConfig(Addresses.EPOCHS).setBackupCount(1)
        .setSplitBrainProtectionName(Quorum.NAME).setMergePolicyConfig(discard()));
    // one plain-text entry per user (DeviceRegistry): no JSON metadata, no index
    hz.addMapConfig(new MapConfig(Addresses.DEVICES).setBackupCount(1).setMergePolicyConfig(discard())
        .setMetadataPolicy(com.hazelcast.config.MetadataPolicy.OFF));
    hz.addMapConfig(new MapConfig(Addresses.PRESENCE).setBackupCount(1).setMergePolicyConfig(discard())
        .addIndexConfig(new IndexConfig(IndexType.HASH, "topic"))
        .addIndexConfig(new IndexConfig(IndexType.HASH, "member")));
    hz.addMapConfig(new MapConfig(Addresses.NODES).setBackupCount(1).setMergePolicyConfig(discard()));
    hz.addMapConfig(new MapConfig(Addresses.OPS).setBackupCount(1).setMergePolicyConfig(discard())
        .addIndexConfig(new IndexConfig(IndexType.HASH, "user"))
        .addIndexConfig(new IndexConfig(IndexType.HASH, "member")));
    hz.addMapConfig(new MapConfig(Addresses.OP_DEDUPE).setBackupCount(1).setMergePolicyConfig(discard()));
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
    stopping = drained.future()
        .compose(v -> Future.join(gateways.stream().map(g -> g.settled(settleMs)).toList()).otherwiseEmpty())
        .compose(v -> opsDone)
        .compose(v -> context.vertx().close())
        .onFailure(err -> LOG.warn("node " + nodeId() + " did not close cleanly: " + err.getMessage()));
    return stopping;
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
