package dev.switchboard.transport;

import dev.switchboard.NodeContext;
import dev.switchboard.auth.TokenIssuer;
import dev.switchboard.config.SwitchboardConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.internal.logging.Logger;
import io.vertx.core.internal.logging.LoggerFactory;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.security.MessageDigest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

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
  private static final String SECRET = SwitchboardConfig.randomId(32);
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

  /** Runs the rounds; never fails (a warm-up that goes wrong is logged and the node starts anyway). */
  public static Future<Void> run(NodeContext node, int port, long budgetMs) {
    if (budgetMs <= 0) {
      return Future.succeededFuture();
    }
    SwitchboardConfig.AuthOptions auth = node.config().auth();
    TokenIssuer issuer;
    if (!auth.secret().isEmpty()) {
      issuer = new TokenIssuer(node.vertx(), auth);
    } else if (!auth.required()) {
      issuer = null;
    } else {
      LOG.info("warm-up skipped: no token can be minted here (no SB_JWT_SECRET)");
      return Future.succeededFuture();
    }
    long started = System.currentTimeMillis();
    long deadline = started + budgetMs;
    WebSocketClient client = node.vertx().createWebSocketClient(new WebSocketClientOptions()
        .setMaxConnections(CONNECTIONS * 2).setConnectTimeout(2000));
    Setup setup = new Setup(node.vertx(), client, issuer, auth, node.nodeId(), port, deadline);
    Future<Void> all = Future.succeededFuture();
    for (int r = 0; r < ROUNDS; r++) {
      int round = r;
      // each round after the compilers caught up with the last: while C2's queue is long, HotSpot
      // raises the thresholds for queueing more, so methods made hot meanwhile are only queued
      // when they run again once it is short - in the next round rather than under real traffic
      all = all.compose(v -> System.currentTimeMillis() >= deadline ? Future.succeededFuture()
          : new Round(setup, round).run().compose(x -> compiled(node.vertx(), deadline)));
    }
    return all.otherwise(err -> {
      LOG.warn("warm-up ended early: " + err.getMessage());
      return null;
    }).compose(v -> client.close().otherwiseEmpty())
        .onComplete(v -> LOG.info("warm-up done in " + (System.currentTimeMillis() - started) + " ms"));
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

  /** What every round shares ({@code issuer} null: anonymous connections). */
  private record Setup(Vertx vertx, WebSocketClient client, TokenIssuer issuer, SwitchboardConfig.AuthOptions auth,
                       String nodeId, int port, long deadline) {
  }

  /** One round: connect and subscribe all, publish from all, await every delivery (the last round then
   * publishes paced, see {@link #PACED_PUBLISHES}), close all. */
  private static final class Round {
    /** Every connection gets every publication of every connection. */
    static final long EXPECTED = (long) CONNECTIONS * CONNECTIONS * PUBLISHES_PER_CONNECTION;
    /** ... and, in the last round, every paced one. */
    static final long EXPECTED_PACED = EXPECTED + (long) CONNECTIONS * PACED_PUBLISHES;
    final Setup setup;
    final int round;
    final List<WebSocket> sockets = java.util.Collections.synchronizedList(new ArrayList<>());
    final java.util.concurrent.atomic.AtomicLong received = new java.util.concurrent.atomic.AtomicLong();
    final Promise<Void> allReceived = Promise.promise();
    final Promise<Void> pacedReceived = Promise.promise();

    Round(Setup setup, int round) {
      this.setup = setup;
      this.round = round;
    }

    Future<Void> run() {
      List<Future<WebSocket>> opened = new ArrayList<>();
      for (int i = 0; i < CONNECTIONS; i++) {
        opened.add(open(i));
      }
      long left = Math.max(1, setup.deadline() - System.currentTimeMillis());
      return Future.join(opened).transform(ar -> {
        if (ar.failed()) {
          return Future.failedFuture(ar.cause());
        }
        int id = 100;
        for (WebSocket ws : new ArrayList<>(sockets)) {
          for (int k = 0; k < PUBLISHES_PER_CONNECTION; k++) {
            ws.writeTextMessage(publish(id++, k));
          }
        }
        return allReceived.future();
      }).compose(v -> round == ROUNDS - 1 ? paced() : Future.succeededFuture())
          .timeout(left, java.util.concurrent.TimeUnit.MILLISECONDS).eventually(() -> {
        List<Future<Void>> closed = new ArrayList<>();
        for (WebSocket ws : new ArrayList<>(sockets)) {
          closed.add(ws.close((short) 1000).otherwiseEmpty());
        }
        return Future.join(closed);
      });
    }

    /**
     * {@link #PACED_PUBLISHES} publications one at a time, each from the next connection in turn (well
     * within the per-connection request rate); every connection receives them.
     */
    private Future<Void> paced() {
      List<WebSocket> publishers = new ArrayList<>(sockets);
      int[] sent = {0};
      setup.vertx().setPeriodic(PACED_EVERY_MS, id -> {
        if (sent[0] >= PACED_PUBLISHES || System.currentTimeMillis() >= setup.deadline()) {
          setup.vertx().cancelTimer(id);
          return;
        }
        WebSocket publisher = publishers.get(sent[0] % publishers.size());
        sent[0]++;
        publisher.writeTextMessage(publish(1_000_000 + sent[0], sent[0]));
      });
      return pacedReceived.future();
    }

    /** A {@code topic.publish} request to the warm-up topic. */
    private static String publish(int id, int k) {
      return "{\"id\":" + id + ",\"method\":\"topic.publish\",\"params\":{\"topic\":\"" + TOPIC
          + "\",\"data\":{\"k\":" + k + "}}}";
    }

    private Future<WebSocket> open(int i) {
      String user = "sb-warmup-" + setup.nodeId() + "-" + round + "-" + i;
      String uri = "/ws";
      SwitchboardConfig.AuthOptions auth = setup.auth();
      if (setup.issuer() != null) {
        JsonObject claims = new JsonObject().put("sub", user)
            .put("subs", new JsonArray().add("sb-warmup:*")).put("pubs", new JsonArray().add("sb-warmup:*"));
        if (!auth.issuer().isEmpty()) {
          claims.put("iss", auth.issuer());
        }
        if (!auth.audience().isEmpty()) {
          claims.put("aud", auth.audience());
        }
        uri += "?token=" + setup.issuer().issue(claims, 300);
      }
      WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(setup.port()).setURI(uri)
          .addHeader(HEADER, SECRET);
      Promise<WebSocket> subscribed = Promise.promise();
      // handlers before the connect: the `connected` frame can arrive with the 101
      io.vertx.core.http.ClientWebSocket ws = setup.client().webSocket();
      ws.textMessageHandler(text -> {
        if (text.startsWith("{\"type\":\"connected\"")) {
          ws.writeTextMessage("{\"id\":1,\"method\":\"topic.subscribe\",\"params\":{\"topic\":\"" + TOPIC + "\"}}");
        } else if (text.startsWith("{\"type\":\"result\",\"id\":1,")) {
          subscribed.tryComplete(ws);
        } else if (text.startsWith("{\"type\":\"event\"")) {
          long n = received.incrementAndGet();
          if (n == EXPECTED) {
            allReceived.tryComplete();
          } else if (n == EXPECTED_PACED) {
            pacedReceived.tryComplete();
          }
        } else if (text.startsWith("{\"type\":\"error\"")) {
          subscribed.tryFail(text.length() > 200 ? text.substring(0, 200) : text);
        }
      });
      ws.exceptionHandler(subscribed::tryFail);
      ws.closeHandler(v -> subscribed.tryFail("closed"));
      ws.connect(options).onFailure(subscribed::tryFail).onSuccess(sockets::add); // closed with 1000 at the round's end
      return subscribed.future();
    }
  }
}
