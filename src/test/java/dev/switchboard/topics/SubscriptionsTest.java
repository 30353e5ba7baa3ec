package dev.switchboard.topics;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The per-connection positions, including the last-topic shortcut of the delivery path. */
class SubscriptionsTest {
  private static final String TOPIC = new String("chat:room"); // one object, as the hub passes it

  @Test
  void aTopicReleasedAndSubscribedAgainTracksItsNewCursorNotTheForgottenOne() {
    Subscriptions subs = new Subscriptions(null, 10);
    subs.reserve("chat:room");
    subs.delivered(TOPIC, 5, "e1");
    subs.release("chat:room");
    subs.delivered(TOPIC, 6, "e1"); // in flight when the unsubscribe landed: nowhere to record it
    assertFalse(subs.snapshot().containsKey("chat:room"));

    subs.reserve("chat:room");
    subs.delivered(TOPIC, 7, "e1");
    subs.allWrittenReceived();
    assertEquals(new Subscriptions.Position(7, "e1"), subs.snapshot().get("chat:room"));
  }

  @Test
  void clearingForgetsTheShortcutToo() {
    Subscriptions subs = new Subscriptions(null, 10);
    subs.reserve("chat:room");
    subs.delivered(TOPIC, 1, "e1");
    subs.clear();
    subs.reserve("chat:room");
    subs.allWrittenReceived();
    assertNull(subs.snapshot().get("chat:room"), "a fresh subscription has no position until something is written");
    subs.delivered(TOPIC, 2, "e1");
    subs.allWrittenReceived();
    assertEquals(new Subscriptions.Position(2, "e1"), subs.snapshot().get("chat:room"));
  }

  @Test
  void deliveriesOfTwoTopicsInTurnEachMoveTheirOwnCursor() {
    Subscriptions subs = new Subscriptions(null, 10);
    String other = new String("chat:other");
    subs.reserve("chat:room");
    subs.reserve("chat:other");
    subs.delivered(TOPIC, 3, "e1");
    subs.delivered(other, 9, "e2");
    subs.delivered(TOPIC, 4, "e1");
    subs.allWrittenReceived();
    assertEquals(new Subscriptions.Position(4, "e1"), subs.snapshot().get("chat:room"));
    assertEquals(new Subscriptions.Position(9, "e2"), subs.snapshot().get("chat:other"));
  }
}
