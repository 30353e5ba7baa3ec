package dev.switchboard.auth;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bucket case by case, and cases the bucket properties found, kept as they were found. */
class TokenBucketTest {
  static final long MS = 1_000_000L;

  @Test
  void aClientThatWaitsExactlyRetryAfterGetsTheToken() {
    // rate 100/s (the default), burst spent, 1 ms later: 0.1 token, 9 ms to go by the quotient,
    // which said 9; refill then summed 0.1 + 9 ms of tokens to just under one: refused once more.
    long t0 = 1_594_622_890_511_815_131L;
    TokenBucket b = new TokenBucket(100, 2, t0);
    TokenBucket twin = new TokenBucket(100, 2, t0);
    for (TokenBucket x : new TokenBucket[] {b, twin}) {
      assertEquals(0, x.take(t0));
      assertEquals(0, x.take(t0));
    }
    long wait = b.take(t0 + MS);
    assertEquals(wait, twin.take(t0 + MS));
    assertEquals(0, b.take(t0 + MS + wait * MS), "refused after waiting retry_after_ms " + wait);
    assertTrue(twin.take(t0 + MS + (wait - 1) * MS) > 0, "retry_after_ms " + wait + " is not the least wait");
  }

  @Test
  void aFullBucketGrantsItsBurstThenWaitsOneTokensTime() {
    long t0 = 5_000 * MS;
    TokenBucket b = new TokenBucket(10, 3, t0);
    for (int i = 0; i < 3; i++) {
      assertEquals(0, b.take(t0));
    }
    assertEquals(100, b.take(t0), "10/s: one token every 100 ms");
    assertEquals(50, b.take(t0 + 50 * MS));
    assertEquals(0, b.take(t0 + 100 * MS));
  }

  @Test
  void refillStopsAtTheBurstAndFullSaysWhenItIsReached() {
    long t0 = 5_000 * MS;
    TokenBucket b = new TokenBucket(10, 2, t0);
    assertTrue(b.full(t0));
    assertEquals(0, b.take(t0));
    assertTrue(!b.full(t0 + 50 * MS), "half a token back");
    assertTrue(b.full(t0 + 100 * MS));
    long later = t0 + 60_000 * MS; // a minute idle: still only the burst
    assertEquals(0, b.take(later));
    assertEquals(0, b.take(later));
    assertTrue(b.take(later) > 0);
  }

  @Test
  void aClockThatGoesBackGivesNothingAndTakesNothing() {
    long t0 = 5_000 * MS;
    TokenBucket b = new TokenBucket(10, 1, t0);
    assertEquals(0, b.take(t0));
    assertEquals(100, b.take(t0 - 1_000 * MS), "no refill from an earlier time");
    assertEquals(0, b.take(t0 + 100 * MS));
  }
}
