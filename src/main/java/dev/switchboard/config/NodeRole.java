package dev.switchboard.config;

/**
 * What a node is in the cluster ({@code node.role}, {@code SB_NODE_ROLE}). The same jar runs every
 * role; the roles differ in what Hazelcast holds on the node and in what it serves.
 *
 * <ul>
 *   <li>{@link #ALL}: a gateway (WebSocket, HTTP API, event-bus API, operations) and a Hazelcast data
 *   member holding a share of the partitions (histories, registries, sessions). One tier.</li>
 *   <li>{@link #GATEWAY}: a gateway that joins as a Hazelcast <em>lite member</em>: it owns no
 *   partition, so gateways start, stop and scale without migrating data. It needs data members in
 *   the cluster: started before any, it tries again until {@code cluster.join_timeout_ms} (see
 *   NoDataMemberRetry), and it is not ready until a majority of them is there.</li>
 *   <li>{@link #DATA}: a Hazelcast data member and nothing more for clients: no WebSocket, no HTTP
 *   API, no event-bus API, no operations. It keeps the cluster's bookkeeping (the quorum, departed
 *   members' cleanup) and serves {@code /health/live}, {@code /health/ready} and {@code /metrics} on
 *   {@code http.port} for probes and scraping; every other path is 404. It needs no JWT key.</li>
 * </ul>
 *
 * <p>The quorum (cluster/Quorum) counts data members only ({@link #ALL} and {@link #DATA}): a
 * gateway joining or leaving never changes the majority the data tier needs.
 */
public enum NodeRole {
  ALL("all"),
  GATEWAY("gateway"),
  DATA("data");

  private final String wire;

  NodeRole(String wire) {
    this.wire = wire;
  }

  /** The setting's value: {@code all}, {@code gateway} or {@code data}. */
  public String wire() {
    return wire;
  }

  /** Joins Hazelcast as a lite member (owns no partitions). */
  public boolean liteMember() {
    return this == GATEWAY;
  }

  /** Serves clients: WebSocket, HTTP API, event-bus API, operations. */
  public boolean servesClients() {
    return this != DATA;
  }

  static NodeRole parse(Settings s, String path) {
    String v = s.string(path, java.util.regex.Pattern.compile("all|gateway|data"), "all, gateway or data");
    for (NodeRole r : values()) {
      if (r.wire.equals(v)) {
        return r;
      }
    }
    throw new IllegalStateException(v); // the pattern admits only the three
  }
}
