package dev.switchboard.auth;

import dev.switchboard.testsupport.Gen;
import dev.switchboard.testsupport.Props;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The request and connect-rate bucket: never more grants than burst + rate x elapsed, and a refusal's
 * wait (retry_after_ms) is right: one token is there once it has passed, not a millisecond before.
 */
class TokenBucketProperties {
  static final long MS = 1_000_000L;

  @Test
  void grantsNeverExceedBurstPlusRateTimesElapsed() {
    Props.check("bucket: bound", 1000, c -> {
      Random r = c.random();
      int rate = Gen.pick(r, 1, 3, 50, 100, 1000, 100_000);
      int burst = Gen.pick(r, 1, 2, 10, 200, rate);
      long start = r.nextLong() >> 2; // System.nanoTime() may be anywhere, negative included
      TokenBucket b = new TokenBucket(rate, burst, start);
      long now = start;
      long granted = 0;
      for (int i = 0; i < 500; i++) {
        now += r.nextInt(3) == 0 ? 0 : (long) (r.nextDouble() * 3 * MS * 1000 / rate);
        if (b.take(now) == 0) {
          granted++;
        }
        double allowed = burst + rate * ((now - start) / 1e9);
        assertTrue(granted <= Math.floor(allowed + 1e-9), granted + " grants > " + allowed + " (rate " + rate + ", burst " + burst + ")");
      }
    });
  }

  @Test
  void aRefusalsWaitIsExactlyWhenTheNextTokenIsThere() {
    Props.check("bucket: retry_after", 3000, c -> {
      Random r = c.random();
      int rate = Gen.pick(r, 1, 3, 7, 50, 100, 333, 1000, 4000);
      int burst = Gen.pick(r, 1, 2, 10, 200);
      long start = r.nextLong() >> 2;
      // two buckets through the same history: one asks a millisecond early, the other on time
      TokenBucket early = new TokenBucket(rate, burst, start);
      TokenBucket onTime = new TokenBucket(rate, burst, start);
      long now = start;
      long wait = 0;
      for (int i = 0; i < burst + 20 && wait == 0; i++) {
        now += r.nextInt(4) == 0 ? r.nextInt(2000) * 1000L : 0; // microseconds: fractions of a token
        wait = early.take(now);
        assertEquals(wait, onTime.take(now));
      }
      if (wait == 0) {
        return;
      }
      assertTrue(wait >= 1);
      if (wait > 1) {
        assertTrue(early.take(now + (wait - 1) * MS) > 0, "granted before retry_after_ms " + wait + " (rate " + rate + ")");
      }
      assertEquals(0, onTime.take(now + wait * MS), "refused after retry_after_ms " + wait + " (rate " + rate + ", burst " + burst + ")");
    });
  }
}
