package dev.switchboard.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Http;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.json.JsonArray;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Found by DecoderProperties: a string holding an unpaired surrogate (a JSON {@code \ud800} escape,
 * or a CBOR text string carrying an encoded surrogate) was accepted, and the node then could not
 * write it as CBOR: the echo of such an id, or a publication with such data, failed to encode for
 * CBOR clients. Such a string is INVALID_REQUEST at every door; the connection stays and other
 * clients keep getting their events.
 */
@Cluster
class UnpairedSurrogateTest {
  static Nodes nodes;

  /** CBOR {@code {"id": "x\uDC6A", "method": "system.ping"}} with the surrogate encoded as three bytes (CESU-8). */
  static byte[] cborEnvelopeWithEncodedSurrogate() {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(0xa2);
    b.write(0x62);
    b.writeBytes("id".getBytes(StandardCharsets.US_ASCII));
    b.write(0x64);
    b.write('x');
    b.writeBytes(new byte[] {(byte) 0xED, (byte) 0xB1, (byte) 0xAA});
    b.write(0x66);
    b.writeBytes("method".getBytes(StandardCharsets.US_ASCII));
    b.write(0x6b);
    b.writeBytes("system.ping".getBytes(StandardCharsets.US_ASCII));
    return b.toByteArray();
  }

  @Test
  void aCborIdWithAnEncodedSurrogateIsInvalidRequestAndTheConnectionStays() {
    try (WsClient c = nodes.open(0, "/ws?token=" + Tokens.user("u1"), Map.of(),
        FrameCodec.CBOR_SUBPROTOCOL).ok()) {
      c.sendBinary(cborEnvelopeWithEncodedSurrogate());
      JsonNode r = c.await(WsClient::isTerminal, WsClient.WAIT);
      assertEquals("INVALID_REQUEST", r.at("/error/code").asText(), r.toString());
      assertFalse(r.has("id"), r.toString());
      assertEquals("result", c.call("system.ping", null).get("type").asText());
    }
  }

  @Test
  void aJsonEscapedLoneSurrogateIsInvalidRequestWhereverItIs() {
    try (WsClient c = nodes.client(0, "u2", "chat:*")) {
      for (String raw : new String[] {
          "{\"id\":\"a\\ud800\",\"method\":\"system.ping\"}",
          "{\"id\":7,\"method\":\"topic.publish\",\"params\":{\"topic\":\"chat:s\",\"data\":{\"k\":\"\\udc00\"}}}",
          "{\"id\":8,\"method\":\"topic.publish\",\"params\":{\"topic\":\"chat:s\",\"data\":{\"\\ud83d\":1}}}",
          "{\"id\":9,\"method\":\"system.ping\",\"params\":{},\"x\":[\"\\udc00\\ud800\"]}"}) {
        c.send(raw);
        JsonNode r = c.await(WsClient::isTerminal, WsClient.WAIT);
        assertEquals("INVALID_REQUEST", r.at("/error/code").asText(), raw + " -> " + r);
      }
      // a pair written as two escapes is one character, and fine
      c.send("{\"id\":\"\\ud83d\\ude00\",\"method\":\"system.ping\"}");
      JsonNode ok = c.await(WsClient::isTerminal, WsClient.WAIT);
      assertEquals("\ud83d\ude00", ok.get("id").asText(), ok.toString());
    }
  }

  @Test
  void aCborSubscriberKeepsGettingEventsAfterAPublisherTriedALoneSurrogate() {
    try (WsClient sub = nodes.open(0, "/ws?token=" + Tokens.user("u3", "chat:*"), Map.of(),
        FrameCodec.CBOR_SUBPROTOCOL).ok();
         WsClient pub = nodes.client(0, "u4", "chat:*")) {
      assertEquals("result", sub.call("topic.subscribe", WsClient.params().put("topic", "chat:cbor")).get("type").asText());
      pub.send("{\"id\":1,\"method\":\"topic.publish\",\"params\":{\"topic\":\"chat:cbor\",\"data\":\"\\ud800\"}}");
      JsonNode refused = pub.await(WsClient::isTerminal, WsClient.WAIT);
      assertEquals("INVALID_REQUEST", refused.at("/error/code").asText(), refused.toString());
      JsonNode ok = pub.call("topic.publish", WsClient.params().put("topic", "chat:cbor").put("data", "fine"));
      assertEquals("result", ok.get("type").asText(), ok.toString());
      JsonNode event = sub.await(f -> "event".equals(f.path("type").asText()), WsClient.WAIT);
      assertEquals("fine", event.get("data").asText(), event.toString());
    }
  }

  @Test
  void theHttpApiRefusesALoneSurrogateWith400() {
    String token = Tokens.hs256(Tokens.claims("svc", 600).put("roles", new JsonArray().add("service")));
    var r = Http.post(nodes.port(0), "/api/v1/publish", "{\"topic\":\"chat:http\",\"data\":\"\\udfff\"}",
        "Authorization", "Bearer " + token, "Content-Type", "application/json");
    assertEquals(400, r.statusCode(), r.body());
  }
}
