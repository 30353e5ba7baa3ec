package dev.switchboard.bench;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.Node;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.Vertx;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Operation figures (not a test; run by bench/ops.sh): cancel-to-terminal latency across nodes,
 * operations started per second on one node, and heap per running operation. Two real nodes in
 * this JVM (their event buses talk over loopback TCP), real WebSocket clients, bounded counts.
 */
public final class OpsBench {
  public static void main(String[] args) {
    try {
      run(args);
    } catch (Throwable t) {
      // the nodes' and clients' threads would keep the JVM up after a failure: end it
      t.printStackTrace();
      System.out.println("RESULT failed: " + t);
      System.exit(1);
    }
  }

  static void run(String[] args) throws Exception {
    int cancels = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int starts = args.length > 1 ? Integer.parseInt(args[1]) : 5000;
    int running = args.length > 2 ? Integer.parseInt(args[2]) : 1000;
    int windowed = args.length > 3 ? Integer.parseInt(args[3]) : 0;
    Map<String, String> env = Map.of("SB_RATE_PER_SEC", "1000000", "SB_RATE_BURST", "1000000",
        "SB_MAX_CONCURRENT_OPS", "100000", "SB_OPS_MAX_PER_USER", "1000000", "SB_OPS_QUEUE", "100000",
        "SB_MAX_CONNECTIONS_PER_USER", "1000", "SB_CONNECT_RATE_PER_IP", "1000000");
    List<Node> nodes = TestNode.cluster(2, env);
    Vertx vertx = Vertx.vertx();
    try {
      if (cancels > 0) {
        cancelLatency(vertx, nodes, cancels);
      }
      if (starts > 0) {
        startRate(vertx, nodes, starts);
      }
      if (windowed > 0) {
        startRateWindowed(vertx, nodes, windowed, WINDOW_CONNECTIONS, WINDOW, "client on node 1 of 2");
      }
      if (running > 0) {
        heapPerOperation(vertx, nodes, running);
      }
    } finally {
      TestNode.stop(nodes.toArray(new Node[0]));
    }
    if (windowed > 0) {
      // a one-node deployment: every Hazelcast operation local, no backups, every frame local
      Map<String, String> one = new java.util.HashMap<>(env);
      one.put("SB_CLUSTER_NAME", "ops-bench-one-" + ProcessHandle.current().pid());
      Node single = TestNode.start(one);
      try {
        startRateWindowed(vertx, List.of(single), windowed / 2, WINDOW_CONNECTIONS, WINDOW, "warm-up, one node");
        startRateWindowed(vertx, List.of(single), windowed, WINDOW_CONNECTIONS, WINDOW, "one-node cluster");
      } finally {
        TestNode.stop(single);
      }
    }
    vertx.close();
    System.exit(0);
  }

  /**
   * Client on node 1 starts demo.primes (10^12); a client of the same user on node 2 cancels it.
   * Batches differ per run so that no request is deduplicated into the previous (still finishing) one.
   */
  static void cancelLatency(Vertx vertx, List<Node> nodes, int n) {
    long[] ns = new long[n];
    try (WsClient a = WsClient.connect(vertx, nodes.get(0).port(), Tokens.user("bench-c"));
         WsClient b = WsClient.connect(vertx, nodes.get(1).port(), Tokens.user("bench-c"))) {
      for (int i = 0; i < n; i++) {
        int id = a.request("demo.primes", WsClient.params().put("limit", 1_000_000_000_000L).put("batch", 100 + i % 50));
        JsonNode first = a.await(f -> f.path("id").asInt(-1) == id && "stream".equals(f.path("type").asText()),
            Duration.ofSeconds(30));
        long t0 = System.nanoTime();
        b.request("op.cancel", WsClient.params().put("op_id", first.get("op_id").asText()));
        a.await(f -> f.path("id").asInt(-1) == id && WsClient.isTerminal(f), Duration.ofSeconds(30));
        ns[i] = System.nanoTime() - t0;
        b.drain();
      }
    }
    Arrays.sort(ns);
    System.out.printf("RESULT cancel_to_terminal_cross_node n=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f%n", n,
        ns[n / 2] / 1e6, ns[(int) (n * 0.99)] / 1e6, ns[n - 1] / 1e6);
  }

