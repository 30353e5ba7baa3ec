package dev.switchboard.transport;

import dev.switchboard.NodeContext;
import dev.switchboard.auth.TokenIssuer;
import dev.switchboard.cluster.Addresses;
import dev.switchboard.config.SwitchboardConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import io.vertx.core.json.JsonObject;

import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs the node's hot paths over loopback before it reports ready: a few rounds of WebSocket
 * connections that upgrade with a token, subscribe to a warm-up topic, publish to it and receive
 * every publication, then close with 1000 (which ends their sessions and device entries).
 *
 * <p>Why: a freshly started JVM spends its first tens of seconds of traffic compiling. With 2,000
 * subscribers at 40k deliveries/s a cold node used about a third of its CPU in the C2 compiler and
 * had a p99 of 27 ms, the same load a minute later 19-21 ms at two thirds of the CPU per delivery
 * (bench/fanout-warm.sh). The first minute after a start is when a node matters most: a rolling
 * restart sends the clients of the node that left to the others, and this one, all at once.
 *
 * <p>Bounded by {@code node.warmup_ms} (SB_NODE_WARMUP_MS; 0 turns it off): whatever is running at
 * the deadline is closed and the node goes ready. Needs tokens it can mint (SB_JWT_SECRET) or
 * anonymous access; otherwise it is skipped. Its connections carry a per-process random header
 * so that they are not charged to 127.0.0.1's connect rate; nothing else is exempted.
 */
public final class WarmUp {
  private static final Logger LOG = LoggerFactory.getLogger(WarmUp.class);
  static final String HEADER = "x-switchboard-warmup";
  static final String SECRET = SwitchboardConfig.randomId(32);
  static final String TOPIC = "sb-warmup:fanout";
  static final int ROUNDS = 5;
  static final int CONNECTIONS = 200;
  static final int PUBLISHES_PER_CONNECTION = 10;
  /**
   * Publications the last round then makes one at a time, {@link #PACED_EVERY_MS} apart (about 2 s).
   * A burst reaches each loop as a few coalesced batches, so the per-publication code (the loop
   * inbox's batch, the end-of-turn flush, the append) runs a few hundred times at most, and on two
   * cores it is still in C1's lower tiers when the burst ends; real traffic is one batch per
   * publication. Paced, they run as they will live - and for longer than one acknowledgement period,
   * so that the connections' pings, pongs and session saves run too.
   */
  static final int PACED_PUBLISHES = 1000;
  static final int PACED_EVERY_MS = 2;
  /** The cross round's topic, and what each side does in it (see {@link #cross}). */
  static final String CROSS_TOPIC = "sb-warmup:cross";
  static final WarmUpRound.Plan CROSS = new WarmUpRound.Plan(CROSS_TOPIC, "x", 100, 0, 1500, PACED_EVERY_MS, 2);
  /** The most time a node gives another node's cross round, and the least it starts one with. */
  static final long CROSS_MAX_MS = 10_000;
  static final long CROSS_MIN_MS = 4_000;
  /** A round's nonce: publications carry it, and only those with the round's own count. */
  private static final java.util.regex.Pattern NONCE = java.util.regex.Pattern.compile("[A-Za-z0-9]{8,32}");

  /** Every publication the warm-up makes. */
  static long publications() {
    return (long) ROUNDS * CONNECTIONS * PUBLISHES_PER_CONNECTION + PACED_PUBLISHES;
  }

  private WarmUp() {
  }

