package dev.switchboard.auth;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Cases the bucket properties found, kept as they were found. */
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
}
