package dev.switchboard.cluster;

import dev.switchboard.Node;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A device registration the cluster lost (as when a frozen owner answered it from a copy the merge
 * then discarded: chaos seed 14) is written back by the node holding the connection after the next
 * membership change.
 */
@Cluster(nodes = 2, started = 1)
class DeviceReassertTest {
  static Nodes nodes;

  @Test
  void aLostRegistrationOfALiveConnectionIsWrittenBackAfterAMembershipChange() {
    Node a = nodes.node(0);
    Vertx vertx = nodes.vertx();
    try (WsClient live = WsClient.open(vertx, a.port(), "/ws?token=" + Tokens.user("dora") + "&device_id=tablet",
        Map.of(), null).ok()) {
      Directory directory = a.context().directory();
      assertEquals(List.of("tablet"), devices(directory, "dora"));
      var map = a.context().cluster().getHazelcastInstance().<String, String>getMap(Addresses.DEVICES);
      map.remove("dora"); // what the merge discarded
      assertEquals(List.of(), devices(directory, "dora"));
      // a member joins: the membership change
      nodes.startNext();
      long deadline = System.currentTimeMillis() + 20_000;
      while (devices(directory, "dora").isEmpty()) {
        assertTrue(System.currentTimeMillis() < deadline, "the device is written back within 20 s");
        TestNode.await(io.vertx.core.Future.future(p -> vertx.setTimer(100, t -> p.complete())));
      }
      assertEquals(List.of("tablet"), devices(directory, "dora"));
    }
  }

  private static List<String> devices(Directory d, String user) {
    return TestNode.await(d.devicesOf(user)).stream().map(Directory.Device::device).toList();
  }
}
