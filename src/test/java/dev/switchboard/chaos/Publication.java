package dev.switchboard.chaos;

/**
 * One publication a publisher made, identified by the id it carries in its data ({@code {"p": id}}).
 * Written by its publisher's event loop only; read by the checker after the run.
 */
public final class Publication {
  public enum Outcome {
    /** Still waiting for an answer. */
    PENDING,
    /** Answered with {@code {offset, epoch}}. */
    ACKED,
    /** The answer was lost (connection closed, timeout): it may or may not be in the history. */
    UNKNOWN,
    /** Refused with a non-retryable error, or still refused after the retries. */
    FAILED
  }

  public final int id;
  public final int topic;
  /** The publisher: ws1, ws2, http, marker. */
  public final String source;
  /** When the first attempt was sent (ms since the run started). */
  public final int sentAt;
  Outcome outcome = Outcome.PENDING;
  int ackAt = -1;
  int ackEpoch = -1;
  long ackOffset = -1;
  /** Attempts made (retries of a retryable refusal carry the same id). */
  int attempts;
  /** The node the acknowledging (or last) attempt went to. */
  String node;
  String lastError;

  Publication(int id, int topic, String source, int sentAt) {
    this.id = id;
    this.topic = topic;
    this.source = source;
    this.sentAt = sentAt;
  }

  public Outcome outcome() {
    return outcome;
  }

  public int ackAt() {
    return ackAt;
  }

  public int ackEpoch() {
    return ackEpoch;
  }

  public long ackOffset() {
    return ackOffset;
  }

  public int attempts() {
    return attempts;
  }

  public String node() {
    return node;
  }

  public String lastError() {
    return lastError;
  }
}
