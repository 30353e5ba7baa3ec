package dev.switchboard.auth;

/** A token bucket; not thread-safe (each instance is owned by one event loop, or guarded by its map's lock). */
public final class TokenBucket {
  private final double perNano;
  private final double capacity;
  private double tokens;
  private long last;

  public TokenBucket(double perSecond, double burst, long nowNanos) {
    this.perNano = perSecond / 1e9;
    this.capacity = burst;
    this.tokens = burst;
    this.last = nowNanos;
  }

  /** Takes one token: 0 when granted, otherwise the milliseconds until one is available. */
  public long take(long nowNanos) {
    refill(nowNanos);
    if (tokens >= 1) {
      tokens -= 1;
      return 0;
    }
    return waitMs();
  }

  /**
   * The fewest whole milliseconds after which {@link #refill} gives a token, by refill's own
   * arithmetic: the quotient alone rounds (at 100/s, 0.1 token left wants 9 ms, and 0.1 + 9 ms of
   * refill sums to 0.99999…), and a client that waited exactly the retry_after_ms it was told would
   * be refused again. Rates are at least 1/s, so this is at most 1,000 ms.
   */
  private long waitMs() {
    long ms = Math.max(1, (long) Math.ceil((1 - tokens) / perNano / 1e6));
    while (tokens + (ms * 1_000_000L) * perNano < 1) {
      ms++;
    }
    while (ms > 1 && tokens + ((ms - 1) * 1_000_000L) * perNano >= 1) {
      ms--;
    }
    return ms;
  }

  /** True when the bucket is full again (an idle entry that may be dropped). */
  public boolean full(long nowNanos) {
    refill(nowNanos);
    return tokens >= capacity;
  }

  private void refill(long nowNanos) {
    long elapsed = nowNanos - last;
    if (elapsed > 0) {
      tokens = Math.min(capacity, tokens + elapsed * perNano);
      last = nowNanos;
    }
  }
}
