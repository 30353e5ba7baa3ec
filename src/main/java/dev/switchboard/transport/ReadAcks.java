package dev.switchboard.transport;

import dev.switchboard.cluster.Sessions;

import java.util.concurrent.ThreadLocalRandom;

/**
 * Which events a client has read, learnt from its pongs: the ping ids a connection sends and the one
 * whose pong acknowledges the positions marked when it went out (see Subscriptions#mark). A pong of
 * that ping, or of any later one, proves every frame written before it was read. An ack that is
 * never answered stays outstanding: nothing new is marked, and a close does not count anything
 * unacknowledged as read. Loop-confined.
 */
final class ReadAcks {
  /** Acknowledgements are asked as often as positions are saved: more would buy nothing a session keeps. */
  private static final long EVERY_NANOS = Sessions.SAVE_EVERY_MS * 1_000_000L;
  /** An ack younger than this, unanswered at a close, is not taken as a stalled reader. */
  private static final long GRACE_NANOS = 1_000_000_000L;

  private long pings;
  /** The ping whose pong acknowledges the marked positions (0: none asked). */
  private long ackPing;
  private long ackSentNanos;

  /** The first ack is due at a random moment within the interval: connections opened together stay apart. */
  ReadAcks(long nowNanos) {
    this.ackSentNanos = nowNanos - ThreadLocalRandom.current().nextLong(EVERY_NANOS);
  }

  /** Asked for at the next chance (see Client#acknowledgeSoon). */
  private boolean soon;

  /** Asks again as soon as no ack is outstanding, whatever the interval. */
  void soon() {
    soon = true;
  }

  /** An ask came due with nothing written since the last: an early one is dropped. */
  void nothingToAsk() {
    soon = false;
  }

  /** Whether it is time to ask again (the caller then marks its positions and sends {@link #nextPing}). */
  boolean due(long nowNanos) {
    return ackPing == 0 && (soon || nowNanos - ackSentNanos >= EVERY_NANOS);
  }

  /** The id of the next ping; {@code asking}: its pong acknowledges what was just marked. */
  long nextPing(boolean asking, long nowNanos) {
    long id = ++pings;
    if (asking) {
      ackPing = id;
      ackSentNanos = nowNanos;
      soon = false;
    }
    return id;
  }

  /** True when this pong acknowledges the marked positions. */
  boolean pong(long id) {
    if (ackPing != 0 && id >= ackPing && id <= pings) {
      ackPing = 0;
      return true;
    }
    return false;
  }

  /** An ack has gone unanswered for longer than a reader that keeps up would take. */
  boolean stalled(long nowNanos) {
    return ackPing != 0 && nowNanos - ackSentNanos > GRACE_NANOS;
  }
}
