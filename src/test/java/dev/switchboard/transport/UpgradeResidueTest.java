package dev.switchboard.transport;

import dev.switchboard.routing.Client;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.internal.http.WebSocketInternal;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An open connection keeps neither the upgrade request (with its token) nor Vert.x's handshake objects. */
@Cluster
class UpgradeResidueTest {
  static Nodes nodes;


  @Test
  void anOpenConnectionKeepsNeitherTheTokenNorTheUpgradeRequestAndStillWorks() throws Exception {
    String token = Tokens.user("ria", "chat:*");
    try (WsClient c = nodes.open(0, "/ws?token=" + token, Map.of(), null).ok()) {
      Connection conn = null;
      for (Client client : nodes.node().context().local().all()) {
        conn = (Connection) client;
      }
      assertTrue(conn != null, "the connection is registered");
      var ws = conn.socket();
      assertEquals("/ws", ws.uri());
      assertNull(ws.query());
      assertTrue(ws.headers().isEmpty());
      Object handler = ((WebSocketInternal) ws).channelHandlerContext().handler();
      Field factory = Class.forName("io.vertx.core.net.impl.VertxHandler").getDeclaredField("connectionFactory");
      factory.setAccessible(true);
      assertNull(factory.get(handler), "the handshake's connection factory (and what it captured) is let go");
      assertFalse(ws.isClosed());
      // and the connection still carries requests and events both ways
      assertEquals("result", c.call("system.ping", WsClient.params()).get("type").asText());
      assertEquals("result", c.call("topic.subscribe", WsClient.params().put("topic", "chat:residue")).get("type").asText());
    }
  }
}
