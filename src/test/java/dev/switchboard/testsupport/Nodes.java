package dev.switchboard.testsupport;

import dev.switchboard.Node;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Started nodes and a client Vert.x, with clients opened on them; what it opened it closes: the
 * clients of a test after that test ({@link NodesExtension}), everything in {@link #close}: clients,
 * then nodes, then the client Vert.x. Usable without the extension too (try-with-resources).
 */
public final class Nodes implements AutoCloseable {
  private final List<Node> nodes;
  private final Vertx vertx;
  private final List<AutoCloseable> opened = new ArrayList<>();
  /** With {@link #plan}: every member's Hazelcast port, fixed before the first starts, and their env. */
  private final List<Integer> plannedPorts;
  private final Map<String, String> env;

  private Nodes(List<Node> nodes, List<Integer> plannedPorts, Map<String, String> env) {
    this.nodes = new java.util.concurrent.CopyOnWriteArrayList<>(nodes);
    this.plannedPorts = plannedPorts;
    this.env = env;
    this.vertx = Vertx.vertx();
  }

  /** {@code n} nodes with {@code env} over the test defaults: one {@link TestNode#start}, more a {@link TestNode#cluster}. */
  public static Nodes start(int n, Map<String, String> env) {
    if (n < 1) {
      throw new IllegalArgumentException("nodes: " + n);
    }
    return new Nodes(n == 1 ? List.of(TestNode.start(env)) : TestNode.cluster(n, env), null, env);
  }

  /**
   * A cluster of {@code planned} members whose ports and member list are fixed now, of which the
   * first {@code started} start now (one {@link TestNode#start} each) and the others with
   * {@link #startNext}: for tests about a member joining.
   */
  public static Nodes plan(int planned, int started, Map<String, String> env) {
    if (started < 1 || started > planned) {
      throw new IllegalArgumentException("started " + started + " of " + planned);
    }
    List<Integer> ports = new ArrayList<>();
    for (int i = 0; i < planned; i++) {
      ports.add(TestNode.freePort());
    }
    Nodes nodes = new Nodes(List.of(), List.copyOf(ports), Map.copyOf(env));
    try {
      for (int i = 0; i < started; i++) {
        nodes.startNext();
      }
    } catch (RuntimeException | Error e) {
      nodes.close();
      throw e;
    }
    return nodes;
  }

  /** Starts the next planned member (see {@link #plan}); it is stopped with the others. */
  public Node startNext() {
    if (plannedPorts == null || nodes.size() >= plannedPorts.size()) {
      throw new IllegalStateException("no planned member left to start");
    }
    Map<String, String> e = new java.util.HashMap<>(env);
    e.put("SB_CLUSTER_PORT", String.valueOf(plannedPorts.get(nodes.size())));
    e.put("SB_CLUSTER_MEMBERS", plannedPorts.stream().map(p -> "127.0.0.1:" + p).collect(Collectors.joining(",")));
    Node n = TestNode.start(e);
    nodes.add(n);
    return n;
  }

  /** Node {@code i}, counted from 0. */
  public Node node(int i) {
    return nodes.get(i);
  }

  /** The first (or only) node. */
  public Node node() {
    return nodes.get(0);
  }

  /** The nodes started so far, in order. */
  public List<Node> all() {
    return List.copyOf(nodes);
  }

  /** HTTP/WebSocket port of node {@code i}. */
  public int port(int i) {
    return nodes.get(i).port();
  }

  /** The client side's Vert.x (not a node's). */
  public Vertx vertx() {
    return vertx;
  }

  /** The Hazelcast members' addresses, {@code 127.0.0.1:port,…}: what a {@link ChildNode} joins. */
  public String members() {
    return nodes.stream().map(n -> "127.0.0.1:" + n.context().config().cluster().port())
        .collect(Collectors.joining(","));
  }

  /** A client of node {@code i} with a token for {@code user} subscribing and publishing {@code globs}. */
  public WsClient client(int i, String user, String... globs) {
    return connect(i, Tokens.user(user, globs));
  }

  /** A client of node {@code i} with this token. */
  public WsClient connect(int i, String token) {
    return closing(WsClient.connect(vertx, port(i), token));
  }

  /** An upgrade to node {@code i} at {@code uri} (token and query included), opened or refused. */
  public WsClient.Upgrade open(int i, String uri) {
    return open(i, uri, Map.of(), null);
  }

  public WsClient.Upgrade open(int i, String uri, Map<String, String> headers, String subprotocol) {
    WsClient.Upgrade u = WsClient.open(vertx, port(i), uri, headers, subprotocol);
    if (u.client() != null) {
      closing(u.client());
    }
    return u;
  }

  /** Closes {@code resource} with the rest: after the test that opened it, or with these nodes. */
  public synchronized <T extends AutoCloseable> T closing(T resource) {
    opened.add(resource);
    return resource;
  }

  /** How many resources are open now: a mark for {@link #closeSince}. */
  synchronized int mark() {
    return opened.size();
  }

  /** Closes, newest first, what was opened since {@code mark}. */
  void closeSince(int mark) {
    List<AutoCloseable> toClose;
    synchronized (this) {
      List<AutoCloseable> tail = opened.subList(Math.min(mark, opened.size()), opened.size());
      toClose = new ArrayList<>(tail);
      tail.clear();
    }
    for (int k = toClose.size() - 1; k >= 0; k--) {
      try {
        toClose.get(k).close();
      } catch (Exception ignored) {
        // best effort, as the tests' own finally blocks did
      }
    }
  }

  @Override
  public void close() {
    closeSince(0);
    TestNode.stop(nodes.toArray(new Node[0]));
    try {
      vertx.close().await(30, TimeUnit.SECONDS);
    } catch (Exception ignored) {
      // best effort: nothing of it outlives the JVM's next test
    }
  }
}
