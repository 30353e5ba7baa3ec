package dev.switchboard.cluster;

import dev.switchboard.testsupport.ChildNode;
import dev.switchboard.testsupport.Follower;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static dev.switchboard.cluster.SplitChecks.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The defect of issue 11: three nodes, a service publishing over HTTP to every node, clients following
 * the topics through any node; one node is frozen (SIGSTOP) past the member timeout, then thawed. Before
 * the fix, the thawed node went on acknowledging publications under the same epochs as the majority
 * (forked positions) and acknowledged publications never reached the followers. Now the thawed node
 * refuses (UNAVAILABLE), reports not ready, hands its clients over ("minority", 1012) and merges back;
 * every acknowledged publication is in the history, once, and every follower saw every one of them
 * in order, no position carrying two publications.
 */
class FrozenNodeTest {
  static final List<String> TOPICS = List.of("chat:frozen-a", "chat:frozen-b", "chat:frozen-c", "chat:frozen-d");

  final List<ChildNode> nodes = new ArrayList<>();
  final List<Follower> followers = new ArrayList<>();
  final Vertx vertx = Vertx.vertx();
  final SplitChecks split = new SplitChecks(TOPICS);

  @AfterEach
  void down() throws InterruptedException {
    split.stopPublishing();
    followers.forEach(Follower::stop);
    nodes.forEach(n -> signal(n, "CONT"));
    nodes.forEach(ChildNode::close);
    vertx.close();
  }

  @Test
  void aFrozenNodeThawsAsAMinorityThatForksNothingAndLosesNoAcknowledgedPublication() throws Exception {
    nodes.addAll(ChildNode.cluster("fz", 3, Map.of(
        "SB_CLUSTER_MEMBER_TIMEOUT_S", "6",
        "SB_CLUSTER_MERGE_DELAY_S", "2",
        "SB_CLUSTER_HANDOVER_MS", "300",
        // the shipped heartbeat: how a freeze is detected is what this test is about
        "SB_CLUSTER_CONFIG", TestNode.SHIPPED_CLUSTER_CONFIG)));
    ChildNode frozen = nodes.get(2);
    List<InetSocketAddress> addresses = nodes.stream().map(n -> Follower.local(n.port)).toList();
    String token = Tokens.user("follower", "chat:*");
    for (int i = 0; i < 6; i++) {
      followers.add(new Follower("f" + i, vertx, token, TOPICS, addresses.get(i % 3), Follower.anyOf(addresses),
          Duration.ofSeconds(3)).start());
    }
    // stays on the frozen node through the freeze, to be handed over when it thaws as a minority
    Follower patient = new Follower("patient", vertx, token, TOPICS, addresses.get(2),
        Follower.anyOf(addresses.subList(0, 2)), Duration.ofSeconds(60)).start();
    followers.add(patient);

    split.startPublishing(addresses);
    awaitTrue(() -> followers.stream().allMatch(f -> f.seen.size() >= 20), 20_000, "followers receive events");

    signal(frozen, "STOP");
    // the fault itself: frozen past the 6 s member timeout, until the others have removed it
    long frozenAt = System.currentTimeMillis();
    java.util.concurrent.atomic.AtomicReference<java.util.Set<String>> listing = new java.util.concurrent.atomic.AtomicReference<>();
    try {
      awaitTrue(() -> {
        listing.set(MergedNodeTest.listed(addresses.get(0)));
        return java.util.Set.of("fz0", "fz1").equals(listing.get());
      }, 30_000, "the others remove the frozen node");
    } catch (AssertionError e) {
      // the cluster's own account of the freeze, so that a failure in CI says what happened
      throw new AssertionError(e.getMessage() + "; fz0 lists " + listing.get() + "; membership as logged:\n"
          + membershipLog("fz0", nodes.get(0)) + "\n" + membershipLog("fz1", nodes.get(1)), e);
    }
    System.out.println("frozen-node: the others removed the frozen node after "
        + (System.currentTimeMillis() - frozenAt) + " ms");
    List<Integer> readiness = split.watchReadiness(addresses.get(2));
    signal(frozen, "CONT");
    awaitTrue(() -> readiness.contains(503), 20_000, "the thawed node reports not ready");
    awaitTrue(() -> readiness.lastIndexOf(200) > readiness.indexOf(503), 60_000,
        "the thawed node merges back and reports ready: " + readiness);
    awaitTrue(() -> patient.reconnects.contains("minority"), 10_000, "the thawed node hands its clients over");
    int before = split.acked.size();
    awaitTrue(() -> split.acked.size() > before + 50, 20_000, "publications go on after the merge");
    split.stopPublishing();

    try {
      split.verify(addresses.get(0), followers);
    } catch (AssertionError e) {
      // an epoch change or a loss: what the nodes said about membership, merges and epochs
      throw new AssertionError(e.getMessage() + "; as logged:\n" + membershipLog("fz0", nodes.get(0)) + "\n"
          + membershipLog("fz1", nodes.get(1)) + "\n" + membershipLog("fz2", nodes.get(2)), e);
    }
    assertTrue(split.refused.get(addresses.get(2)).get() > 0, "the thawed node refused publications while cut off");
    System.out.println("frozen-node: acked " + split.acked.size() + ", refused " + split.refused + ", readiness "
        + readiness + ", events seen " + followers.stream().mapToInt(f -> f.seen.size()).sum());
  }

  /** The lines of a node's log about members joining, being suspected and leaving, merges and epochs (at most 20). */
  static String membershipLog(String name, ChildNode n) {
    return n.output().lines()
        .filter(l -> l.contains("joined;") || l.contains(" left") || l.contains("Suspecting") || l.contains("has left")
            || l.contains("astership") || l.contains("serving") || l.contains("epoch") || l.contains("merg"))
        .map(l -> l.length() > 200 ? l.substring(0, 200) : l)
        .limit(20)
        .collect(java.util.stream.Collectors.joining("\n", "[" + name + "]\n", ""));
  }

  static void signal(ChildNode n, String sig) {
    if (!n.process.isAlive()) {
      return;
    }
    try {
      new ProcessBuilder("kill", "-" + sig, Long.toString(n.process.pid())).inheritIO().start().waitFor();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
