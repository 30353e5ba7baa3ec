package dev.switchboard.chaos;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The soak's tables and verdicts, from the sampler's rows: one table per node and one of the
 * cluster's Hazelcast sizes over time, then a {@link SoakTrend} fit of every series over the last
 * two thirds of the load (the first third holds the ramp and the time-to-lives filling up: sessions
 * 2 min, operations 5 min, chat history 10 min).
 */
final class SoakReport {
  /** Counts at or below this are measured against it, not their mean (see {@link SoakTrend}). */
  static final double COUNT_FLOOR = 10;

  /** A named series over the rows. */
  record Series(String name, ToDoubleFunction<SoakSampler.Row> value, double floor) {
  }

  /** A fitted series. */
  record Trend(String name, SoakTrend.Fit fit) {
  }

  private SoakReport() {
  }

  static void tables(List<SoakSampler.Row> rows, PrintStream out) {
    if (rows.isEmpty()) {
      return;
    }
    StringBuilder h = new StringBuilder("   min  phase  ");
    for (SoakSampler.NodeRow n : rows.get(0).nodes()) {
      h.append(String.format("| %-6s conns heapMiB metaMiB  fds  thr rssMiB cpu%% ", n.nodeId()));
    }
    h.append("| machine%  loadgen%  sample-ms");
    out.println("soak: nodes (heap: live after a full GC; cpu: % of one core since the previous sample)");
    out.println(h);
    for (SoakSampler.Row r : rows) {
      StringBuilder b = new StringBuilder(String.format("%6.1f  %-6s ", r.minutes(), r.phase()));
      for (SoakSampler.NodeRow n : r.nodes()) {
        NodeProbe.Reading x = n.reading();
        b.append(String.format("|        %5d %7.1f %7.1f %4d %4d %6.0f %4.0f ", n.connections(), x.heapKb() / 1024.0,
            x.metaspaceKb() / 1024.0, x.fds(), x.threads(), x.rssKb() / 1024.0, n.cpuPct()));
      }
      b.append(String.format("|   %5.1f     %5.1f  %9d", r.machinePct(), r.loadgenPct(), r.sampleMs()));
      out.println(b);
    }
    List<String> keys = new ArrayList<>(rows.get(0).sizes().keySet());
    out.println("soak: cluster (Hazelcast entries held, cluster-wide, expired ones until swept; :unexpired = what a"
        + " read sees; " + HazelcastLeftovers.SESSIONS_ENDED + " = ended-session tombstones among them)");
    StringBuilder k = new StringBuilder("   min  phase  ");
    for (String key : keys) {
      k.append(String.format(" %" + Math.max(7, key.length()) + "s", key));
    }
    out.println(k);
    for (SoakSampler.Row r : rows) {
      StringBuilder b = new StringBuilder(String.format("%6.1f  %-6s ", r.minutes(), r.phase()));
      for (String key : keys) {
        b.append(String.format(" %" + Math.max(7, key.length()) + "d", r.sizes().getOrDefault(key, -1)));
      }
      out.println(b);
    }
  }

  /** Every series the verdict covers: per node heap, fds, threads, metaspace; every Hazelcast size. */
  static List<Series> series(List<SoakSampler.Row> rows) {
    List<Series> out = new ArrayList<>();
    if (rows.isEmpty()) {
      return out;
    }
    SoakSampler.Row first = rows.get(0);
    for (int i = 0; i < first.nodes().size(); i++) {
      int idx = i;
      String node = first.nodes().get(i).nodeId();
      out.add(new Series(node + " heap MiB", r -> r.nodes().get(idx).reading().heapKb() / 1024.0, 0));
      out.add(new Series(node + " fds", r -> r.nodes().get(idx).reading().fds(), 0));
      out.add(new Series(node + " threads", r -> r.nodes().get(idx).reading().threads(), 0));
      out.add(new Series(node + " metaspace MiB", r -> r.nodes().get(idx).reading().metaspaceKb() / 1024.0, 0));
    }
    for (String key : first.sizes().keySet()) {
      out.add(new Series(key, r -> r.sizes().getOrDefault(key, 0), COUNT_FLOOR));
    }
    return out;
  }

  /** Fits every series over the load rows from {@code fromMinute} on. */
  static List<Trend> trends(List<SoakSampler.Row> rows, double fromMinute, double thresholdPct) {
    List<SoakSampler.Row> window = rows.stream().filter(r -> r.phase().equals("load") && r.minutes() >= fromMinute)
        .toList();
    double[] hours = window.stream().mapToDouble(r -> r.minutes() / 60).toArray();
    List<Trend> out = new ArrayList<>();
    for (Series s : series(rows)) {
      double[] y = window.stream().mapToDouble(s.value()).toArray();
      out.add(new Trend(s.name(), SoakTrend.fit(hours, y, thresholdPct, s.floor())));
    }
    return out;
  }

  static void printTrends(List<Trend> trends, PrintStream out) {
    out.println(String.format("  %-26s %10s %11s %9s %8s  %s", "series", "mean", "slope/h", "se/h", "%/h", "verdict"));
    for (Trend t : trends) {
      SoakTrend.Fit f = t.fit();
      out.println(String.format("  %-26s %10.1f %+11.2f %9.2f %+8.1f  %s", t.name(), f.mean(), f.slopePerHour(),
          f.sePerHour(), f.pctPerHour(), f.verdict()));
    }
  }

  /** The series that are not flat, by verdict. */
  static Map<SoakTrend.Verdict, List<String>> notFlat(List<Trend> trends) {
    Map<SoakTrend.Verdict, List<String>> out = new LinkedHashMap<>();
    for (Trend t : trends) {
      if (t.fit().verdict() != SoakTrend.Verdict.FLAT) {
        out.computeIfAbsent(t.fit().verdict(), v -> new ArrayList<>()).add(t.name());
      }
    }
    return out;
  }
}
