package dev.switchboard.chaos;

import java.util.List;
import java.util.Random;

/** What a {@link Fault} may use: the cluster's processes, the run's random source, and the record. */
public record FaultContext(ChaosCluster cluster, ChaosOptions options, Random random, Recorder recorder) {
  /** A node chosen at random among those alive. */
  public NodeProcess randomNode() {
    List<NodeProcess> alive = cluster.nodes().stream().filter(NodeProcess::alive).toList();
    List<NodeProcess> from = alive.isEmpty() ? cluster.nodes() : alive;
    return from.get(random.nextInt(from.size()));
  }

  /** Records a line about the fault in progress (shown in the report's fault log). */
  public void note(String text) {
    recorder.faultNote(text);
  }
}
