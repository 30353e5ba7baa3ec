package dev.switchboard.chaos;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The run's options: the network and partition options, and what they refuse. */
class ChaosOptionsTest {
  @Test
  void nodesAreOnLoopbackUnlessNamespacesAreAsked() {
    ChaosOptions o = ChaosOptions.parse(new String[] {"--seed", "1"});
    assertEquals(ChaosOptions.LOOPBACK, o.net());
    assertEquals(30, o.cutS());
    assertEquals(12_000, o.longestFaultMs());
  }

  @Test
  void aPartitionMixInNamespacesParsesAndItsCutBoundsTheFaultThread() {
    ChaosOptions o = ChaosOptions.parse(new String[] {"--net", "netns", "--faults", "kill,term,stop,partition",
        "--cut", "30"});
    assertEquals(List.of("kill", "term", "stop", "partition"), o.faults());
    assertEquals(30_000, o.longestFaultMs());
    assertTrue(o.toString().contains("net=netns cut=30s"), o.toString());
  }

  @Test
  void aPartitionOnLoopbackIsRefusedWithWhatToAdd() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ChaosOptions.parse(new String[] {"--faults", "partition"}));
    assertTrue(e.getMessage().startsWith("the partition fault needs the nodes in network namespaces: add --net netns"),
        e.getMessage());
  }

  @Test
  void anUnknownNetworkIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> ChaosOptions.parse(new String[] {"--net", "docker"}));
  }

  @Test
  void theRollingRestartInTheTwoTierShapeCountsItsDataMembersAsSlotsAndBoundsTheFaultThreadByTheRoll() {
    ChaosOptions o = ChaosOptions.parse(new String[] {"--nodes", "3", "--data", "2", "--faults", "roll",
        "--max-faults", "1", "--drain-ms", "10000"});
    assertEquals(5, o.slots());
    assertEquals(1, o.maxFaults());
    // each of the 3 gateways: drain 10 s + grace 6 s + 12 s to exit (Faults.exitBoundMs), then up to the ready timeout
    assertEquals(3 * (28_000 + ChaosCluster.READY_TIMEOUT_MS), o.longestFaultMs());
    assertTrue(o.toString().contains("data=2 (the 3 nodes are gateways) drain=10000ms max-faults=1"), o.toString());
    ChaosOptions d = ChaosOptions.parse(new String[] {"--seed", "1"});
    assertEquals(3, d.slots());
    assertEquals(1000, d.drainMs());
    assertEquals(0, d.maxFaults());
  }
}
