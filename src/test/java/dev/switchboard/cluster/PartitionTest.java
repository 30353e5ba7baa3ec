package dev.switchboard.cluster;

import dev.switchboard.testsupport.ChildNode;
import dev.switchboard.testsupport.Follower;
import dev.switchboard.testsupport.Netns;
import dev.switchboard.testsupport.Tokens;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.switchboard.cluster.SplitChecks.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A network partition, with the shipped timings: three nodes, each in its own network namespace
 * (hosts on a bridge, see Netns); one is cut off from the other two for 30 s (its clients can still
 * reach it, as through a load balancer), then the network heals. The cut-off node stops acknowledging
 * publications within half the member timeout, reports not ready and hands its clients to the
 * majority once it sees itself a minority, and merges back after the heal; no acknowledged
 * publication is lost, no position forked, every follower saw every event in order. Skipped where
 * network namespaces cannot be made (not root).
 */
class PartitionTest {
  static final List<String> TOPICS = List.of("chat:cut-a", "chat:cut-b", "chat:cut-c", "chat:cut-d");
  static final int PORT = 8080;

  final List<ChildNode> nodes = new ArrayList<>();
  final List<Follower> followers = new ArrayList<>();
  final Vertx vertx = Vertx.vertx();
  final SplitChecks split = new SplitChecks(TOPICS);
  Netns net;

  @AfterEach
  void down() throws InterruptedException {
    split.stopPublishing();
    followers.forEach(Follower::stop);
    nodes.forEach(ChildNode::close);
    vertx.close();
    if (net != null) {
      net.close();
    }
  }

  @Test
  void aNodeCutOffForThirtySecondsServesNothingApartAndMergesBackWithoutLossOrFork() throws Exception {
    String why = Netns.available();
    Assumptions.assumeTrue(why == null, "skipped: " + why);
    net = Netns.create(3);
    String members = String.join(",", List.of(net.host(0) + ":5701", net.host(1) + ":5701", net.host(2) + ":5701"));
    for (int i = 0; i < 3; i++) {
      nodes.add(ChildNode.start(net.exec(i), net.host(i), PORT, "cut" + i, Map.of(
          "SB_CLUSTER_HOST", net.host(i),
          "SB_CLUSTER_BUS_HOST", net.host(i),
          "SB_CLUSTER_PORT", "5701",
          "SB_CLUSTER_MEMBERS", members)));
    }
    List<InetSocketAddress> addresses = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      addresses.add(InetSocketAddress.createUnresolved(net.host(i), PORT));
    }
    String token = Tokens.user("follower", "chat:*");
    for (int i = 0; i < 6; i++) {
      followers.add(new Follower("f" + i, vertx, token, TOPICS, addresses.get(i % 3), Follower.anyOf(addresses),
          Duration.ofSeconds(3)).start());
    }
    // stays on the cut-off node (still reachable from here) until it is handed over
    Follower patient = new Follower("patient", vertx, token, TOPICS, addresses.get(2),
        Follower.anyOf(addresses.subList(0, 2)), Duration.ofSeconds(120)).start();
    followers.add(patient);

    split.startPublishing(addresses);
    awaitTrue(() -> followers.stream().allMatch(f -> f.seen.size() >= 20), 30_000, "followers receive events");
    List<Integer> readiness = split.watchReadiness(addresses.get(2));
    long cutAt = System.currentTimeMillis();
    net.cut(2);
    awaitTrue(() -> readiness.contains(503), 30_000, "the cut-off node reports not ready");
    long notReadyAfter = System.currentTimeMillis() - cutAt;
    awaitTrue(() -> patient.reconnects.contains("minority"), 10_000, "the cut-off node hands its clients over");
    Thread.sleep(Math.max(0, 30_000 - (System.currentTimeMillis() - cutAt))); // the fault itself: 30 s apart
    int refusedWhileCut = split.refused.get(addresses.get(2)).get();
    long healAt = System.currentTimeMillis();
    net.heal(2);
    awaitTrue(() -> readiness.lastIndexOf(200) > readiness.indexOf(503), 60_000,
        "the sides merge and the node reports ready again: " + readiness);
    long mergedAfter = System.currentTimeMillis() - healAt;
    int before = split.acked.size();
    awaitTrue(() -> split.acked.size() > before + 50, 20_000, "publications go on after the merge");
    split.stopPublishing();

    split.verify(addresses.get(0), followers);
    assertTrue(refusedWhileCut > 0, "the cut-off node refused publications");
    System.out.println("partition: acked " + split.acked.size() + ", refused " + split.refused + ", not ready "
        + notReadyAfter + " ms after the cut, ready " + mergedAfter + " ms after the heal, events seen "
        + followers.stream().mapToInt(f -> f.seen.size()).sum());
  }
}
