package dev.switchboard.topics;

import com.fasterxml.jackson.databind.node.IntNode;
import com.hazelcast.core.HazelcastInstance;
import dev.switchboard.Node;
import dev.switchboard.bench.ClusterMemory;
import dev.switchboard.cluster.Addresses;
import dev.switchboard.testsupport.TestNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a topic costs the cluster, checked in Hazelcast's own structures on two real members (never by
 * timing): a subscribed topic without events has no history ring (Hazelcast would allocate its whole
 * capacity) and no ring proxy; its first publication creates it, at offset 1; a topic nobody uses any
 * more, once its history expired, is retired (ring and epoch entry gone), and a resume from its old
 * position is told of the new epoch; a subscribed topic is never retired. Two data members and a
 * gateway (lite member).
 */
class TopicMemoryTest {
  static List<Node> nodes;
  static Node gateway;
  static List<HazelcastInstance> members;

  @BeforeAll
  static void up() throws Exception {
    Path conf = Files.createTempFile("sb-topic-memory-test", ".json");
    conf.toFile().deleteOnExit();
    Files.writeString(conf, "{\"namespaces\":{\"mem\":{\"history_size\":1000,\"history_ttl_s\":1,"
        + "\"presence\":false,\"join_leave\":false}}}");
    List<Node> data = TestNode.cluster(2, Map.of("SB_CONF", conf.toString()));
    String seeds = String.join(",", data.stream().map(n -> "127.0.0.1:"
        + n.context().cluster().getHazelcastInstance().getCluster().getLocalMember().getAddress().getPort()).toList());
    // a gateway (lite member): it owns no copy of any ring, but holds proxies of those it used
    gateway = TestNode.start(Map.of("SB_CONF", conf.toString(), "SB_NODE_ROLE", "gateway", "SB_CLUSTER_MEMBERS", seeds));
    nodes = new java.util.ArrayList<>(data);
    nodes.add(gateway);
    members = nodes.stream().map(n -> n.context().cluster().getHazelcastInstance()).toList();
  }

  @AfterAll
  static void down() {
    if (nodes != null) {
      TestNode.stop(nodes.toArray(new Node[0]));
    }
  }

  @Test
  void subscribingAndReadingATopicWithoutEventsCreatesNoRing() throws Exception {
    String topic = "mem:idle-" + System.nanoTime();
    for (Node n : nodes) {
      TopicHub.Subscribed r = TestNode.await(n.context().topics().subscribe(quiet(n), topic, null, null, x -> { }));
      assertEquals(0, r.offset());
    }
    TopicHub.History h = TestNode.await(nodes.get(1).context().topics().history(topic, -1, 100));
    assertEquals(0, h.offset());
    assertEquals(0, h.events().size());
    assertEquals(0, ClusterMemory.ringCopies(members, topic), "no ring container on any member");
    assertEquals(0, proxies(topic), "no ring proxy on any member");
    String entry = epochEntry(topic);
    assertNotNull(entry, "the topic has its epoch entry");
    assertFalse(EpochEntry.mayHaveRing(entry), "the entry says no append was made: " + entry);

    TopicHub.Position p = TestNode.await(nodes.get(0).context().topics().publish(topic, IntNode.valueOf(1), null));
    assertEquals(1, p.offset());
    assertEquals(h.epoch(), p.epoch(), "the first append keeps the epoch the subscribers were given");
    assertEquals(2, ClusterMemory.ringCopies(members, topic), "the first append creates the ring, owner and backup");
    assertTrue(EpochEntry.mayHaveRing(epochEntry(topic)));
  }

  @Test
  void aTopicNobodyUsesIsRetiredOnceItsHistoryExpired() throws Exception {
    String topic = "mem:gone-" + System.nanoTime();
    Node a = nodes.get(0);
    IdleSubscriber s = quiet(a);
    TestNode.await(a.context().topics().subscribe(s, topic, null, null, x -> { }));
    TestNode.await(gateway.context().topics().publish(topic, IntNode.valueOf(1), null));
    TopicHub.Position last = TestNode.await(gateway.context().topics().publish(topic, IntNode.valueOf(2), null));
    assertEquals(3, proxies(topic), "a ring proxy on each member, the gateway's included");
    a.context().topics().unsubscribe(s, topic);
    long deadline = System.currentTimeMillis() + 20_000;
    while ((epochEntry(topic) != null || ClusterMemory.ringCopies(members, topic) > 0 || proxies(topic) > 0)
        && System.currentTimeMillis() < deadline) {
      for (Node n : nodes) {
        n.context().topics().sweepUnused().await(10, TimeUnit.SECONDS);
      }
      Thread.sleep(200);
    }
    assertNull(epochEntry(topic), "epoch entry retired");
    assertEquals(0, ClusterMemory.ringCopies(members, topic), "ring containers retired, owner and backup");
    assertEquals(0, proxies(topic), "ring proxies retired, the gateway's too");

    // a client resuming from what it saw is told of a new epoch (it reloads), and offsets start again
    Node b = nodes.get(1);
    TopicHub.Subscribed r = TestNode.await(b.context().topics().subscribe(quiet(b), topic, last.offset(),
        last.epoch(), x -> { }));
    assertFalse(r.recovered());
    assertNotEquals(last.epoch(), r.epoch());
    TopicHub.Position p = TestNode.await(a.context().topics().publish(topic, IntNode.valueOf(3), null));
    assertEquals(1, p.offset());
    assertEquals(r.epoch(), p.epoch(), "the new history's first append has the epoch its subscriber was given");
  }

  @Test
  void aSubscribedTopicIsNotRetired() throws Exception {
    String topic = "mem:kept-" + System.nanoTime();
    Node b = nodes.get(1);
    TopicHub.Subscribed r = TestNode.await(b.context().topics().subscribe(quiet(b), topic, null, null, x -> { }));
    Thread.sleep(1500); // past the namespace's 1 s history time-to-live: its entry is old enough to retire
    for (Node n : nodes) {
      n.context().topics().sweepUnused().await(10, TimeUnit.SECONDS);
    }
    String entry = epochEntry(topic);
    assertNotNull(entry, "still subscribed: the entry stays");
    assertEquals(r.epoch(), EpochEntry.epoch(entry));
  }

  private static String epochEntry(String topic) {
    return members.get(0).<com.hazelcast.partition.PartitionAwareKey<String, String>, String>getMap(Addresses.EPOCHS)
        .get(Addresses.epochKey(topic));
  }

  private static int proxies(String topic) {
    String name = Addresses.history(topic);
    int n = 0;
    for (HazelcastInstance hz : members) {
      for (com.hazelcast.core.DistributedObject o : hz.getDistributedObjects()) {
        if (o.getName().equals(name)) {
          n++;
        }
      }
    }
    return n;
  }

  private static IdleSubscriber quiet(Node n) {
    return new IdleSubscriber(n.context().vertx().getOrCreateContext(), "c-" + System.nanoTime());
  }
}
