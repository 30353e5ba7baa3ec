package dev.switchboard.chaos;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The nodes' own publish→deliver histogram ({@code sb_publish_deliver_seconds}) over the faults of a
 * run: a thread scrapes every client-serving node's {@code /metrics} about once a second and keeps
 * each incarnation's latest bucket counts; when a fault window opens (the recorder's, from a fault's
 * start to the cluster whole again) the latest counts are the baseline, and when it closes the
 * window's histogram is the sum over incarnations of latest minus baseline (an incarnation started
 * during the window counts from 0). What an incarnation recorded after its last scrape before it
 * exited (at most about a second of its drain) is not counted. Bounded: one scrape per node per
 * second, 2 s timeout each; the thread stops with {@link #close}.
 */
final class NodeLatency implements AutoCloseable {
  private static final String BUCKET = "sb_publish_deliver_seconds_bucket{le=\"";

  private final ChaosCluster cluster;
  private final Recorder recorder;
  private final Thread thread;
  private volatile boolean running = true;
  /** By node id: le → cumulative count, the latest scrape. Sampler thread only, then read after join. */
  private final Map<String, TreeMap<Double, Long>> latest = new HashMap<>();
  private Map<String, TreeMap<Double, Long>> baseline;
  private final TreeMap<Double, Long> window = new TreeMap<>();
  private boolean wasInFault;

  NodeLatency(ChaosCluster cluster, Recorder recorder) {
    this.cluster = cluster;
    this.recorder = recorder;
    this.thread = new Thread(this::run, "chaos-node-latency");
    this.thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  private void run() {
    while (running) {
      long t0 = System.currentTimeMillis();
      boolean inFault = recorder.inFault();
      for (NodeProcess n : cluster.gateways()) {
        String id = n.nodeId();
        if (!n.alive() || n.frozen()) {
          continue;
        }
        HttpCalls.Response r = cluster.http().get(n, "/metrics", null, 2_000);
        if (r.ok()) {
          latest.put(id, parse(r.body()));
        }
      }
      if (inFault && !wasInFault) {
        baseline = copy(latest);
      } else if (!inFault && wasInFault && baseline != null) {
        add();
        baseline = null;
      }
      wasInFault = inFault;
      long left = 1_000 - (System.currentTimeMillis() - t0);
      if (left > 0) {
        try {
          Thread.sleep(left); // the sampling period: nothing to await
        } catch (InterruptedException e) {
          return;
        }
      }
    }
  }

  private void add() {
    for (Map.Entry<String, TreeMap<Double, Long>> e : latest.entrySet()) {
      TreeMap<Double, Long> base = baseline.getOrDefault(e.getKey(), new TreeMap<>());
      e.getValue().forEach((le, c) -> window.merge(le, c - base.getOrDefault(le, 0L), Long::sum));
    }
  }

  private static Map<String, TreeMap<Double, Long>> copy(Map<String, TreeMap<Double, Long>> m) {
    Map<String, TreeMap<Double, Long>> out = new HashMap<>();
    m.forEach((k, v) -> out.put(k, new TreeMap<>(v)));
    return out;
  }

  static TreeMap<Double, Long> parse(String metrics) {
    TreeMap<Double, Long> out = new TreeMap<>();
    for (String line : metrics.split("\n")) {
      if (!line.startsWith(BUCKET)) {
        continue;
      }
      int q = line.indexOf('"', BUCKET.length());
      String le = line.substring(BUCKET.length(), q);
      double bound = le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le);
      out.put(bound, (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)));
    }
    return out;
  }

  /** Stops the sampler (bounded wait) and returns the windows' summary line. */
  @Override
  public void close() {
    running = false;
    thread.interrupt();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** "n samples, p50 ≤ a ms, p99 ≤ b ms" of the fault windows (bucket upper bounds), after {@link #close}. */
  String summary() {
    long total = window.getOrDefault(Double.POSITIVE_INFINITY, 0L);
    if (total <= 0) {
      return "no samples";
    }
    return String.format("%d samples, p50 <= %s, p99 <= %s, p99.9 <= %s (bucket bounds)", total,
        quantile(total, 0.5), quantile(total, 0.99), quantile(total, 0.999));
  }

  private String quantile(long total, double q) {
    long rank = (long) Math.ceil(q * total);
    for (Map.Entry<Double, Long> e : window.entrySet()) {
      if (e.getValue() >= rank) {
        return e.getKey().isInfinite() ? "+Inf" : String.format("%.1f ms", e.getKey() * 1000);
      }
    }
    return "+Inf";
  }
}
