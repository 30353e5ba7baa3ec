package dev.switchboard.chaos;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The soak's samples: for each node its {@link NodeProbe.Reading} (a full collection first) and its
 * connection count ({@code GET /api/v1/cluster}), CPU shares since the previous sample (each node,
 * the load generator, the whole machine from {@code /proc/stat}), and the cluster's Hazelcast sizes
 * ({@link HazelcastLeftovers#sizes}). Called from the run's main thread only.
 */
final class SoakSampler {
  /** One node in one sample; cpuPct: percent of one core since the previous sample. */
  record NodeRow(String nodeId, int connections, NodeProbe.Reading reading, double cpuPct) {
  }

  /** One sample: minutes since the load started (negative before), the phase, nodes, sizes, machine. */
  record Row(double minutes, String phase, List<NodeRow> nodes, Map<String, Integer> sizes, double machinePct,
             double loadgenPct, long sampleMs) {
  }

  private final ChaosCluster cluster;
  private final HazelcastLeftovers hz;
  private final List<Row> rows = new ArrayList<>();
  private final Map<Long, Double> lastCpu = new HashMap<>();
  private long lastWallNanos = System.nanoTime();
  private double lastLoadgenCpu = loadgenCpu();
  private long[] lastStat = procStat();
  private long loadStartMs = -1;

  SoakSampler(ChaosCluster cluster, HazelcastLeftovers hz) {
    this.cluster = cluster;
    this.hz = hz;
  }

  void loadStarted() {
    loadStartMs = System.currentTimeMillis();
  }

  List<Row> rows() {
    return rows;
  }

  Row sample(String phase) {
    long began = System.currentTimeMillis();
    long now = System.nanoTime();
    double wallS = Math.max(1e-3, (now - lastWallNanos) / 1e9);
    Map<String, Integer> conns = connections();
    List<NodeRow> nodes = new ArrayList<>();
    for (NodeProcess n : cluster.nodes()) {
      long pid = n.pid();
      NodeProbe.Reading r = NodeProbe.read(pid);
      Double before = lastCpu.put(pid, r.cpuS());
      double pct = before == null ? 0 : 100 * (r.cpuS() - before) / wallS;
      nodes.add(new NodeRow(n.nodeId(), conns.getOrDefault(n.nodeId(), -1), r, pct));
    }
    Map<String, Integer> sizes = hz.sizes();
    double lg = loadgenCpu();
    double lgPct = 100 * (lg - lastLoadgenCpu) / wallS;
    lastLoadgenCpu = lg;
    long[] stat = procStat();
    double machine = busyPct(lastStat, stat);
    lastStat = stat;
    lastWallNanos = now;
    double minutes = loadStartMs < 0 ? 0 : (began - loadStartMs) / 60_000.0;
    Row row = new Row(minutes, phase, nodes, sizes, machine, lgPct, System.currentTimeMillis() - began);
    rows.add(row);
    return row;
  }

  /** Class histograms of every node, by node id (each after a full collection). */
  Map<String, Map<String, NodeProbe.ClassCount>> histograms() {
    Map<String, Map<String, NodeProbe.ClassCount>> out = new LinkedHashMap<>();
    for (NodeProcess n : cluster.nodes()) {
      out.put(n.nodeId(), NodeProbe.histogram(n.pid()));
    }
    return out;
  }

  private Map<String, Integer> connections() {
    Map<String, Integer> out = new HashMap<>();
    NodeProcess any = cluster.nodes().get(0);
    HttpCalls.Response r = cluster.http().get(any, "/api/v1/cluster", cluster.serviceToken(), 3_000);
    if (r.ok()) {
      for (Object o : new JsonObject(r.body()).getJsonArray("nodes")) {
        JsonObject node = (JsonObject) o;
        out.put(node.getString("node_id"), node.getInteger("connections", -1));
      }
    }
    return out;
  }

  private static double loadgenCpu() {
    return ProcessHandle.current().info().totalCpuDuration().map(Duration::toNanos).orElse(0L) / 1e9;
  }

  /** The machine's CPU jiffies from /proc/stat: {busy, total}. */
  private static long[] procStat() {
    try {
      String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long total = 0;
      for (int i = 1; i < f.length; i++) {
        total += Long.parseLong(f[i]);
      }
      long idle = Long.parseLong(f[4]) + (f.length > 5 ? Long.parseLong(f[5]) : 0);
      return new long[] {total - idle, total};
    } catch (IOException | RuntimeException e) {
      return new long[] {0, 0};
    }
  }

  /** Percent of all the machine's cores busy between two /proc/stat readings. */
  private static double busyPct(long[] a, long[] b) {
    long total = b[1] - a[1];
    return total <= 0 ? 0 : 100.0 * (b[0] - a[0]) / total;
  }
}
