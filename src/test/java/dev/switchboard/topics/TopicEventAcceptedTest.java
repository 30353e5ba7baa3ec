package dev.switchboard.topics;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The accept time an event carries to the publish→deliver histogram: the bus header's, else the item's ts. */
class TopicEventAcceptedTest {
  @Test
  void theBusHeadersTimeWins() {
    assertEquals(1_700_000_000_123_456L,
        new TopicEvent("chat:a", 1, "e1", "{\"data\":1,\"ts\":1700000000123}", 1_700_000_000_123_456L).acceptedMicros());
  }

  @Test
  void anEventReadFromHistoryUsesItsItemsTsNotOneInsideDataOrFrom() {
    String item = "{\"data\":{\"x\":1,\"ts\":5,\"y\":{\"a\":2,\"ts\":6}},\"ts\":1700000000123,\"from\":\"u,\\\"ts\\\":9\"}";
    assertEquals(1_700_000_000_123_000L, new TopicEvent("chat:a", 1, "e1", item).acceptedMicros());
  }

  @Test
  void presenceFramesAndItemsWithoutTsHaveNone() {
    assertEquals(0, TopicEvent.raw("chat:a", "{\"type\":\"presence\"}").acceptedMicros());
    assertEquals(0, new TopicEvent("chat:a", 1, "e1", "{\"data\":1}").acceptedMicros());
  }
}
