package dev.switchboard.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.Tokens;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CBOR subprotocol (PROTOCOL.md section 1): binary frames both ways with the very same envelopes.
 * A client of its own here, because the shared one decodes text and binary alike and this test must
 * see which kind of frame the server sent.
 */
@Cluster
class CborTest {
  static final ObjectMapper CBOR = new ObjectMapper(new CBORFactory());
  static final ObjectMapper JSON = new ObjectMapper();
  static Nodes nodes;
  WebSocketClient client;

  /** A received frame: its kind and its decoded envelope. */
  record Received(boolean binary, JsonNode doc) {
  }

  @AfterEach
  void closeClient() throws Exception {
    if (client != null) {
      client.close().await(10, TimeUnit.SECONDS);
    }
  }

  private WebSocket connect(String subprotocol, LinkedBlockingQueue<Received> frames) throws Exception {
    client = nodes.vertx().createWebSocketClient();
    WebSocketConnectOptions o = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(nodes.port(0))
        .setURI("/ws?token=" + Tokens.user("alice")).setTimeout(10_000);
    if (subprotocol != null) {
      o.addSubProtocol(subprotocol);
    }
    // handlers are attached in the connect callback, on the event loop, so the connected frame is not missed
    WebSocket ws = client.connect(o).map(s -> {
      s.binaryMessageHandler(b -> frames.add(new Received(true, read(CBOR, b))));
      s.textMessageHandler(t -> frames.add(new Received(false, read(JSON, Buffer.buffer(t)))));
      return s;
    }).await(15, TimeUnit.SECONDS);
    return ws;
  }

  private static JsonNode read(ObjectMapper m, Buffer b) {
    try {
      return m.readTree(b.getBytes());
    } catch (Exception e) {
      return JSON.createObjectNode().put("type", "_undecodable");
    }
  }

  private static Received next(LinkedBlockingQueue<Received> frames) throws InterruptedException {
    Received r = frames.poll(10, TimeUnit.SECONDS);
    assertNotNull(r, "no frame within 10 s");
    return r;
  }

  private static Buffer cbor(ObjectNode env) throws Exception {
    return Buffer.buffer(CBOR.writeValueAsBytes(env));
  }

  @Test
  void cborSubprotocolGetsBinaryFramesWithTheSameEnvelopes() throws Exception {
    LinkedBlockingQueue<Received> frames = new LinkedBlockingQueue<>();
    WebSocket ws = connect(FrameCodec.CBOR_SUBPROTOCOL, frames);
    assertEquals(FrameCodec.CBOR_SUBPROTOCOL, ws.subProtocol());

    Received hello = next(frames);
    assertTrue(hello.binary(), "connected frame must be binary CBOR");
    assertEquals("connected", hello.doc().get("type").asText());
    assertEquals(1, hello.doc().get("protocol_version").asInt());
    assertEquals("alice", hello.doc().get("user_id").asText());

    ws.writeBinaryMessage(cbor(JSON.createObjectNode().put("id", 42).put("method", "system.ping")));
    Received ping = next(frames);
    assertTrue(ping.binary());
    assertEquals("result", ping.doc().get("type").asText(), ping.doc().toString());
    assertTrue(ping.doc().get("id").isIntegralNumber(), "integer id stays an integer");
    assertEquals(42, ping.doc().get("id").asInt());
    assertTrue(ping.doc().at("/result/ts").asLong() > 0);

    ws.writeBinaryMessage(cbor(JSON.createObjectNode().put("id", "s-1").put("method", "no.such")));
    Received unknown = next(frames);
    assertTrue(unknown.binary());
    assertEquals("s-1", unknown.doc().get("id").asText());
    assertEquals("UNKNOWN_METHOD", unknown.doc().at("/error/code").asText());
    assertFalse(unknown.doc().at("/error/retryable").asBoolean());
  }

  @Test
  void textFrameOnACborConnectionIsInvalidRequest() throws Exception {
    LinkedBlockingQueue<Received> frames = new LinkedBlockingQueue<>();
    WebSocket ws = connect(FrameCodec.CBOR_SUBPROTOCOL, frames);
    assertEquals("connected", next(frames).doc().get("type").asText());
    ws.writeTextMessage("{\"id\":1,\"method\":\"system.ping\"}");
    Received r = next(frames);
    assertTrue(r.binary(), "the error is CBOR too");
    assertEquals("error", r.doc().get("type").asText());
    assertEquals("INVALID_REQUEST", r.doc().at("/error/code").asText());
    // the connection stays usable
    ws.writeBinaryMessage(cbor(JSON.createObjectNode().put("id", 2).put("method", "system.ping")));
    Received ok = next(frames);
    assertEquals("result", ok.doc().get("type").asText());
    assertEquals(2, ok.doc().get("id").asInt());
    assertFalse(ws.isClosed());
  }

  @Test
  void invalidCborIsInvalidRequest() throws Exception {
    LinkedBlockingQueue<Received> frames = new LinkedBlockingQueue<>();
    WebSocket ws = connect(FrameCodec.CBOR_SUBPROTOCOL, frames);
    next(frames);
    ws.writeBinaryMessage(Buffer.buffer(new byte[] {(byte) 0xBF, 0x61})); // an unfinished map
    Received r = next(frames);
    assertTrue(r.binary());
    assertEquals("INVALID_REQUEST", r.doc().at("/error/code").asText());
  }

  @Test
  void noSubprotocolMeansJsonTextFrames() throws Exception {
    LinkedBlockingQueue<Received> frames = new LinkedBlockingQueue<>();
    WebSocket ws = connect(null, frames);
    Received hello = next(frames);
    assertFalse(hello.binary());
    assertEquals("connected", hello.doc().get("type").asText());
    ws.writeTextMessage("{\"id\":7,\"method\":\"system.ping\"}");
    Received ping = next(frames);
    assertFalse(ping.binary());
    assertEquals(7, ping.doc().get("id").asInt());
  }
}