  /** demo.count {to:1} requests pipelined on 4 connections to one node, until all n ended. */
  static void startRate(Vertx vertx, List<Node> nodes, int n) {
    List<WsClient> cs = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      cs.add(WsClient.connect(vertx, nodes.get(0).port(), Tokens.user("bench-s" + i)));
    }
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      // distinct params, so no request is deduplicated into another
      cs.get(i % 4).request("demo.count", WsClient.params().put("to", 1).put("interval_ms", i % 60_000));
    }
    int done = 0;
    for (WsClient c : cs) {
      int mine = n / 4 + (cs.indexOf(c) < n % 4 ? 1 : 0);
      int seen = 0;
      while (seen < mine) {
        JsonNode f = c.next(Duration.ofSeconds(60));
        if (WsClient.isTerminal(f)) {
          seen++;
          if ("error".equals(f.path("type").asText())) {
            System.out.println("  error: " + f);
          }
        }
      }
      done += seen;
    }
    double s = (System.nanoTime() - t0) / 1e9;
    System.out.printf("RESULT ops_started_and_finished_per_s n=%d seconds=%.2f per_s=%.0f%n", done, s, done / s);
    System.out.flush();
    cs.forEach(WsClient::close);
  }

  /** Clients of the windowed start rate, each a user of its own with one request in flight. */
  static final int WINDOW_CONNECTIONS = 160;
  static final int WINDOW = 1;

  /**
   * demo.count {to:1, interval_ms:0} starts from {@code conns} connections, each its own user keeping
   * {@code window} requests in flight (a new one as soon as one ends) until n have ended. With one in
   * flight per user the params can be identical without any request joining another (dedupe is per
   * user and only joins operations in flight), so no operation waits for a timer of its own: in
   * {@link #startRate} the k-th operation's distinct interval_ms makes it end k ms after it started,
   * which bounds that figure near n / (n / 1000 s), whatever the server. One thread per client.
   */
  static void startRateWindowed(Vertx vertx, List<Node> nodes, int n, int conns, int window, String where)
      throws Exception {
    List<WsClient> cs = new ArrayList<>();
    for (int i = 0; i < conns; i++) {
      cs.add(WsClient.connect(vertx, nodes.get(0).port(), Tokens.user("bench-w" + i + "-" + n)));
    }
    java.util.concurrent.atomic.AtomicInteger errors = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger joined = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(conns);
    long t0 = System.nanoTime();
    List<java.util.concurrent.Future<Integer>> done = new ArrayList<>();
    for (int i = 0; i < conns; i++) {
      WsClient c = cs.get(i);
      int mine = n / conns + (i < n % conns ? 1 : 0);
      done.add(pool.submit(() -> {
        int sent = 0;
        int ended = 0;
        for (; sent < Math.min(window, mine); sent++) {
          c.request("demo.count", WsClient.params().put("to", 1).put("interval_ms", 0));
        }
        while (ended < mine) {
          JsonNode f = c.next(Duration.ofSeconds(60));
          if (f.path("deduplicated").asBoolean(false)) {
            joined.incrementAndGet();
          }
          if (WsClient.isTerminal(f)) {
            ended++;
            if ("error".equals(f.path("type").asText()) && errors.getAndIncrement() < 5) {
              System.out.println("  error: " + f);
            }
            if (sent < mine) {
              sent++;
              c.request("demo.count", WsClient.params().put("to", 1).put("interval_ms", 0));
            }
          }
        }
        return ended;
      }));
    }
    int total = 0;
    for (var f : done) {
      total += f.get(120, java.util.concurrent.TimeUnit.SECONDS);
    }
    double s = (System.nanoTime() - t0) / 1e9;
    pool.shutdown();
    System.out.printf("RESULT ops_started_and_finished_per_s_windowed n=%d conns=%d window=%d errors=%d joined=%d"
        + " seconds=%.2f per_s=%.0f (%s)%n", total, conns, window, errors.get(), joined.get(), s, total / s, where);
    System.out.flush();
    cs.forEach(WsClient::close);
  }

  /** n demo.count operations kept running (one frame a minute); live heap of this JVM before and after. */
  static void heapPerOperation(Vertx vertx, List<Node> nodes, int n) throws Exception {
    try (WsClient c = WsClient.connect(vertx, nodes.get(0).port(), Tokens.user("bench-h"))) {
      long before = liveHeap();
      for (int i = 0; i < n; i++) {
        c.request("demo.count", WsClient.params().put("to", 1_000_000).put("interval_ms", 60_000 - i));
      }
      int progress = 0;
      while (progress < n * 2) { // queued + running progress frames of each
        JsonNode f = c.next(Duration.ofSeconds(60));
        if ("progress".equals(f.path("type").asText())) {
          progress++;
        }
      }
      c.drain();
      long after = liveHeap();
      System.out.printf("RESULT heap_per_running_op n=%d kib=%.1f (both nodes, the registry and the client in one JVM)%n",
          n, (after - before) / 1024.0 / n);
    }
  }

  static long liveHeap() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(300);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
