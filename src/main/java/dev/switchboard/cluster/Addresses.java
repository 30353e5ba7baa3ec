package dev.switchboard.cluster;

/**
 * Every event-bus address and Hazelcast structure name the node uses, with the shape of what
 * travels on it. Nothing else in the code spells an address.
 */
public final class Addresses {
  private Addresses() {
  }

  /**
   * Publications of one topic, published (not sent) to every node that has local subscribers; each
   * node holds one clustered consumer per topic while it has subscribers.
   * Body: the stored item as a JSON string {@code {"data":…,"ts":…,"from":…}}; headers
   * {@code o} = offset, {@code e} = epoch.
   */
  public static String topic(String topic) {
    return "sb.t." + topic;
  }

  /** Hazelcast Ringbuffer holding a topic's history: sequence = offset − 1, items as above. */
  public static String history(String topic) {
    return "sb.h." + topic;
  }

  /** Hazelcast IMap topic → epoch (a string that changes only when the topic's history is lost). */
  public static final String EPOCHS = "sb.epochs";
}
