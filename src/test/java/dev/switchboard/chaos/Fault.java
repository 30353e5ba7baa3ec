package dev.switchboard.chaos;

/**
 * One kind of fault the chaos run injects. The fault thread calls {@link #inject} once per fault,
 * one fault at a time; it returns once the fault is over (a killed node restarted, a stopped one
 * continued, a cut network healed). The run then waits, bounded, for the cluster to be whole again
 * before the next fault, and counts a cluster that does not re-form as a violation.
 *
 * <p>To add a fault (a network partition, say): implement this, add it to {@link Faults#create},
 * and name it in {@code --faults}. The checker needs nothing new: it judges what clients observed.
 */
public interface Fault {
  /** The name used in {@code --faults} and in the figures. */
  String name();

  /**
   * Injects one fault and returns when it is over. Blocking (runs on the fault thread, never an
   * event loop); every wait bounded. Describe what was done with {@link FaultContext#note}.
   */
  void inject(FaultContext ctx) throws Exception;
}
