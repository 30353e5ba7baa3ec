package dev.switchboard.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.instance.impl.HazelcastInstanceProxy;
import com.hazelcast.internal.partition.InternalPartition;
import com.hazelcast.internal.partition.PartitionReplica;
import dev.switchboard.Node;
import dev.switchboard.testsupport.ChildNode;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A double failure: both members holding a topic's history (its partition's owner and its one
 * backup, separate JVMs) are SIGKILLed at once. The history and its epoch entry are lost together;
 * the surviving node gives the topic a new epoch, offsets start again at 1, its live subscriber
 * follows the new epoch, and {@code since} the old epoch is answered {@code recovered:false}.
 */
class HistoryLossTest {
  /**
   * Two of three (or four) members die at once: under the default majority rule the survivors would
   * stop serving (docs/protocol.md, "Partitions"). A loss of both copies keeps a majority only in
   * bigger clusters (two of five); these tests turn the rule off instead (at least one member).
   */
  static final Map<String, String> NO_MAJORITY_RULE = Map.of("SB_CLUSTER_QUORUM", "1");
  static Node survivor;
  static Vertx vertx;

  @BeforeAll
  static void up() {
    survivor = TestNode.start(NO_MAJORITY_RULE);
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void down() {
    TestNode.stop(survivor);
    vertx.close();
  }

  private static HazelcastInstance hz() {
    return survivor.context().cluster().getHazelcastInstance();
  }

  /**
   * True when none of the given nodes holds a copy of the topic's history partition: each is neither
   * the owner (replica 0) nor the one backup (replica 1). The partition table lists further
   * replicas, which hold no data with one backup configured.
   */
  private static boolean heldElsewhere(String topic, Node... nodes) {
    HazelcastInstance hz = hz();
    int pid = hz.getPartitionService().getPartition(Addresses.partitionKey(topic)).getPartitionId();
    InternalPartition p = ((HazelcastInstanceProxy) hz).getOriginal().node.getPartitionService().getPartition(pid);
    if (p.getReplica(0) == null || p.getReplica(1) == null) {
      return false;
    }
    for (Node n : nodes) {
      int at = p.getReplicaIndex(PartitionReplica.from(
          n.context().cluster().getHazelcastInstance().getCluster().getLocalMember()));
      if (at == 0 || at == 1) {
        return false;
      }
    }
    return true;
  }

  private static boolean heldElsewhere(String topic) {
    return heldElsewhere(topic, survivor);
  }

  /** A fresh topic name whose history lives only on members other than {@code nodes}. */
  private static String topicHeldElsewhere(String prefix, Node... nodes) {
    for (int i = 0; i < 1000; i++) {
      String candidate = prefix + i + "-" + System.nanoTime();
      if (heldElsewhere(candidate, nodes)) {
        return candidate;
      }
    }
    throw new AssertionError("no topic whose history lives only on the members to be killed");
  }

  private static JsonNode event(WsClient c, String topic, Duration limit) {
    return c.await(f -> "event".equals(f.path("type").asText()) && topic.equals(f.path("topic").asText()), limit);
  }

  private static void eventually(String what, java.util.function.BooleanSupplier ok, Duration limit) {
    long deadline = System.nanoTime() + limit.toNanos();
    while (!ok.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + limit + ": " + what);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  @Test
  void losingEveryCopyOfAHistoryStartsANewEpochThatSubscribersFollow() throws Exception {
    String members = "127.0.0.1:" + survivor.context().config().cluster().port();
    try (ChildNode a = ChildNode.start("lossA", members, NO_MAJORITY_RULE);
         ChildNode b = ChildNode.start("lossB", members, NO_MAJORITY_RULE);
         WsClient sub = WsClient.connect(vertx, survivor.port(), Tokens.user("loss-sub", "chat:*"));
         WsClient pub = WsClient.connect(vertx, survivor.port(), Tokens.user("loss-pub", "chat:*"))) {
      eventually("3 members with their partitions in place", () -> hz().getCluster().getMembers().size() == 3
          && hz().getPartitionService().isClusterSafe(), Duration.ofSeconds(60));
      String topic = null;
      for (int i = 0; i < 1000 && topic == null; i++) {
        String candidate = "chat:loss-" + i + "-" + System.nanoTime();
        if (heldElsewhere(candidate)) {
          topic = candidate;
        }
      }
      assertTrue(topic != null, "a topic whose history lives only on the two other members");
      final String t = topic;

      JsonNode subscribed = sub.call("topic.subscribe", WsClient.params().put("topic", t)).get("result");
      String oldEpoch = subscribed.get("epoch").asText();
      for (int k = 1; k <= 3; k++) {
        JsonNode r = pub.call("topic.publish", WsClient.params().put("topic", t).put("data", k)).get("result");
        assertEquals(k, r.get("offset").asLong());
        assertEquals(oldEpoch, r.get("epoch").asText());
      }
      for (int k = 1; k <= 3; k++) {
        assertEquals(k, sub.await(f -> "event".equals(f.path("type").asText()), WsClient.WAIT).get("offset").asLong());
      }
      assertTrue(heldElsewhere(t), "the history partition did not move to the survivor meanwhile");

      // both copies at once: one kill(1) for the two JVMs
      Process kill = new ProcessBuilder("kill", "-9", String.valueOf(a.process.pid()), String.valueOf(b.process.pid()))
          .inheritIO().start();
      assertTrue(kill.waitFor(10, java.util.concurrent.TimeUnit.SECONDS));
      eventually("the survivor alone", () -> hz().getCluster().getMembers().size() == 1, Duration.ofSeconds(60));

      JsonNode after = pub.call("topic.publish", WsClient.params().put("topic", t).put("data", 4)).get("result");
      String newEpoch = after.get("epoch").asText();
      assertEquals(1, after.get("offset").asLong(), "offsets start again with the new history");
      assertNotEquals(oldEpoch, newEpoch, "a lost history gets a new epoch");

      JsonNode event = sub.await(f -> "event".equals(f.path("type").asText()), Duration.ofSeconds(15));
      assertEquals(newEpoch, event.get("epoch").asText(), "the live subscriber follows the new epoch");
      assertEquals(1, event.get("offset").asLong());
      assertEquals(4, event.get("data").asInt());

      // a client that was at offset 3 of the old epoch is told it cannot be recovered
      try (WsClient late = WsClient.connect(vertx, survivor.port(), Tokens.user("loss-late", "chat:*"))) {
        JsonNode r = late.call("topic.subscribe", WsClient.params().put("topic", t)
            .set("since", WsClient.params().put("offset", 3).put("epoch", oldEpoch))).get("result");
        assertFalse(r.get("recovered").asBoolean(), r.toString());
        assertEquals(newEpoch, r.get("epoch").asText());
        assertEquals(1, r.get("offset").asLong());
      }
    }
  }

  /**
   * The node that publishes first after the loss never appended to the topic: it only has
   * subscribers there (it delivered offsets 1..3 of the old epoch). Its append gets offset 1 of the
   * new history; that offset is not above what it delivered, so the history was lost: the
   * publication gets a new epoch, and the subscribers on both nodes follow it. A node that last saw
   * another topic in its old epoch (it published there, never subscribed) answers {@code since}
   * that epoch with the epoch the cluster holds now, not the one it remembers.
   */
  @Test
  void aNodeThatOnlyDeliveredTheTopicNoticesTheLossWhenItPublishesNext() throws Exception {
    String members = "127.0.0.1:" + survivor.context().config().cluster().port();
    int bPort = TestNode.freePort();
    Node nodeB = TestNode.start(Map.of("SB_CLUSTER_QUORUM", "1", "SB_CLUSTER_PORT", String.valueOf(bPort),
        "SB_CLUSTER_MEMBERS", members + ",127.0.0.1:" + bPort, "SB_NODE_ID", "lossNodeB"));
    try (ChildNode c = ChildNode.start("lossC", members, NO_MAJORITY_RULE);
         ChildNode d = ChildNode.start("lossD", members, NO_MAJORITY_RULE);
         WsClient subA = WsClient.connect(vertx, survivor.port(), Tokens.user("loss2-sub-a", "chat:*"));
         WsClient subB = WsClient.connect(vertx, nodeB.port(), Tokens.user("loss2-sub-b", "chat:*"));
         WsClient pubA = WsClient.connect(vertx, survivor.port(), Tokens.user("loss2-pub-a", "chat:*"));
         WsClient pubB = WsClient.connect(vertx, nodeB.port(), Tokens.user("loss2-pub-b", "chat:*"))) {
      HazelcastInstance hzB = nodeB.context().cluster().getHazelcastInstance();
      eventually("4 members with their partitions in place", () -> hz().getCluster().getMembers().size() == 4
          && hzB.getCluster().getMembers().size() == 4 && hz().getPartitionService().isClusterSafe(),
          Duration.ofSeconds(60));
      String t = topicHeldElsewhere("chat:loss2-", survivor, nodeB);
      String other = topicHeldElsewhere("chat:loss2o-", survivor, nodeB);
      String third = topicHeldElsewhere("chat:loss2t-", survivor, nodeB);

      String oldEpoch = subB.call("topic.subscribe", WsClient.params().put("topic", t)).get("result").get("epoch").asText();
      assertEquals(oldEpoch, subA.call("topic.subscribe", WsClient.params().put("topic", t)).get("result").get("epoch").asText());
      for (int k = 1; k <= 3; k++) {
        JsonNode r = pubA.call("topic.publish", WsClient.params().put("topic", t).put("data", k)).get("result");
        assertEquals(k, r.get("offset").asLong());
        assertEquals(oldEpoch, r.get("epoch").asText());
      }
      for (int k = 1; k <= 3; k++) {
        assertEquals(k, event(subB, t, WsClient.WAIT).get("offset").asLong());
        assertEquals(k, event(subA, t, WsClient.WAIT).get("offset").asLong());
      }
      // the other topic: node A publishes there (and so remembers its epoch), nobody subscribes
      String otherOld = null;
      for (int k = 1; k <= 3; k++) {
        JsonNode r = pubA.call("topic.publish", WsClient.params().put("topic", other).put("data", k)).get("result");
        assertEquals(k, r.get("offset").asLong());
        otherOld = r.get("epoch").asText();
      }
      // a third topic node A publishes to, nobody subscribes: A caches its epoch and offset 3
      for (int k = 1; k <= 3; k++) {
        assertEquals(k, pubA.call("topic.publish", WsClient.params().put("topic", third).put("data", k))
            .get("result").get("offset").asLong());
      }
      assertTrue(heldElsewhere(t, survivor, nodeB) && heldElsewhere(other, survivor, nodeB)
              && heldElsewhere(third, survivor, nodeB),
          "the history partitions did not move to the survivors meanwhile");

      // both copies at once: one kill(1) for the two JVMs
      Process kill = new ProcessBuilder("kill", "-9", String.valueOf(c.process.pid()), String.valueOf(d.process.pid()))
          .inheritIO().start();
      assertTrue(kill.waitFor(10, java.util.concurrent.TimeUnit.SECONDS));
      eventually("the two survivors alone", () -> hz().getCluster().getMembers().size() == 2
          && hzB.getCluster().getMembers().size() == 2, Duration.ofSeconds(60));

      JsonNode after = pubB.call("topic.publish", WsClient.params().put("topic", t).put("data", 4)).get("result");
      String newEpoch = after.get("epoch").asText();
      assertEquals(1, after.get("offset").asLong(), "offsets start again with the new history");
      assertNotEquals(oldEpoch, newEpoch, "the publication is answered with the new epoch");

      for (WsClient sub : new WsClient[] {subB, subA}) {
        JsonNode event = event(sub, t, Duration.ofSeconds(15));
        assertEquals(newEpoch, event.get("epoch").asText(), "the subscriber follows the new epoch");
        assertEquals(1, event.get("offset").asLong());
        assertEquals(4, event.get("data").asInt());
      }

      // node A remembers the other topic's old epoch; node B starts its new history
      JsonNode otherAfter = pubB.call("topic.publish", WsClient.params().put("topic", other).put("data", 4)).get("result");
      assertEquals(1, otherAfter.get("offset").asLong());
      String otherNew = otherAfter.get("epoch").asText();
      assertNotEquals(otherOld, otherNew);
      try (WsClient late = WsClient.connect(vertx, survivor.port(), Tokens.user("loss2-late", "chat:*"))) {
        JsonNode r = late.call("topic.subscribe", WsClient.params().put("topic", other)
            .set("since", WsClient.params().put("offset", 1).put("epoch", otherOld))).get("result");
        assertFalse(r.get("recovered").asBoolean(), "offset 1 of the old epoch is not offset 1 of the new: " + r);
        assertEquals(otherNew, r.get("epoch").asText());
        assertEquals(1, r.get("offset").asLong());
      }

      // The third topic's new history grows past what node A knows of it (offset 3) before A
      // publishes again: A cannot tell, and labels its event with the epoch it cached. The
      // subscriber on B still gets it, from history, under the topic's epoch.
      String thirdNew = subB.call("topic.subscribe", WsClient.params().put("topic", third)).get("result")
          .get("epoch").asText();
      for (int k = 1; k <= 3; k++) {
        JsonNode r = pubB.call("topic.publish", WsClient.params().put("topic", third).put("data", k)).get("result");
        assertEquals(k, r.get("offset").asLong());
        assertEquals(thirdNew, r.get("epoch").asText());
      }
      for (int k = 1; k <= 3; k++) {
        assertEquals(k, event(subB, third, WsClient.WAIT).get("offset").asLong());
      }
      Thread.sleep(1500); // past the catch-up reads B's open scheduled (100 ms, 1 s): they would find it too
      JsonNode fromA = pubA.call("topic.publish", WsClient.params().put("topic", third).put("data", 99)).get("result");
      assertEquals(4, fromA.get("offset").asLong());
      JsonNode fourth = event(subB, third, Duration.ofSeconds(15));
      assertEquals(4, fourth.get("offset").asLong());
      assertEquals(99, fourth.get("data").asInt());
      assertEquals(thirdNew, fourth.get("epoch").asText());
    } finally {
      TestNode.stop(nodeB);
    }
  }
}
