package dev.switchboard.cluster;

import dev.switchboard.HazelcastSetup;
import dev.switchboard.Node;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.TestNode;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The probe confirms a node that belongs to the majority, in a one-member and a two-member cluster. */
@Cluster(nodes = 2, env = {
    // the shipped 2 s heartbeat: "at once" means well before Hazelcast's next judgement
    "SB_CLUSTER_CONFIG=" + TestNode.SHIPPED_CLUSTER_CONFIG})
class MajorityProbeTest {
  static Nodes nodes;

  @Test
  void aMemberOfTheMajorityIsConfirmedAtOnce() throws Exception {
    for (Node n : nodes.all()) {
      var hz = n.context().cluster().getHazelcastInstance();
      MajorityProbe probe = new MajorityProbe(n.context().vertx(), hz, HazelcastSetup.quorum(hz.getConfig()));
      long t0 = System.nanoTime();
      probe.confirm(n.context().vertx().getOrCreateContext()).await(20, TimeUnit.SECONDS);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertTrue(ms < 2000, "confirmed in " + ms + " ms");
    }
  }
}
