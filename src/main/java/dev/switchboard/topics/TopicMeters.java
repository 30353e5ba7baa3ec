package dev.switchboard.topics;

/**
 * What the topic hub reports to the node's metrics (api/Metrics implements it), so topics need
 * nothing from the registry. Called on the hub's context or a publisher's; implementations only
 * bump pre-registered meters, and never see a topic's name beyond its namespace.
 */
public interface TopicMeters {
  TopicMeters NONE = new TopicMeters() {
  };

  /** A publication on {@code topic} accepted here (before it is appended). */
  default void published(String topic) {
  }

  /** A live event of {@code topic} handed to {@code subscribers} local subscribers (replays not included). */
  default void delivered(String topic, int subscribers) {
  }

  /**
   * A live publication was written to this loop's subscribers {@code micros} after the publishing
   * node accepted it (one call per event and event loop, not per subscriber; may be negative when
   * the publishing node's clock is ahead). Called on the subscribers' event loop.
   */
  default void publishDelivered(long micros) {
  }

  /** A subscribe with a position started a replay from history (recovered). */
  default void replayed() {
  }

  /** A read of history for offsets the live feed missed (a gap) started. */
  default void gapFilled() {
  }

  /** An open topic's epoch was replaced: {@code history_lost} or {@code merge}. */
  default void epochChanged(String cause) {
  }
}
