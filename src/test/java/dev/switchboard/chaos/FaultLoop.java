package dev.switchboard.chaos;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The fault thread: one fault at a time, chosen at random among the run's kinds, a random gap
 * after the cluster is whole again. After each fault it waits for the cluster to re-form; a node
 * that exits on its own meanwhile is restarted (what an orchestrator does). A cluster still not
 * whole {@link #HEAL_MS} after the fault ended (a node restarted, continued, or its network healed)
 * is a finding ({@code unhealed}), and the nodes outside the largest group that agrees on
 * membership are SIGKILLed and restarted so the run can go on.
 */
final class FaultLoop implements Runnable {
  /**
   * From the end of a fault to a whole cluster. The longest path is a cut or frozen node's merge:
   * the sides find each other within {@code cluster.merge_delay_s} (30 s, the product's default;
   * 2 s when the run was written), the smaller side's Hazelcast restarts its cluster service and
   * joins, the node drops its copies, closes its leftover clients and reports ready again, and every
   * node lists the same members; measured 6-15 s after a 30 s cut with a 2 s delay, 19-20 s after a
   * freeze with 30 s, on the 2-core machine under load, so 60 s leaves room.
   */
  static final long HEAL_MS = 60_000;
  static final long REPAIR_MS = 90_000;
  static final long QUIET_END_MS = 10_000;

  private final ChaosCluster cluster;
  private final ChaosOptions options;
  private final Recorder recorder;
  private final List<Fault> faults = new ArrayList<>();
  private final Random random;
  private final CountDownLatch stop = new CountDownLatch(1);
  private final Thread thread;

  FaultLoop(ChaosCluster cluster, ChaosOptions options, Recorder recorder, List<Fault> faults) {
    this.cluster = cluster;
    this.options = options;
    this.recorder = recorder;
    this.faults.addAll(faults);
    this.random = new Random(options.seed() * 31 + 7);
    this.thread = new Thread(this, "chaos-faults");
    this.thread.setDaemon(true);
  }

  /** No fault starts in the last {@link #QUIET_END_MS} before this instant (one would only stretch the run). */
  private volatile long deadline = Long.MAX_VALUE;

  void start(long deadlineMillis) {
    this.deadline = deadlineMillis;
    if (!faults.isEmpty()) {
      thread.start();
    }
  }

  /** No new fault from now on; waits (bounded) for the one in progress and its recovery. */
  void stopAndJoin(long timeoutMs) {
    stop.countDown();
    try {
      thread.join(timeoutMs);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (thread.isAlive()) {
      recorder.finding("harness", "the fault thread did not finish within " + timeoutMs + " ms");
    }
  }

  @Override
  public void run() {
    FaultContext ctx = new FaultContext(cluster, options, random, recorder);
    int injected = 0;
    try {
      while (options.maxFaults() == 0 || injected < options.maxFaults()) {
        long gap = Math.round((options.faultGapMinS() + random.nextDouble()
            * (options.faultGapMaxS() - options.faultGapMinS())) * 1000);
        if (stop.await(gap, TimeUnit.MILLISECONDS) || System.currentTimeMillis() > deadline - QUIET_END_MS) {
          return;
        }
        Fault f = faults.get(random.nextInt(faults.size()));
        int at = recorder.now();
        injected++;
        recorder.faultWindow(true); // from the fault's start to the cluster whole again
        try {
          try {
            f.inject(ctx);
          } catch (InterruptedException e) {
            throw e;
          } catch (Exception e) {
            recorder.finding("harness", f.name() + " failed: " + e);
          }
          recorder.fault(f.name(), at);
          if (!heal(f.name())) {
            return;
          }
        } finally {
          recorder.faultWindow(false);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Waits for the cluster to re-form (restarting nodes that exit on their own), else repairs it; false if it cannot. */
  boolean heal(String after) {
    long from = System.currentTimeMillis();
    if (awaitWhole(HEAL_MS)) {
      recorder.faultNote(String.format("whole again %.1f s after the %s", (System.currentTimeMillis() - from) / 1000.0,
          after));
      return true;
    }
    Map<String, Set<String>> views = cluster.views();
    recorder.finding("unhealed", "cluster not re-formed " + HEAL_MS / 1000 + " s after " + after + ": views "
        + views);
    recorder.faultNote("cluster not re-formed after " + after + ", views " + views + ": restarting the minority");
    cluster.net().healAll();
    for (NodeProcess n : minority(views)) {
      String id = n.nodeId();
      n.kill();
      cluster.restart(n);
      recorder.faultNote("repair: SIGKILL " + id + ", restarted as " + n.nodeId());
    }
    if (awaitWhole(REPAIR_MS)) {
      return true;
    }
    recorder.finding("unhealed", "cluster still not whole after restarting the minority: views " + cluster.views()
        + "; no more faults");
    return false;
  }

  private boolean awaitWhole(long timeoutMs) {
    long deadline = System.currentTimeMillis() + timeoutMs;
    while (System.currentTimeMillis() < deadline) {
      for (NodeProcess n : cluster.nodes()) {
        if (!n.alive()) {
          String id = n.nodeId();
          recorder.faultNote(id + " exited on its own (exit " + n.exitCode() + "): restarting");
          cluster.restart(n);
          recorder.faultNote("restarted slot " + n.slot + " as " + n.nodeId());
        }
      }
      if (cluster.whole()) {
        return true;
      }
      ChaosCluster.sleep(300);
    }
    return false;
  }

  /**
   * Nodes outside the largest group of nodes that share one view, that do not answer, or that the
   * group's view does not list (a node every node's view leaves out, itself included, is no member
   * in the cluster's eyes whatever it says).
   */
  static List<NodeProcess> minority(ChaosCluster cluster, Map<String, Set<String>> views) {
    Map<Set<String>, Integer> counts = new HashMap<>();
    views.values().forEach(v -> {
      if (v != null) {
        counts.merge(v, 1, Integer::sum);
      }
    });
    Set<String> majority = counts.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey)
        .orElse(Set.of());
    List<NodeProcess> out = new ArrayList<>();
    for (NodeProcess n : cluster.nodes()) {
      if (!n.servesClients()) {
        if (!majority.contains(n.nodeId())) { // a data member has no view of its own to compare
          out.add(n);
        }
        continue;
      }
      Set<String> v = views.get(n.nodeId());
      if (v == null || !v.equals(majority) || !majority.contains(n.nodeId())) {
        out.add(n);
      }
    }
    return out;
  }

  private List<NodeProcess> minority(Map<String, Set<String>> views) {
    return minority(cluster, views);
  }
}
