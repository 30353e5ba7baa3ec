package dev.switchboard.topics;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The per-connection positions, including the last-topic shortcut of the delivery path. */
class SubscriptionsTest {
  private static final String TOPIC = new String("chat:room"); // one object, as the hub passes it

  @Test
  void aTopicReleasedAndSubscribedAgainTracksItsNewCursorNotTheForgottenOne() {
    Subscriptions subs = new Subscriptions(null, 10);
    subs.reserve("chat:room", null);
    subs.delivered(TOPIC, 5, "e1");
    subs.release("chat:room");
    subs.delivered(TOPIC, 6, "e1"); // in flight when the unsubscribe landed: nowhere to record it
    assertFalse(subs.snapshot().containsKey("chat:room"));

    subs.reserve("chat:room", null);
    subs.delivered(TOPIC, 7, "e1");
    subs.allWrittenReceived();
    assertEquals(new Subscriptions.Position(7, "e1"), subs.snapshot().get("chat:room"));
  }

  @Test
  void clearingForgetsTheShortcutToo() {
    Subscriptions subs = new Subscriptions(null, 10);
    subs.reserve("chat:room", null);
    subs.delivered(TOPIC, 1, "e1");
    subs.clear();
    subs.reserve("chat:room", null);
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
    subs.reserve("chat:room", null);
    subs.reserve("chat:other", null);
    subs.delivered(TOPIC, 3, "e1");
    subs.delivered(other, 9, "e2");
    subs.delivered(TOPIC, 4, "e1");
    subs.allWrittenReceived();
    assertEquals(new Subscriptions.Position(4, "e1"), subs.snapshot().get("chat:room"));
    assertEquals(new Subscriptions.Position(9, "e2"), subs.snapshot().get("chat:other"));
  }

  @Test
  void aResumedTopicKeepsItsStoredPositionUntilItsSubscribeSaysWhereItStarts() {
    Subscriptions subs = new Subscriptions(null, 10);
    Object h = subs.reserve("chat:room", new Subscriptions.Position(7, "e1"));
    // a save before the subscribe answered writes the stored position, not "none"
    assertEquals(new Subscriptions.Position(7, "e1"), subs.snapshot().get("chat:room"));
    // not recoverable any more: the subscription starts at the latest offset instead
    assertTrue(subs.startsAt("chat:room", h, 40, "e2"));
    assertEquals(new Subscriptions.Position(40, "e2"), subs.snapshot().get("chat:room"));
  }

  @Test
  void aSeededPositionMovedByAnAcknowledgementIsNotTakenBackByALateStart() {
    Subscriptions subs = new Subscriptions(null, 10);
    Object h = subs.reserve("chat:room", new Subscriptions.Position(7, "e1"));
    subs.delivered(TOPIC, 9, "e1");
    subs.mark();
    subs.acknowledged();
    assertFalse(subs.startsAt("chat:room", h, 7, "e1"));
    assertEquals(new Subscriptions.Position(9, "e1"), subs.snapshot().get("chat:room"));
  }

  @Test
  void aLateAnswerForAReleasedSubscriptionChangesNothingOfTheNextOne() {
    Subscriptions subs = new Subscriptions(null, 10);
    Object first = subs.reserve("chat:room", null);
    subs.release("chat:room");
    Object second = subs.reserve("chat:room", null);
    assertFalse(subs.startsAt("chat:room", first, 3, "e1"), "the first subscription's late answer");
    assertFalse(subs.release("chat:room", first), "nor does its late failure release the second");
    assertTrue(subs.startsAt("chat:room", second, 5, "e1"));
    assertEquals(new Subscriptions.Position(5, "e1"), subs.snapshot().get("chat:room"));
  }
}
