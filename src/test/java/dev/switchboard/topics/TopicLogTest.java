package dev.switchboard.topics;

import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import io.vertx.core.Context;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Reads of a topic's history on a real member. */
@Cluster
class TopicLogTest {
  static Nodes nodes;

  @Test
  void aReadForMoreThanTheNamespaceKeepsReturnsWhatHistoryHolds() throws Exception {
    // `room:` falls in the default namespace, which keeps 100 events; a gap fill asks for 1,000. Hazelcast
    // refuses such a read outright, and the fill that asked used to stay "filling" for good: that
    // topic's node never filled a gap again.
    Context hub = ((io.vertx.core.internal.VertxInternal) nodes.node().context().vertx()).createWorkerContext();
    dev.switchboard.cluster.Quorum quorum = dev.switchboard.HazelcastSetup.quorum(nodes.node().context().cluster().getHazelcastInstance().getConfig());
    TopicLog log = new TopicLog(nodes.node().context().vertx(), nodes.node().context().cluster().getHazelcastInstance(), hub,
        new HashMap<>(), quorum, new dev.switchboard.cluster.MajorityProbe(nodes.node().context().vertx(),
        nodes.node().context().cluster().getHazelcastInstance(), quorum));
    String topic = "room:read-" + System.nanoTime();
    TopicHub.Position last = null;
    for (int k = 1; k <= 5; k++) {
      last = log.publish(topic, com.fasterxml.jackson.databind.node.IntNode.valueOf(k), null)
          .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    String epoch = last.epoch();
    List<TopicEvent> events = log.read(topic, epoch, 0, LiveFeed.READ_BATCH)
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(5, events.size());
    assertEquals(1, events.get(0).offset());
    assertEquals(5, events.get(4).offset());
    events.forEach(TopicEvent::release);
  }
}
