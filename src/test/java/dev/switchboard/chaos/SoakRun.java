package dev.switchboard.chaos;

import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.testsupport.TestNode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * The soak (issue 11, item 4): two node processes of the chaos cluster with no faults, and mixed
 * load for {@code --minutes}: {@link SoakClient}s that come and go (sessions ended with 1000,
 * dropped and resumed, dropped and abandoned) subscribing and unsubscribing over a pool of
 * {@code chat:} and {@code news:} topics; publishers over WebSocket and HTTP; operations
 * ({@code demo.count}, {@code demo.primes}) from users whose two devices sit on different nodes, half
 * attached from the other node, 30 % cancelled, their connections dropped and resumed now and
 * then. Every {@code --sample} seconds the {@link SoakSampler} forces a full collection on each node
 * and reads its live heap, file descriptors, threads, and the cluster's Hazelcast sizes.
 *
 * <p>Then every client leaves with 1000, and the run checks that what holds per-client state
 * empties: devices, presence, live sessions, unfinished operations and dedupe keys at once, the
 * ended sessions' tombstones and the finished operations within their time-to-lives; Vert.x's
 * event-bus registrations back where they were before the load. Last: the tables, a
 * {@link SoakTrend} verdict per series over the last two thirds of the load, the class-histogram
 * growth, and a figures line. Exit code 0 when nothing grows and the end is clean.
 * Usage: {@link SoakOptions#USAGE}; {@code bench/soak.sh} runs it.
 */
public final class SoakRun {
  /** Per-client state must be gone this long after the last client left (entry processors, not time-to-lives). */
  static final long LEFTOVER_MS = 30_000;
  /** An expired entry stops being readable at once (reads check), beyond the time-to-live: this slack. */
  static final long READ_SLACK_MS = 15_000;
  /**
   * An expired entry is held until Hazelcast's background sweep visits its partition: every 5 s it
   * visits min(10 % of the partitions, 3 x partition threads) of them, 6 of 271 on a 2-core member,
   * so a whole round takes about 226 s; slack beyond the time-to-live for the held counts.
   */
  static final long SWEEP_SLACK_MS = 300_000;
  static final int HISTOGRAM_TOP = 12;
  /** The maps that hold per-client state: empty once every client has left and the time-to-lives passed. */
  static final List<String> PER_CLIENT = List.of("sb.devices", "sb.presence", "sb.ops.dedupe", "sb.sessions",
      "sb.ops");
  /** What a read of the sessions and operations still sees: nothing once their time-to-lives passed. */
  static final List<String> UNEXPIRED = List.of(HazelcastLeftovers.SESSIONS_UNEXPIRED,
      HazelcastLeftovers.OPS_UNEXPIRED);

  private SoakRun() {
  }

  public static void main(String[] args) {
    if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
      System.out.println(SoakOptions.usage());
      System.exit(0);
    }
    SoakOptions o;
    try {
      o = SoakOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    boolean ok = run(o, System.out);
    System.exit(ok ? 0 : 1);
  }

  /** Runs the whole soak, printing to {@code out}; true when nothing grew and the end was clean. */
  public static boolean run(SoakOptions o, PrintStream out) {
    out.println("soak: " + o + " (repeat with --seed " + o.seed() + ")");
    Random random = new Random(o.seed());
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(4));
    WebSocketClient wsClient = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxConnections(100_000)
        .setMaxFrameSize(1 << 20).setMaxMessageSize(8 << 20).setConnectTimeout(5_000));
    ChaosOptions chaosOptions = ChaosOptions.from(Map.of("nodes", "2", "faults", "none",
        "seed", Long.toString(o.seed())));
    ChaosCluster cluster = new ChaosCluster(vertx, chaosOptions, ChaosNet.create(chaosOptions)); // loopback
    cluster.addEnv(o.nodeEnv());
    SwitchboardConfig.LifecycleOptions lifecycle = ConfigLoader.load(TestNode.env(o.nodeEnv())).lifecycle();
    List<String> pool = new ArrayList<>();
    for (int i = 0; i < o.topics(); i++) {
      pool.add(i < o.topics() * 2 / 3 ? "chat:s" + i : "news:s" + i);
    }
    Recorder recorder = new Recorder(pool);
    List<WsPeer> peers = new ArrayList<>();
    List<String> findings = new ArrayList<>();
    HazelcastLeftovers hz = null;
    long t0 = System.currentTimeMillis();
    try {
      cluster.startAll();
      out.println("soak: 2 nodes up in " + (System.currentTimeMillis() - t0) + " ms (cluster " + cluster.clusterName()
          + ", logs in " + cluster.directory() + "; session ttl " + lifecycle.sessionTtlMs() / 1000
          + " s, operation retention " + lifecycle.opRetentionMs() / 1000 + " s)");
      hz = new HazelcastLeftovers(cluster);
      SoakSampler sampler = new SoakSampler(cluster, hz);
      SoakSampler.Row idleStart = sampler.sample("idle");
      Map<String, Map<String, NodeProbe.ClassCount>> histIdleStart = sampler.histograms();

      SoakLoad load = new SoakLoad(vertx, wsClient, cluster, recorder, random, o, pool,
          (long) (o.minutes() * 60) + 3_600 + (lifecycle.sessionTtlMs() + lifecycle.opRetentionMs()) / 1000);
      peers.addAll(load.peers());
      sampler.loadStarted();
      long loadStart = System.currentTimeMillis();
      load.start(Math.min(30_000, o.durationMs() / 4));
      long sampleMs = Math.round(o.sampleS() * 1000);
      double windowFrom = o.minutes() / 3;
      Map<String, Map<String, NodeProbe.ClassCount>> histWindowStart = null;
      for (int k = 1; (long) k * sampleMs <= o.durationMs(); k++) {
        sleepUntil(loadStart + k * sampleMs);
        SoakSampler.Row r = sampler.sample("load");
        out.println(progress(r, recorder));
        if (histWindowStart == null && r.minutes() >= windowFrom) {
          histWindowStart = sampler.histograms();
        }
      }
      sleepUntil(loadStart + o.durationMs());
      Map<String, Map<String, NodeProbe.ClassCount>> histLoadEnd = sampler.histograms();

      out.println("soak: load stops; every client leaves with 1000");
      load.stop();
      sampler.sample("left");
      HazelcastLeftovers h = hz;
      Map<String, List<String>> left = new LinkedHashMap<>();
      long leftAt = System.currentTimeMillis();
      boolean clean = EndChecks.until(LEFTOVER_MS, () -> {
        left.clear();
        left.putAll(h.read(load.abandoned));
        return left.isEmpty();
      });
      out.println("soak: per-client state (devices, presence, live sessions, unfinished operations, dedupe) "
          + (clean ? "gone " + (System.currentTimeMillis() - leftAt) + " ms after the last client left"
          : "still there " + LEFTOVER_MS / 1000 + " s after: " + left));
      if (!clean) {
        left.forEach((map, ex) -> findings.add("left over in " + map + ": " + ex));
      }
      long ttl = Math.max(lifecycle.sessionTtlMs(), lifecycle.opRetentionMs());
      long expiry = ttl + SWEEP_SLACK_MS;
      Map<String, Long> emptyAfter = awaitEmpty(sampler, hz, sampleMs, expiry, leftAt, out);
      SoakSampler.Row idleEnd = sampler.sample("idle");
      Map<String, Map<String, NodeProbe.ClassCount>> histIdleEnd = sampler.histograms();

      out.println();
      SoakReport.tables(sampler.rows(), out);
      out.println("soak: trends over the load from minute " + String.format("%.1f", windowFrom)
          + " on; growing = above "
          + o.thresholdPctPerHour() + " % of the mean per hour and " + (int) SoakTrend.MIN_T
          + " standard errors above zero");
      List<SoakReport.Trend> trends = SoakReport.trends(sampler.rows(), windowFrom, o.thresholdPctPerHour());
      SoakReport.printTrends(trends, out);
      endChecks(o, hz, idleStart, idleEnd, emptyAfter, ttl, load.freshTopics(), findings, out);
      printGrowth("load, from minute " + String.format("%.1f", windowFrom) + " to the end", histWindowStart,
          histLoadEnd, out);
      printGrowth("idle before the load to idle after it", histIdleStart, histIdleEnd, out);
      logScan(cluster, findings, out);
      out.println("soak: counters " + recorder.counters());
      Map<SoakTrend.Verdict, List<String>> notFlat = SoakReport.notFlat(trends);
      boolean ok = !notFlat.containsKey(SoakTrend.Verdict.GROWING) && findings.isEmpty();
      findings.forEach(f -> out.println("soak: FINDING " + f));
      out.println("soak: took " + (System.currentTimeMillis() - t0) / 1000 + " s; seed " + o.seed());
      out.println(figures(o, recorder, trends, notFlat, findings, sampler.rows(), ok));
      if (ok) {
        deleteLogs(cluster);
      } else {
        out.println("soak: node logs kept in " + cluster.directory());
      }
      return ok;
    } catch (RuntimeException e) {
      out.println("soak: ABORTED: " + e);
      e.printStackTrace(out);
      out.println("soak: node logs kept in " + cluster.directory());
      return false;
    } finally {
      if (hz != null) {
        hz.close();
      }
      cluster.close();
      vertx.close().toCompletionStage().toCompletableFuture().orTimeout(20, TimeUnit.SECONDS).exceptionally(e -> null)
          .join();
    }
  }

  /**
   * Samples every {@code sampleMs} until the maps holding per-client state are empty, tombstones and
   * finished operations included (bounded by {@code boundMs}); the time each emptied, by map.
   */
  private static Map<String, Long> awaitEmpty(SoakSampler sampler, HazelcastLeftovers hz, long sampleMs,
                                              long boundMs, long since, PrintStream out) {
    Map<String, Long> emptyAfter = new LinkedHashMap<>();
    long deadline = since + boundMs;
    long nextSample = System.currentTimeMillis() + sampleMs;
    out.println("soak: waiting (up to " + boundMs / 1000 + " s) for the session tombstones and finished operations"
        + " to expire");
    List<String> watched = new ArrayList<>(PER_CLIENT);
    watched.addAll(UNEXPIRED);
    while (true) {
      Map<String, Integer> sizes = hz.sizes();
      for (String m : watched) {
        if (sizes.getOrDefault(m, 0) == 0) {
          emptyAfter.putIfAbsent(m, System.currentTimeMillis() - since);
        } else {
          emptyAfter.remove(m); // counts only once it stays empty
        }
      }
      if (emptyAfter.size() == watched.size() || System.currentTimeMillis() >= deadline) {
        return emptyAfter;
      }
      if (System.currentTimeMillis() >= nextSample) {
        SoakSampler.Row r = sampler.sample("end");
        out.println("soak: end " + r.sizes());
        nextSample += sampleMs;
      }
      sleepUntil(Math.min(deadline, System.currentTimeMillis() + 5_000));
    }
  }

  private static void endChecks(SoakOptions o, HazelcastLeftovers hz, SoakSampler.Row idleStart,
                                SoakSampler.Row idleEnd, Map<String, Long> emptyAfter, long ttl, int fresh,
                                List<String> findings, PrintStream out) {
    out.println("soak: after every client left (time-to-lives up to " + ttl / 1000 + " s; held entries may wait "
        + "for Hazelcast's sweep up to " + SWEEP_SLACK_MS / 1000 + " s more)");
    for (String m : UNEXPIRED) {
      Long ms = emptyAfter.get(m);
      boolean late = ms == null || ms > ttl + READ_SLACK_MS;
      out.println(String.format("  %-22s %s", m, ms == null ? "NOT EMPTY: " + idleEnd.sizes().get(m) + " entries"
          : "empty after " + ms / 1000 + " s" + (late ? " (LATE)" : "")));
      if (late) {
        findings.add(m + " still readable " + (ttl + READ_SLACK_MS) / 1000 + " s after every client left: an entry"
            + " refreshed after its client left");
      }
    }
    for (String m : PER_CLIENT) {
      Long ms = emptyAfter.get(m);
      out.println(String.format("  %-22s %s", m, ms == null ? "NOT EMPTY after " + (ttl + SWEEP_SLACK_MS) / 1000
          + " s: " + idleEnd.sizes().get(m) + " entries" : "empty after " + ms / 1000 + " s"));
      if (ms == null) {
        findings.add(m + " not empty " + (ttl + SWEEP_SLACK_MS) / 1000 + " s after every client left ("
            + idleEnd.sizes().get(m) + " entries)");
        hz.describe(m, 3).forEach(d -> out.println("      " + d));
      }
    }
    int subsBefore = idleStart.sizes().get(HazelcastLeftovers.VERTX_SUBS);
    int subsAfter = idleEnd.sizes().get(HazelcastLeftovers.VERTX_SUBS);
    out.println(String.format("  %-22s %d before the load, %d after", HazelcastLeftovers.VERTX_SUBS, subsBefore,
        subsAfter));
    if (subsAfter > subsBefore) {
      findings.add(HazelcastLeftovers.VERTX_SUBS + " holds " + (subsAfter - subsBefore)
          + " more registrations after the load than before it");
    }
    int rings = idleEnd.sizes().get(HazelcastLeftovers.RINGS);
    int epochs = idleEnd.sizes().get("sb.epochs");
    int topics = o.topics() + fresh;
    out.println(String.format("  %-22s %d topic histories and %d epochs for %d topics ever used (%d of the pool, %d"
        + " fresh): kept, nothing removes a topic's history", "topics", rings, epochs, topics, o.topics(), fresh));
    if (rings > topics || epochs > topics) {
      findings.add("more topic histories (" + rings + ") or epochs (" + epochs + ") than topics used (" + topics + ")");
    }
    for (int i = 0; i < idleEnd.nodes().size(); i++) {
      NodeProbe.Reading a = idleStart.nodes().get(i).reading();
      NodeProbe.Reading b = idleEnd.nodes().get(i).reading();
      out.println(String.format("  %-22s idle before / after: heap %.1f / %.1f MiB, metaspace %.1f / %.1f MiB, fds %d"
              + " / %d, threads %d / %d", idleEnd.nodes().get(i).nodeId(), a.heapKb() / 1024.0, b.heapKb() / 1024.0,
          a.metaspaceKb() / 1024.0, b.metaspaceKb() / 1024.0, a.fds(), b.fds(), a.threads(), b.threads()));
    }
  }

  private static void printGrowth(String what, Map<String, Map<String, NodeProbe.ClassCount>> before,
                                  Map<String, Map<String, NodeProbe.ClassCount>> after, PrintStream out) {
    if (before == null || after == null) {
      return;
    }
    out.println("soak: class histogram growth, " + what + " (top " + HISTOGRAM_TOP + " by bytes)");
    for (Map.Entry<String, Map<String, NodeProbe.ClassCount>> e : after.entrySet()) {
      Map<String, NodeProbe.ClassCount> b = before.get(e.getKey());
      if (b == null) {
        continue;
      }
      out.println(String.format("  %s: %+.1f MiB in all", e.getKey(),
          (NodeProbe.totalBytes(e.getValue()) - NodeProbe.totalBytes(b)) / 1048576.0));
      NodeProbe.growth(b, e.getValue(), HISTOGRAM_TOP).forEach(l -> out.println("    " + l));
    }
  }

  /** Node log lines that point at trouble: Netty's leak detector (on by default, 1 % sampling), ERROR events. */
  private static void logScan(ChaosCluster cluster, List<String> findings, PrintStream out) {
    for (NodeProcess n : cluster.nodes()) {
      int leaks = 0;
      int severe = 0;
      String firstSevere = null;
      for (Path log : n.logs()) {
        List<String> lines;
        try {
          lines = Files.readAllLines(log);
        } catch (IOException e) {
          continue;
        }
        for (String l : lines) {
          if (l.contains("LEAK:")) {
            leaks++;
          }
          if (l.startsWith("{") && l.contains("\"level\":\"ERROR\"")) { // the nodes log JSON lines
            severe++;
            firstSevere = firstSevere == null ? l : firstSevere;
          }
        }
      }
      out.println("soak: " + n.nodeId() + " log: " + leaks + " Netty LEAK reports, " + severe + " ERROR lines"
          + (firstSevere == null ? "" : " (first: " + firstSevere + ")"));
      if (leaks > 0) {
        findings.add(n.nodeId() + " logged " + leaks + " Netty LEAK reports");
      }
    }
  }

  private static String progress(SoakSampler.Row r, Recorder recorder) {
    StringBuilder b = new StringBuilder(String.format("soak: %5.1f min", r.minutes()));
    for (SoakSampler.NodeRow n : r.nodes()) {
      b.append(String.format(" | %s %d conns heap %.1f MiB fds %d thr %d", n.nodeId(), n.connections(),
          n.reading().heapKb() / 1024.0, n.reading().fds(), n.reading().threads()));
    }
    Map<String, Long> c = recorder.counters();
    b.append(String.format(" | sessions %d ops %d | machine %.0f%% | connects %d",
        r.sizes().getOrDefault("sb.sessions", -1), r.sizes().getOrDefault("sb.ops", -1), r.machinePct(),
        c.getOrDefault("connect.new", 0L) + c.getOrDefault("connect.resumed", 0L)));
    return b.toString();
  }

  private static String figures(SoakOptions o, Recorder recorder, List<SoakReport.Trend> trends,
                                Map<SoakTrend.Verdict, List<String>> notFlat, List<String> findings,
                                List<SoakSampler.Row> rows, boolean ok) {
    Map<String, Long> c = recorder.counters();
    StringBuilder b = new StringBuilder(String.format("soak: %.1f min, connects %d (resumed %d), leaves %d, "
            + "publications %d (+%d by clients), operations %d", o.minutes(), c.getOrDefault("connect.new", 0L)
            + c.getOrDefault("connect.resumed", 0L), c.getOrDefault("connect.resumed", 0L),
        c.entrySet().stream().filter(e -> e.getKey().startsWith("leave.")).mapToLong(Map.Entry::getValue).sum(),
        recorder.publications().size(), c.getOrDefault("soak.topic.publish.result", 0L), recorder.ops().size()));
    double machine = rows.stream().filter(r -> r.phase().equals("load")).mapToDouble(SoakSampler.Row::machinePct)
        .average().orElse(0);
    b.append(String.format(", machine %.0f%% busy;", machine));
    for (SoakReport.Trend t : trends) {
      if (t.name().endsWith(" heap MiB") || t.name().endsWith(" fds") || t.name().endsWith(" threads")) {
        b.append(String.format(" %s %.1f %+.1f%%/h,", t.name().replace(" MiB", ""), t.fit().mean(),
            t.fit().pctPerHour()));
      }
    }
    b.append(" maps ").append(notFlat.isEmpty() ? "all flat" : "not flat: " + notFlat);
    b.append("; end ").append(findings.isEmpty() ? "clean" : findings.size() + " findings");
    b.append(" => ").append(ok ? (notFlat.isEmpty() ? "FLAT" : "FLAT (some UNCLEAR)") : "NOT FLAT");
    return b.toString();
  }

  static void sleepUntil(long epochMs) {
    long ms = epochMs - System.currentTimeMillis();
    if (ms > 0) {
      ChaosCluster.sleep(ms); // the main thread: the run's clock, nothing to await
    }
  }

  private static void deleteLogs(ChaosCluster cluster) {
    try (var files = Files.list(cluster.directory())) {
      for (Path p : files.toList()) {
        Files.deleteIfExists(p);
      }
      Files.deleteIfExists(cluster.directory());
    } catch (IOException e) {
      // leave them
    }
  }

  /** Waits (bounded) for futures, ignoring failures. */
  static void awaitAll(List<Future<Void>> fs, long ms) {
    for (Future<Void> f : fs) {
      EndChecks.await(f, ms);
    }
  }
}