  static boolean isOwn(String header) {
    return header != null && MessageDigest.isEqual(header.getBytes(StandardCharsets.UTF_8),
        SECRET.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * What a warm-up did: the local rounds it completed and its cross round: the node it asked
   * ({@code null}: none), and the events of the round the connections on each side received (each
   * side expects {@link #CROSS}{@code .allEvents()}; 0 on the other side when it did not take part).
   */
  public record Report(int rounds, String peer, long receivedHere, long receivedThere, long ms) {
    static final Report NONE = new Report(0, null, 0, 0, 0);
  }

  /** Runs the rounds; never fails (a warm-up that goes wrong is logged and the node starts anyway). */
  public static Future<Report> run(NodeContext node, int port, long budgetMs) {
    if (budgetMs <= 0) {
      return Future.succeededFuture(Report.NONE);
    }
    SwitchboardConfig.AuthOptions auth = node.config().auth();
    if (!canConnect(auth)) {
      LOG.info("warm-up skipped: no token can be minted here (no SB_JWT_SECRET)");
      return Future.succeededFuture(Report.NONE);
    }
    long started = System.currentTimeMillis();
    long deadline = started + budgetMs;
    WarmUpRound.Setup setup = setup(node, port, deadline);
    Future<Void> all = Future.succeededFuture();
    int[] rounds = {0};
    Report[] cross = {Report.NONE};
    for (int r = 0; r < ROUNDS; r++) {
      WarmUpRound.Plan plan = new WarmUpRound.Plan(TOPIC, String.valueOf(r), CONNECTIONS, PUBLISHES_PER_CONNECTION,
          r == ROUNDS - 1 ? PACED_PUBLISHES : 0, PACED_EVERY_MS, 1);
      // each round after the compilers caught up with the last: while C2's queue is long, HotSpot
      // raises the thresholds for queueing more, so methods made hot meanwhile are only queued
      // when they run again once it is short - in the next round rather than under real traffic
      all = all.compose(v -> System.currentTimeMillis() >= deadline ? Future.succeededFuture()
          : new WarmUpRound(setup, plan, SwitchboardConfig.randomId(12)).run(Future.succeededFuture(), Promise.promise())
              .compose(x -> compiled(node.vertx(), deadline)).onSuccess(x -> rounds[0]++));
    }
    return all.compose(v -> deadline - System.currentTimeMillis() < CROSS_MIN_MS + 1000 ? Future.succeededFuture()
            : cross(node, setup).compose(c -> {
              cross[0] = c;
              return compiled(node.vertx(), deadline);
            }))
        .otherwise(err -> {
          LOG.warn("warm-up ended early: " + err.getMessage());
          return null;
        }).compose(v -> setup.client().close().otherwiseEmpty()).map(v -> {
          Report report = new Report(rounds[0], cross[0].peer(), cross[0].receivedHere(), cross[0].receivedThere(),
              System.currentTimeMillis() - started);
          LOG.info("warm-up done in " + report.ms() + " ms: " + report.rounds() + " of " + ROUNDS + " rounds"
              + (report.peer() == null ? "" : ", cross round with node " + report.peer() + ": "
              + report.receivedHere() + " and " + report.receivedThere() + " of " + CROSS.allEvents() + " events"));
          return report;
        });
  }

  private static boolean canConnect(SwitchboardConfig.AuthOptions auth) {
    return !auth.secret().isEmpty() || !auth.required();
  }

  private static WarmUpRound.Setup setup(NodeContext node, int port, long deadline) {
    SwitchboardConfig.AuthOptions auth = node.config().auth();
    TokenIssuer issuer = auth.secret().isEmpty() ? null : new TokenIssuer(node.vertx(), auth);
    WebSocketClient client = node.vertx().createWebSocketClient(new WebSocketClientOptions()
        .setMaxConnections(CONNECTIONS * 2).setConnectTimeout(2000));
    return new WarmUpRound.Setup(node.vertx(), client, issuer, auth, node.nodeId(), port, deadline);
  }

  // ------------------------------------------------------------------ the cross round

  /**
   * The cross round: {@link #CROSS} on this node and, at the same time, on one other node of the
   * cluster (asked over {@link Addresses#warmup}), both on {@link #CROSS_TOPIC}. Each side's
   * connections receive both sides' publications, so both nodes run the paths a lone node never
   * does: the clustered event bus out and in, Hazelcast's remote and backup operations (ring appends,
   * device entries, sessions and presence owned by the other member). Without it the node that started
   * first compiled those paths under its first real cross-node traffic: two nodes spent about half
   * their CPU in C2 then. The other node publishes as soon as it is subscribed; this one waits for
   * the first of those events (so both sides are subscribed) before it publishes. Skipped when no
   * other node is announced, or when the other node does not take part (busy, draining, older).
   */
  private static Future<Report> cross(NodeContext node, WarmUpRound.Setup setup) {
    if (node.directory() == null) {
      return Future.succeededFuture(Report.NONE);
    }
    return node.directory().nodes().compose(nodes -> {
      List<String> peers = new ArrayList<>();
      for (int i = 0; i < nodes.size(); i++) {
        String id = nodes.getJsonObject(i).getString("node_id");
        // a data node (node.role) has no WebSocket server to take part with
        boolean data = "data".equals(nodes.getJsonObject(i).getString("role"));
        if (id != null && !id.equals(node.nodeId()) && !data) {
          peers.add(id);
        }
      }
      if (peers.isEmpty()) {
        return Future.succeededFuture(Report.NONE);
      }
      String peer = peers.get(java.util.concurrent.ThreadLocalRandom.current().nextInt(peers.size()));
      WarmUpRound round = new WarmUpRound(setup, CROSS, SwitchboardConfig.randomId(16));
      Promise<Void> subscribed = Promise.promise();
      Future<Void> mine = round.run(round.firstEvent.future(), subscribed);
      Future<Long> theirs = subscribed.future().compose(v -> {
        // the other side gets what is left but a margin, so that its answer (after its compiles) is
        // here before this side's deadline: the warm-up never holds the start past node.warmup_ms
        long left = setup.deadline() - System.currentTimeMillis();
        return node.vertx().eventBus().<JsonObject>request(Addresses.warmup(peer),
            new JsonObject().put("ms", left - 500).put("nonce", round.nonce),
            new DeliveryOptions().setSendTimeout(Math.max(1, left)));
      }).map(m -> m.body().getLong("received", 0L)).onFailure(err -> {
        // the other side is not taking part: this side stops waiting for its events
        round.firstEvent.tryFail(err);
        round.allReceived.tryFail(err);
      });
      return Future.join(mine, theirs).transform(ar -> {
        if (ar.failed()) {
          LOG.info("warm-up: cross round with node " + peer + " incomplete: " + ar.cause().getMessage());
        }
        return Future.succeededFuture(new Report(0, peer, round.received.get(),
            theirs.succeeded() ? theirs.result() : 0, 0));
      });
    });
  }

  /**
   * Takes part in other nodes' cross rounds: on {@link Addresses#warmup}(this node) a request
   * {@code {"ms": budget, "nonce": id}} runs {@link #CROSS} here under that nonce (one at a time, not
   * while draining, for at most {@code ms} and at most {@link #CROSS_MAX_MS}; refused below
   * {@link #CROSS_MIN_MS}), waits for the compilers within that time, and replies
   * {@code {"received": n}}. Fails with 400 for a malformed request, 503 when busy, draining or
   * the round did not complete. Only on nodes whose own warm-up is on; completes once registered.
   */
  public static Future<Void> serve(NodeContext node, int port, long budgetMs) {
    if (budgetMs <= 0 || !canConnect(node.config().auth())) {
      return Future.succeededFuture();
    }
    java.util.concurrent.atomic.AtomicBoolean busy = new java.util.concurrent.atomic.AtomicBoolean();
    return node.vertx().eventBus().consumer(Addresses.warmup(node.nodeId()), m -> {
      Object ms = m.body() instanceof JsonObject ? ((JsonObject) m.body()).getValue("ms") : null;
      Object nonce = m.body() instanceof JsonObject ? ((JsonObject) m.body()).getValue("nonce") : null;
      if (!(ms instanceof Number) || !(nonce instanceof String) || !NONCE.matcher((String) nonce).matches()) {
        m.fail(400, "expected {\"ms\": number, \"nonce\": id}");
        return;
      }
      long budget = Math.min(CROSS_MAX_MS, ((Number) ms).longValue());
      if (budget < CROSS_MIN_MS || node.draining() || !busy.compareAndSet(false, true)) {
        m.fail(503, "not taking part now");
        return;
      }
      Future<Void> done;
      WarmUpRound round;
      WarmUpRound.Setup setup = null;
      try {
        long deadline = System.currentTimeMillis() + budget;
        setup = setup(node, port, deadline);
        round = new WarmUpRound(setup, CROSS, (String) nonce);
        done = round.run(Future.succeededFuture(), Promise.promise())
            .compose(v -> compiled(node.vertx(), deadline));
      } catch (RuntimeException e) {
        busy.set(false);
        if (setup != null) {
          setup.client().close();
        }
        LOG.warn("warm-up: could not run a cross round: " + e);
        m.fail(503, "not taking part now");
        return;
      }
      WebSocketClient client = setup.client();
      done.eventually(() -> client.close().otherwiseEmpty()).onComplete(ar -> {
        busy.set(false);
        if (ar.succeeded()) {
          m.reply(new JsonObject().put("received", round.received.get()));
        } else {
          m.fail(503, "cross round incomplete");
        }
      });
    }).completion();
  }

  /**
   * Waits until the JIT compilers have caught up with what the rounds made hot: both compile queues
   * empty on two polls in a row (HotSpot's {@code Compiler.queue}, read off the event loop), or the
   * deadline. Why the queue and not the compile time: the rounds leave hundreds of C2 compiles
   * queued, and a quiet 250 ms between two of them used to end the wait early; those compiles then
   * ran during the node's first real traffic (C2 took half its CPU in the first fan-out). On a JVM
   * without that command: until compile time grows by less than 5 % of a thread between two 100 ms polls.
   */
  private static Future<Void> compiled(Vertx vertx, long deadline) {
    Promise<Void> idle = Promise.promise();
    int[] emptyPolls = {0};
    long[] lastTime = {-1};
    boolean[] polling = {false};
    java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
    vertx.setPeriodic(100, id -> {
      // the deadline is checked here, not only when a poll answers: a busy worker pool must not hold the start
      if (System.currentTimeMillis() >= deadline || idle.future().isComplete()) {
        vertx.cancelTimer(id);
        idle.tryComplete();
        return;
      }
      if (polling[0]) {
        return; // the last poll is still queued: one at a time
      }
      polling[0] = true;
      vertx.executeBlocking(CompileQueue::pending, false).onComplete(ar -> {
        polling[0] = false;
        boolean done;
        if (ar.succeeded() && ar.result() >= 0) {
          emptyPolls[0] = ar.result() == 0 ? emptyPolls[0] + 1 : 0;
          done = emptyPolls[0] >= 2;
        } else if (jit != null && jit.isCompilationTimeMonitoringSupported()) {
          long now = jit.getTotalCompilationTime();
          done = lastTime[0] >= 0 && now - lastTime[0] < 5;
          lastTime[0] = now;
        } else {
          done = true;
        }
        if (done) {
          vertx.cancelTimer(id);
          idle.tryComplete();
        }
      });
    });
    return idle.future();
  }

  /** HotSpot's compile queues, read through the DiagnosticCommand MBean ({@code jcmd PID Compiler.queue}). */
  static final class CompileQueue {
    private CompileQueue() {
    }

    /** How many methods wait in the C1 and C2 queues; -1 where the JVM cannot tell. Blocking (about 0.1 ms). */
    static int pending() {
      try {
        Object text = java.lang.management.ManagementFactory.getPlatformMBeanServer().invoke(
            new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"), "compilerQueue",
            new Object[] {new String[0]}, new String[] {String[].class.getName()});
        return text instanceof String ? count((String) text) : -1;
      } catch (Exception | LinkageError e) {
        return -1;
      }
    }

    /** Counts the entries below the "compile queue:" headings (a queue with none says "Empty"). */
    static int count(String text) {
      int n = 0;
      boolean inQueue = false;
      boolean sawQueue = false;
      for (String line : text.split("\n")) {
        String t = line.trim();
        if (t.endsWith("compile queue:")) {
          inQueue = true;
          sawQueue = true;
        } else if (t.endsWith(":")) {
          inQueue = false; // another section ("Current compiles:")
        } else if (inQueue && !t.isEmpty() && !t.equals("Empty")) {
          n++;
        }
      }
      return sawQueue ? n : -1;
    }
  }
}
