package dev.switchboard.chaos;

import dev.switchboard.testsupport.Netns;
import dev.switchboard.testsupport.TestNode;

import java.util.List;

/**
 * Where the node slots of a chaos run live ({@code --net}). On {@code loopback} every node is on
 * 127.0.0.1 with ports of its own and nothing can be cut. On {@code netns} each slot is a host of its
 * own: a Linux network namespace joined to a bridge by a veth pair ({@link Netns}), where the node
 * listens on the usual ports (8080, 5701) of the slot's address; the harness's clients, publishers
 * and Hazelcast client reach every host through the bridge. {@link #cut} isolates one host from the
 * other hosts (not from the harness: its clients stay connected, as behind a load balancer) until
 * {@link #heal}. A slot keeps its host, and so its address, across restarts.
 *
 * <p>{@link #close} removes every namespace and link the run made; it is idempotent and safe to call
 * from a shutdown hook while the main thread also closes (so a run that fails or is interrupted
 * leaves nothing behind; only SIGKILL of the harness does, see docs/chaos.md).
 */
final class ChaosNet implements AutoCloseable {
  private final Netns netns; // null on loopback
  private final int[] httpPorts;
  private final int[] clusterPorts;
  private final boolean[] cut;

  private ChaosNet(Netns netns, int nodes) {
    this.netns = netns;
    this.httpPorts = new int[nodes];
    this.clusterPorts = new int[nodes];
    this.cut = new boolean[nodes];
    for (int i = 0; i < nodes; i++) {
      httpPorts[i] = netns == null ? TestNode.freePort() : 8080;
      clusterPorts[i] = netns == null ? TestNode.freePort() : 5701;
    }
  }

  /** Thrown when {@code --net netns} cannot be had here; the message says why. */
  static final class Unavailable extends RuntimeException {
    Unavailable(String message) {
      super(message);
    }
  }

  /** The run's network for {@code o.net()}; {@link Unavailable} when namespaces are not permitted here. */
  static ChaosNet create(ChaosOptions o) {
    if (o.net().equals(ChaosOptions.LOOPBACK)) {
      return new ChaosNet(null, o.slots());
    }
    String why = Netns.available();
    if (why != null) {
      throw new Unavailable("--net netns: " + why);
    }
    return new ChaosNet(Netns.create(o.slots()), o.slots());
  }

  boolean namespaces() {
    return netns != null;
  }

  /** The address of slot {@code i} (0-based): the one its node binds and announces, and clients dial. */
  String host(int i) {
    return netns == null ? "127.0.0.1" : netns.host(i);
  }

  int httpPort(int i) {
    return httpPorts[i];
  }

  int clusterPort(int i) {
    return clusterPorts[i];
  }

  /** What a node's command line starts with: nothing on loopback, {@code ip netns exec NS} in a namespace. */
  List<String> prefix(int i) {
    return netns == null ? List.of() : netns.exec(i);
  }

  /** Slot {@code i} can no longer reach the other slots, nor they it. */
  synchronized void cut(int i) {
    if (netns == null) {
      throw new IllegalStateException("nothing to cut on loopback (--net netns)");
    }
    if (!cut[i]) {
      netns.cut(i);
      cut[i] = true;
    }
  }

  synchronized void heal(int i) {
    if (netns != null && cut[i]) {
      netns.heal(i);
      cut[i] = false;
    }
  }

  /** Heals every cut (a repair, or the end of a run). */
  synchronized void healAll() {
    for (int i = 0; i < cut.length; i++) {
      heal(i);
    }
  }

  synchronized boolean isCut(int i) {
    return cut[i];
  }

  /** What the run made, for the report (namespaces, bridge, addresses), or "loopback". */
  @Override
  public String toString() {
    if (netns == null) {
      return "loopback";
    }
    StringBuilder b = new StringBuilder("namespaces");
    for (int i = 0; i < cut.length; i++) {
      b.append(i == 0 ? " " : ", ").append(netns.name(i)).append(" (").append(host(i)).append(')');
    }
    return b.toString();
  }

  @Override
  public void close() {
    if (netns != null) {
      netns.close();
    }
  }
}
