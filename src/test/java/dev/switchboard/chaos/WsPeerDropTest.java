package dev.switchboard.chaos;

import dev.switchboard.Node;
import dev.switchboard.testsupport.StoredSessions;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The harness's drop ({@link WsPeer#drop}, what the soak's clients do when they lose the network)
 * reaches the node as a drop, not as a clean end: the session stays and resumes. A plain
 * {@code channel.close()} would not do: Netty's WebSocket handler sends a 1000 close frame first,
 * and the node ends the session (the soak's first trial resumed nothing because of it).
 */
class WsPeerDropTest {
  static Node node;
  static Vertx vertx;
  static WebSocketClient client;

  @BeforeAll
  static void up() {
    node = TestNode.start();
    vertx = Vertx.vertx();
    client = vertx.createWebSocketClient();
  }

  @AfterAll
  static void down() {
    TestNode.stop(node);
    vertx.close();
  }

  private record Conn(ClientWebSocket ws, BlockingQueue<String> frames, JsonObject connected) {
    JsonObject next() throws InterruptedException {
      String f = frames.poll(10, TimeUnit.SECONDS);
      assertNotNull(f, "no frame within 10 s");
      return new JsonObject(f);
    }
  }

  private static Conn connect(String session) throws Exception {
    String token = Tokens.hs256(Tokens.claims("dropper", 600).put("subs", new JsonArray().add("chat:*")));
    BlockingQueue<String> frames = new LinkedBlockingQueue<>();
    ClientWebSocket ws = client.webSocket();
    ws.textMessageHandler(frames::add);
    ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(node.port())
            .setURI("/ws?token=" + token + "&device_id=d" + (session == null ? "" : "&session_id=" + session)))
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    String hello = frames.poll(10, TimeUnit.SECONDS);
    assertNotNull(hello, "no connected frame");
    return new Conn(ws, frames, new JsonObject(hello));
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aDroppedConnectionKeepsItsSessionAndResumes(boolean reset) throws Exception {
    Conn first = connect(null);
    String session = first.connected().getString("session_id");
    first.ws().writeTextMessage("{\"id\":1,\"method\":\"topic.subscribe\",\"params\":{\"topic\":\"chat:drop\"}}");
    assertEquals("result", first.next().getString("type"));
    StoredSessions.await(node, session, s -> s != null && s.getJsonObject("topics", new JsonObject())
        .containsKey("chat:drop"));

    WsPeer.drop(first.ws(), reset);
    // the node sees the TCP connection go; the session is kept (never a tombstone)
    long deadline = System.currentTimeMillis() + 10_000;
    while (node.context().local().size() > 0 && System.currentTimeMillis() < deadline) {
      Thread.sleep(20);
    }
    assertEquals(0, node.context().local().size(), "the node still holds the connection");
    JsonObject stored = StoredSessions.get(node, session);
    assertFalse(stored.getBoolean("ended", false), "a drop ended the session: " + stored);

    Conn again = connect(session);
    assertTrue(again.connected().getBoolean("resumed"), again.connected().encode());
    assertEquals(session, again.connected().getString("session_id"));
    again.ws().close((short) 1000).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
