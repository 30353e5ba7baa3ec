package dev.switchboard;

import com.hazelcast.config.Config;
import dev.switchboard.config.SwitchboardConfig.ClusterOptions;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The parsed Hazelcast configuration (misspelled XML parses silently, so the result is checked). */
class HazelcastConfigTest {
  @Test
  void aMemberWithoutPortMeansTheClustersUsualPortsNotTheRangeAboveThisNode() {
    Config hz = HazelcastSetup.hazelcastConfig(new ClusterOptions("cluster.xml", "x", "127.0.0.1", 5702,
        List.of("127.0.0.1", "10.0.0.9:6000"), "127.0.0.1", 0, 1000));
    List<String> members = hz.getNetworkConfig().getJoin().getTcpIpConfig().getMembers();
    assertTrue(members.contains("127.0.0.1:5701"), "a second node on 5702 must try the first on 5701: " + members);
    assertTrue(members.contains("10.0.0.9:6000"));
    assertEquals(5702, hz.getNetworkConfig().getPort());
  }

  @Test
  void theShippedClusterXmlIsLoopbackTcpIpWithMulticastOffAndOurName() {
    Config hz = HazelcastSetup.hazelcastConfig(new ClusterOptions("cluster.xml", "sb-test-name", "127.0.0.1", 0,
        List.of(), "127.0.0.1", 0, 1000));
    assertEquals("sb-test-name", hz.getClusterName());
    assertFalse(hz.getNetworkConfig().getJoin().getMulticastConfig().isEnabled());
    assertTrue(hz.getNetworkConfig().getJoin().getTcpIpConfig().isEnabled());
    assertEquals("false", hz.getProperty("hazelcast.phone.home.enabled"));
  }

  @Test
  void historyRingsGetTheirNamespacesCapacityDespiteThePartitionKeyInTheirName() {
    Config hz = HazelcastSetup.hazelcastConfig(new ClusterOptions("cluster.xml", "x", "127.0.0.1", 0, List.of(), "127.0.0.1", 0, 1000));
    HazelcastSetup.historyConfig(hz, new dev.switchboard.topics.Namespaces(new io.vertx.core.json.JsonObject()
        .put("chat", new io.vertx.core.json.JsonObject().put("history_size", 1000).put("history_ttl_s", 600)
            .put("presence", true).put("join_leave", true))
        .put("default", new io.vertx.core.json.JsonObject().put("history_size", 100).put("history_ttl_s", 300)
            .put("presence", false).put("join_leave", false))));
    var chat = hz.findRingbufferConfig(dev.switchboard.cluster.Addresses.history("chat:room@1"));
    assertEquals(1000, chat.getCapacity());
    assertEquals(600, chat.getTimeToLiveSeconds());
    assertEquals(1, chat.getBackupCount());
    assertEquals(0, chat.getAsyncBackupCount());
    assertEquals(100, hz.findRingbufferConfig(dev.switchboard.cluster.Addresses.history("bench:x")).getCapacity());
  }
}
