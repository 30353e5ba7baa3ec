package dev.switchboard.routing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.WsClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Envelope rules of PROTOCOL.md section 2: ids echoed exactly, generated when absent, bad ones not echoed. */
@Cluster
class EnvelopeTest {
  static Nodes nodes;
  WsClient c;

  @BeforeEach
  void connect() {
    c = nodes.client(0, "alice", "chat:*");
  }

  @AfterEach
  void disconnect() {
    c.close();
  }

  private JsonNode reply(String raw) {
    c.send(raw);
    return c.await(WsClient::isTerminal, WsClient.WAIT);
  }

  @Test
  void stringIdIsEchoedExactly() {
    JsonNode r = reply("{\"id\":\"abc-1\",\"method\":\"system.ping\"}");
    assertEquals("result", r.get("type").asText());
    assertTrue(r.get("id").isTextual());
    assertEquals("abc-1", r.get("id").asText());
  }

  @Test
  void integerIdStaysAnInteger() {
    JsonNode r = reply("{\"id\":9007199254740993,\"method\":\"system.ping\"}");
    assertTrue(r.get("id").isIntegralNumber());
    assertEquals(9007199254740993L, r.get("id").longValue());
  }

  @Test
  void missingIdIsGeneratedByTheServer() {
    JsonNode r = reply("{\"method\":\"system.ping\"}");
    assertEquals("result", r.get("type").asText());
    assertTrue(r.hasNonNull("id"));
  }

  @Test
  void badIdsAreInvalidRequestWithoutEcho() {
    String longId = "x".repeat(65);
    for (String id : new String[] {"\"" + longId + "\"", "{}", "1.5", "true", "null", "[1]"}) {
      JsonNode r = reply("{\"id\":" + id + ",\"method\":\"system.ping\"}");
      assertEquals("INVALID_REQUEST", r.at("/error/code").asText(), id);
      assertFalse(r.has("id"), "id must not be echoed: " + id);
    }
  }

  @Test
  void idOfSixtyFourCharactersIsAccepted() {
    String id = "y".repeat(64);
    JsonNode r = reply("{\"id\":\"" + id + "\",\"method\":\"system.ping\"}");
    assertEquals("result", r.get("type").asText());
    assertEquals(id, r.get("id").asText());
  }

  @Test
  void numbersJacksonCannotRepresentAreInvalidRequestNotSilence() {
    // Jackson throws NumberFormatException (not a parse error) for an exponent of this size
    for (String doc : new String[] {"1e9999999999999999999999999999", "{\"id\":1,\"method\":\"system.ping\",\"params\":{\"x\":1e9999999999999999999999999999}}"}) {
      assertEquals("INVALID_REQUEST", reply(doc).at("/error/code").asText(), doc);
    }
  }

  @Test
  void notJsonNotObjectAndNoMethodAreInvalidRequest() {
    assertEquals("INVALID_REQUEST", reply("not json").at("/error/code").asText());
    assertEquals("INVALID_REQUEST", reply("[1,2]").at("/error/code").asText());
    assertEquals("INVALID_REQUEST", reply("\"str\"").at("/error/code").asText());
    JsonNode noMethod = reply("{\"id\":7}");
    assertEquals("INVALID_REQUEST", noMethod.at("/error/code").asText());
    assertEquals(7, noMethod.get("id").asInt());
    JsonNode numericMethod = reply("{\"id\":8,\"method\":5}");
    assertEquals("INVALID_REQUEST", numericMethod.at("/error/code").asText());
    assertEquals(8, numericMethod.get("id").asInt());
  }

  @Test
  void paramsThatAreNotAnObjectAreInvalidRequest() {
    JsonNode r = reply("{\"id\":1,\"method\":\"system.ping\",\"params\":[1]}");
    assertEquals("INVALID_REQUEST", r.at("/error/code").asText());
    assertEquals(1, r.get("id").asInt());
  }

  @Test
  void unknownMethodIsUnknownMethod() {
    JsonNode r = reply("{\"id\":1,\"method\":\"no.such\"}");
    assertEquals("UNKNOWN_METHOD", r.at("/error/code").asText());
    assertFalse(r.at("/error/retryable").asBoolean());
  }

  @Test
  void invalidParamsNameTheField() {
    JsonNode missing = reply("{\"id\":1,\"method\":\"auth.refresh\",\"params\":{}}");
    assertEquals("INVALID_PARAMS", missing.at("/error/code").asText());
    assertEquals("token", missing.at("/error/details/field").asText());
    JsonNode wrongType = reply("{\"id\":2,\"method\":\"auth.refresh\",\"params\":{\"token\":5}}");
    assertEquals("token", wrongType.at("/error/details/field").asText());
    JsonNode unknown = reply("{\"id\":3,\"method\":\"system.ping\",\"params\":{\"x\":1}}");
    assertEquals("INVALID_PARAMS", unknown.at("/error/code").asText());
    assertEquals("x", unknown.at("/error/details/field").asText());
  }

  @Test
  void duplicateKeysAndExcessiveNestingAreInvalidRequest() {
    assertEquals("INVALID_REQUEST", reply("{\"id\":1,\"id\":2,\"method\":\"system.ping\"}").at("/error/code").asText());
    String deep = "[".repeat(100) + "]".repeat(100);
    assertEquals("INVALID_REQUEST",
        reply("{\"id\":1,\"method\":\"system.ping\",\"params\":{\"a\":" + deep + "}}").at("/error/code").asText());
  }

  @Test
  void connectionStaysOpenAfterErrors() {
    reply("garbage");
    reply("{\"id\":{},\"method\":1}");
    JsonNode ok = c.call("system.ping", null);
    assertEquals("result", ok.get("type").asText());
    assertTrue(ok.at("/result/ts").asLong() > 0);
  }
}
