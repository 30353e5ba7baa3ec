package dev.switchboard.chaos;

import dev.switchboard.testsupport.Tokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.JsonArray;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The chaos run (issue 11, item 1): {@code --nodes} node processes on loopback, a few hundred
 * clients with sessions spread over them (reconnecting through a random live node), subscribed to
 * {@code chat:} topics; publishers over WebSocket and HTTP; operations started, attached from the
 * user's other device and cancelled; one fault at a time at random (SIGKILL and restart, SIGTERM and
 * restart, SIGSTOP longer than the heartbeat timeout then SIGCONT; with {@code --net netns}, where
 * each node is in a network namespace of its own, a partition that cuts one node off, then heals).
 * Then the end checks against the live cluster and the {@link Checker} over everything recorded; the
 * last line printed is the figures line. Usage: {@link ChaosOptions#USAGE}; {@code bench/chaos.sh}
 * runs it.
 */
public final class ChaosRun {
  private ChaosRun() {
  }

  public static void main(String[] args) {
    if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
      System.out.println(ChaosOptions.usage());
      System.exit(0);
    }
    ChaosOptions o;
    try {
      o = ChaosOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    Checker.Result r;
    try {
      r = run(o, System.out);
    } catch (ChaosNet.Unavailable e) {
      System.out.println("chaos: cannot run: " + e.getMessage());
      System.exit(2);
      return;
    }
    System.exit(r.totalViolations() == 0 && !r.truncated() ? 0 : 1);
  }

  /**
   * Runs the whole thing and returns the checker's result (everything also printed to {@code out}).
   * {@link ChaosNet.Unavailable} when {@code --net netns} cannot be had here (nothing was started).
   */
  public static Checker.Result run(ChaosOptions o, PrintStream out) {
    out.println("chaos: " + o + " (repeat with --seed " + o.seed() + ")");
    ChaosNet net = ChaosNet.create(o);
    try {
      return run(o, out, net);
    } finally {
      net.close();
    }
  }

  private static Checker.Result run(ChaosOptions o, PrintStream out, ChaosNet net) {
    Random random = new Random(o.seed());
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(4));
    WebSocketClient wsClient = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(100_000)
        .setMaxFrameSize(1 << 20).setMaxMessageSize(8 << 20).setConnectTimeout(5_000));
    ChaosCluster cluster = new ChaosCluster(vertx, o, net);
    // an interrupted or failing harness (Ctrl-C, an exception, System.exit) leaves no node process,
    // namespace or link behind: the hook kills the nodes, then removes what the network made
    Thread cleanup = new Thread(() -> {
      cluster.killNodes();
      net.close();
    }, "chaos-cleanup");
    Runtime.getRuntime().addShutdownHook(cleanup);
    List<String> topics = new ArrayList<>();
    for (int i = 0; i < o.topics(); i++) {
      topics.add("chat:t" + i);
    }
    Recorder recorder = new Recorder(topics);
    Map<String, Integer> topicIndex = new HashMap<>();
    for (int i = 0; i < topics.size(); i++) {
      topicIndex.put(topics.get(i), i);
    }
    List<ChaosClient> clients = new ArrayList<>();
    List<ChaosClient[]> users = new ArrayList<>();
    List<WsPublisher> wsPublishers = new ArrayList<>();
    HttpPublisher http = null;
    Checker.Result result;
    NodeLatency nodeLatency = null;
    long t0 = System.currentTimeMillis();
    try {
      cluster.startAll();
      out.println("chaos: " + o.slots() + " nodes up in " + (System.currentTimeMillis() - t0) + " ms (cluster "
          + cluster.clusterName() + ", logs in " + cluster.directory() + ", " + net + ")");
      long ttl = (long) (o.minutes() * 60) + 3_600;
      for (int u = 0; u < o.clients() / 2; u++) {
        String user = "u" + u;
        String token = Tokens.hs256(Tokens.claims(user, ttl).put("subs", new JsonArray().add("chat:*"))
            .put("pubs", new JsonArray()));
        ChaosClient[] pair = new ChaosClient[2];
        for (int d = 0; d < 2; d++) {
          pair[d] = new ChaosClient(vertx, wsClient, cluster, recorder, random.nextLong(), token, user,
              d == 0 ? "a" : "b", pickTopics(random, o.topics(), o.topicsPerClient()), topicIndex);
          clients.add(pair[d]);
        }
        users.add(pair);
      }
      clients.forEach(WsPeer::start);
      EndChecks end = new EndChecks(cluster, recorder, clients, users, clients.size() + 2, random.nextLong());
      if (!end.settle(90_000)) {
        out.println("chaos: clients did not all subscribe at the start; going on");
      }
      out.println("chaos: " + clients.size() + " clients subscribed in " + (System.currentTimeMillis() - t0) + " ms");

      double share = o.publishRate() / 3.0;
      for (int i = 1; i <= 2; i++) {
        String name = "ws" + i;
        String token = Tokens.hs256(Tokens.claims("pub-" + name, ttl).put("subs", new JsonArray())
            .put("pubs", new JsonArray().add("chat:*")));
        WsPublisher p = new WsPublisher(vertx, wsClient, cluster, recorder, random.nextLong(), token, name,
            o.topics(), share);
        wsPublishers.add(p);
        p.start();
      }
      http = new HttpPublisher(vertx, cluster, recorder, random.nextLong(), "http", o.topics(), share);
      http.start();
      List<ChaosClient[]> opUsers = users.subList(0, Math.min(o.opUsers(), users.size()));
      OpsDriver ops = new OpsDriver(vertx, opUsers, recorder, random.nextLong(), o.ops() ? o.opsPerMinute() : 0);
      ops.start();
      List<Fault> faults = o.faults().stream().map(Faults::create).toList();
      if (o.faults().contains("roll")) {
        nodeLatency = new NodeLatency(cluster, recorder);
        nodeLatency.start();
      }
      FaultLoop loop = new FaultLoop(cluster, o, recorder, faults);
      long runStart = System.currentTimeMillis();
      long until = runStart + o.durationMs();
      loop.start(until);
      while (System.currentTimeMillis() < until) {
        Thread.sleep(Math.min(15_000, until - System.currentTimeMillis())); // the run's length: nothing to await
        out.println(progress(recorder, runStart));
      }
      out.println("chaos: faults stop; waiting for the one in progress");
      loop.stopAndJoin(o.longestFaultMs() + FaultLoop.HEAL_MS + FaultLoop.REPAIR_MS + 60_000);
      ops.stop();
      if (nodeLatency != null) {
        nodeLatency.close();
      }
      wsPublishers.forEach(WsPublisher::stopPublishing);
      http.stopPublishing();
      HttpPublisher h = http;
      EndChecks.until(10_000, () -> {
        int n = EndChecks.await(h.inFlight(), 2_000);
        for (WsPublisher p : wsPublishers) {
          n += EndChecks.await(p.inFlight(), 2_000);
        }
        return n == 0;
      });

      out.println("chaos: end checks");
      if (!cluster.awaitWhole(30_000)) {
        recorder.finding("unhealed", "cluster not whole 30 s after the faults stopped: views " + cluster.views());
        new FaultLoop(cluster, o, recorder, List.of()).heal("the end of the faults");
      }
      end.settle(60_000);
      end.convergence();
      end.markers(http, 30_000);
      end.operations(30_000);
      List<Future<Void>> closing = new ArrayList<>();
      clients.forEach(c -> closing.add(c.finish()));
      wsPublishers.forEach(p -> closing.add(p.finish()));
      for (Future<Void> f : closing) {
        EndChecks.await(f, 20_000);
      }
      end.leftovers(20_000);
      result = Checker.check(recorder);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } finally {
      cluster.close();
      vertx.close().toCompletionStage().toCompletableFuture().orTimeout(20, TimeUnit.SECONDS).exceptionally(e -> null)
          .join();
      try {
        Runtime.getRuntime().removeShutdownHook(cleanup);
      } catch (IllegalStateException shuttingDown) {
        // the hook runs anyway
      }
    }
    out.println("chaos: fault log");
    recorder.faultLog().forEach(l -> out.println("  " + l));
    out.println("chaos: counters " + recorder.counters());
    out.println(rollFigures(o, recorder));
    if (nodeLatency != null) {
      out.println("chaos: the nodes' sb_publish_deliver_seconds during faults: " + nodeLatency.summary());
    }
    if (result.totalViolations() > 0) {
      out.println("chaos: violations (up to " + Checker.EXAMPLES + " examples each)");
      out.print(result.report());
      try {
        ClientTrace.write(cluster.directory(), recorder);
      } catch (java.io.IOException e) {
        out.println("chaos: client traces not written: " + e.getMessage());
      }
      out.println("chaos: node logs kept in " + cluster.directory() + " (client timelines: clients.txt, publications.txt)");
    } else {
      deleteLogs(cluster);
    }
    out.println("chaos: took " + (System.currentTimeMillis() - t0) / 1000 + " s; seed " + o.seed());
    out.println(result.line());
    return result;
  }

  static String progress(Recorder r, long runStart) {
    long acked = r.publications().values().stream().filter(p -> p.outcome() == Publication.Outcome.ACKED).count();
    Map<String, Long> c = r.counters();
    return String.format("chaos: %4ds faults %d, published %d (acked %d), connects new %d resumed %d, quiet %d",
        (System.currentTimeMillis() - runStart) / 1000, r.faults().size(), r.publications().size(), acked,
        c.getOrDefault("connect.new", 0L), c.getOrDefault("connect.resumed", 0L), c.getOrDefault("quiet", 0L));
  }

  /**
   * Reconnects and latency around the faults (what issue 14's rolling restart reports): the most
   * connections made in one second from the first fault's start to 10 s after the last one ended,
   * against 2 × clients / drain window (a drain spreads its clients' closes over the window, so all
   * clients moving within it is the bound); and publish→receive latency (the event's {@code ts}, its
   * node's accept time, to the client reading it, one clock: loopback; replays after a reconnect
   * included) of the events read during faults (a fault's start until the cluster is whole again)
   * and outside them.
   */
  static String rollFigures(ChaosOptions o, Recorder r) {
    List<Recorder.FaultRecord> faults = r.faults();
    String connects = "no fault";
    if (!faults.isEmpty()) {
      int from = faults.get(0).startedAt();
      int to = faults.get(faults.size() - 1).endedAt() + 10_000;
      int[] peak = r.peakConnects(from, to);
      double bound = o.drainMs() == 0 ? Double.POSITIVE_INFINITY : 2.0 * o.clients() / (o.drainMs() / 1000.0);
      connects = String.format("%d at %d s (bound 2 x %d clients / %.1f s drain = %.0f/s; by second from %d s: %s)",
          peak[0], peak[1], o.clients(), o.drainMs() / 1000.0, bound, from / 1000,
          java.util.Arrays.toString(r.connects(from, to)));
    }
    StringBuilder b = new StringBuilder("chaos: peak connects/s during faults ").append(connects)
        .append("\nchaos: publish->receive ms (count, p50, p99, p99.9, max)");
    for (boolean during : new boolean[] {true, false}) {
      for (boolean catchUp : new boolean[] {false, true}) {
        long[] l = r.latency(during, catchUp);
        b.append(String.format("; %s faults, %s: %d, %d, %d, %d, %d", during ? "during" : "outside",
            catchUp ? "catch-up" : "live", l[0], l[1], l[2], l[3], l[4]));
      }
    }
    return b.toString();
  }

  static int[] pickTopics(Random random, int topics, int n) {
    List<Integer> all = new ArrayList<>();
    for (int i = 0; i < topics; i++) {
      all.add(i);
    }
    Collections.shuffle(all, random);
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = all.get(i);
    }
    java.util.Arrays.sort(out);
    return out;
  }

  private static void deleteLogs(ChaosCluster cluster) {
    try (var files = Files.list(cluster.directory())) {
      for (Path p : files.toList()) {
        Files.deleteIfExists(p);
      }
      Files.deleteIfExists(cluster.directory());
    } catch (java.io.IOException e) {
      // leave them
    }
  }
}
