package dev.switchboard.topics;

/**
 * The value of a topic's entry in {@code sb.epochs} (Addresses#EPOCHS): its epoch, and whether its
 * history may have a ring yet. Hazelcast allocates a ring's whole capacity the first time anything
 * touches it, so a topic that was only subscribed (or read) must not touch it: the entry tells
 * readers that no append was ever made under this epoch, and they answer "no events" without asking
 * the ring.
 * <ul>
 *   <li>{@code <epoch>}: the history may have a ring (every append marks the entry so first, and
 *   entries written before this format existed read the same way);</li>
 *   <li>{@code <epoch>;<created ms>}: no append was made under this epoch; its history is empty and
 *   has no ring. Created when the topic is first opened or read, at that time.</li>
 * </ul>
 * An entry only ever goes from the second form to the first under the same epoch (never back), and
 * every append marks it before it adds to the ring; so a reader that sees the second form saw it
 * before any append of that epoch reached the ring. Epochs are base-62: no {@code ;}.
 */
final class EpochEntry {
  private EpochEntry() {
  }

  static String withRing(String epoch) {
    return epoch;
  }

  static String noRing(String epoch, long createdMs) {
    return epoch + ";" + createdMs;
  }

  static String epoch(String value) {
    int i = value.indexOf(';');
    return i < 0 ? value : value.substring(0, i);
  }

  /** Whether the history may have a ring (an append was made, or may be in flight, under this epoch). */
  static boolean mayHaveRing(String value) {
    return value.indexOf(';') < 0;
  }

  /** When an entry without ring was created (ms); 0 for an entry that may have one. */
  static long created(String value) {
    int i = value.indexOf(';');
    if (i < 0) {
      return 0;
    }
    try {
      return Long.parseLong(value.substring(i + 1));
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
