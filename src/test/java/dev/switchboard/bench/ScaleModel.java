package dev.switchboard.bench;

import com.hazelcast.cluster.Member;
import dev.switchboard.Node;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Checks the scaling model of docs/scaling.md by counting, not timing (run by bench/scale-model.sh):
 * N light nodes in this JVM (each a real Hazelcast member and a clustered Vert.x with its own
 * event-bus TCP server, loopback), C connections per node, T topics with S subscribers each on S
 * different nodes, P publications from node 1, then one node joining and leaving. For each phase
 * it prints how many entries every Hazelcast structure gained, how many Hazelcast operations and
 * events the members executed, and how many event-bus messages reached consumers, per unit
 * (connection, subscription, publication, membership change).
 *
 * <p>Usage: ScaleModel NODES TOPICS SUBS_PER_TOPIC CONNS_PER_NODE PUBLICATIONS [NAMESPACE=chat] [EXTRA_SUBS=0]
 * (EXTRA_SUBS: topics the joining node subscribes to before it leaves, so that its departure removes
 * registrations)
 */
public final class ScaleModel {
  private static final Duration PHASE = Duration.ofSeconds(120);

  public static void main(String[] args) throws Exception {
    int nodesN = Integer.parseInt(args[0]);
    int topics = Integer.parseInt(args[1]);
    int perTopic = Integer.parseInt(args[2]);
    int connsPerNode = Integer.parseInt(args[3]);
    int pubs = Integer.parseInt(args[4]);
    String ns = args.length > 5 ? args[5] : "chat";
    int extraSubs = args.length > 6 ? Integer.parseInt(args[6]) : 0;
    if (perTopic > nodesN) {
      throw new IllegalArgumentException("subscribers of a topic sit on different nodes: SUBS_PER_TOPIC <= NODES");
    }
    Map<String, String> env = limits();
    long t0 = System.nanoTime();
    List<Node> nodes = TestNode.cluster(nodesN, env);
    System.out.printf("RESULT model nodes=%d topics=%d subs_per_topic=%d conns_per_node=%d publications=%d namespace=%s started_s=%.1f%n",
        nodesN, topics, perTopic, connsPerNode, pubs, ns, (System.nanoTime() - t0) / 1e9);
    ClusterCounts cc = new ClusterCounts();
    nodes.forEach(cc::watch);
    cc.watchMigrations(nodes.get(0)); // one listener: each replica migration counted once
    Vertx vertx = Vertx.vertx();
    List<List<Peer>> peers = new ArrayList<>();
    try {
      Snapshot base = Snapshot.take(nodes, cc);
      base.print("baseline", null, 1, "");
      Thread.sleep(10_000);
      Snapshot rest = Snapshot.take(nodes, cc);
      double restS = (rest.nanos() - base.nanos()) / 1e9;
      Snapshot.quietOps = (rest.hzOps() - base.hzOps()) / restS;
      Snapshot.quietEvents = (rest.hzEvents() - base.hzEvents()) / restS;
      System.out.printf("RESULT quiet seconds=%.1f hz_operations_per_s=%.1f hz_events_per_s=%.1f bus_messages_in=%d (the cluster at rest, subtracted as net_of_quiet below)%n",
          restS, Snapshot.quietOps, Snapshot.quietEvents, rest.inAll() - base.inAll());
      base = rest;

      // connections: one user each
      for (int n = 0; n < nodesN; n++) {
        List<Peer> onNode = new ArrayList<>();
        for (int c = 0; c < connsPerNode; c++) {
          onNode.add(new Peer(vertx, nodes.get(n).port(), "n" + n + "c" + c, Tokens.user("scale-" + n + "-" + c, ns + ":*")));
        }
        peers.add(onNode);
      }
      settle();
      Snapshot connected = Snapshot.take(nodes, cc);
      connected.print("connect", base, (long) nodesN * connsPerNode, "per connection");

      // subscriptions: topic t's j-th subscriber on node (t + j) mod N, connections round-robin
      int[] next = new int[nodesN];
      Map<Peer, Integer> asked = new HashMap<>();
      for (int t = 0; t < topics; t++) {
        for (int j = 0; j < perTopic; j++) {
          int n = (t + j) % nodesN;
          Peer p = peers.get(n).get(next[n]++ % connsPerNode);
          p.subscribe(ns + ":m" + t);
          asked.merge(p, 1, Integer::sum);
        }
      }
      awaitAll(asked);
      settle();
      Snapshot subscribed = Snapshot.take(nodes, cc);
      long subsCount = (long) topics * perTopic;
      subscribed.print("subscribe", connected, subsCount, "per subscription");
      long registrations = subscribed.structures.get("__vertx.subs entries") - connected.structures.get("__vertx.subs entries");
      System.out.printf("RESULT subscribe registrations=%d per_topic=%.2f (expected (node, topic) pairs: %d)%n",
          registrations, registrations / (double) topics, subsCount);
      System.out.printf("RESULT subscribe hz_events_per_registration=%.2f (members: %d)%n",
          (subscribed.hzEvents - connected.hzEvents) / (double) Math.max(1, registrations), nodesN);

      // publications from node 1, round-robin over the topics, in windows of 500 awaited results
      Peer pub = peers.get(0).get(0);
      long before = pub.answers();
      long eventsBefore = peers.stream().flatMap(List::stream).mapToLong(p -> p.events.get()).sum();
      com.fasterxml.jackson.databind.node.ObjectNode data = WsClient.params().put("x", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
      for (int k = 0; k < pubs; k++) {
        pub.publish(ns + ":m" + (k % topics), data);
        if ((k + 1) % 500 == 0 && !pub.awaitAnswers(before + k + 1, PHASE)) {
          throw new IllegalStateException("publications not answered");
        }
      }
      pub.awaitAnswers(before + pubs, PHASE);
      long expected = (long) pubs * perTopic;
      long deadline = System.nanoTime() + PHASE.toNanos();
      while (peers.stream().flatMap(List::stream).mapToLong(p -> p.events.get()).sum() - eventsBefore < expected
          && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      settle();
      Snapshot published = Snapshot.take(nodes, cc);
      published.print("publish", subscribed, pubs, "per publication");
      long delivered = peers.stream().flatMap(List::stream).mapToLong(p -> p.events.get()).sum() - eventsBefore;
      long topicMsgs = published.inTopic - subscribed.inTopic;
      long remoteTopicMsgs = published.inTopicRemote - subscribed.inTopicRemote;
      System.out.printf("RESULT publish publications=%d errors=%d deliveries=%d expected=%d node_level_bus_deliveries=%d per_publication=%.2f remote_bus_messages_per_publication=%.2f%n",
          pubs, pub.errors.get(), delivered, expected, topicMsgs, topicMsgs / (double) pubs, remoteTopicMsgs / (double) pubs);

      // membership: a light node joins (no subscribers of its own), then leaves gracefully
      Snapshot beforeJoin = Snapshot.take(nodes, cc);
      long mig0 = cc.migrations.get();
      long tj = System.nanoTime();
      Node extra = join(nodes, env, "n" + (nodesN + 1));
      List<Node> withExtra = new ArrayList<>(nodes);
      withExtra.add(extra);
      awaitSafe(withExtra);
      double joinS = (System.nanoTime() - tj) / 1e9;
      afterMembershipChange();
      Snapshot joined = Snapshot.take(withExtra, cc);
      long migJoin = cc.migrations.get() - mig0;
      double joinWin = (joined.nanos() - beforeJoin.nanos()) / 1e9;
      System.out.printf("RESULT join ready_and_safe_s=%.1f window_s=%.1f replica_migrations=%d hz_operations=%d net_of_quiet=%d hz_events=%d net_of_quiet=%d subs_entries_delta=%d bus_messages=%d%n",
          joinS, joinWin, migJoin, joined.hzOps - beforeJoin.hzOps,
          Math.round(joined.hzOps - beforeJoin.hzOps - Snapshot.quietOps * joinWin), joined.hzEvents - beforeJoin.hzEvents,
          Math.round(joined.hzEvents - beforeJoin.hzEvents - Snapshot.quietEvents * joinWin),
          joined.structures.get("__vertx.subs entries") - beforeJoin.structures.get("__vertx.subs entries"),
          joined.inAll - beforeJoin.inAll);
      Peer onExtra = null;
      if (extraSubs > 0) {
        onExtra = new Peer(vertx, extra.port(), "extra", Tokens.user("scale-extra", ns + ":*"));
        for (int t = 0; t < extraSubs; t++) {
          onExtra.subscribe(ns + ":m" + (t % topics));
        }
        awaitAll(Map.of(onExtra, extraSubs));
        settle();
        Snapshot extraSubscribed = Snapshot.take(withExtra, cc);
        long regs = extraSubscribed.structures.get("__vertx.subs entries") - joined.structures.get("__vertx.subs entries");
        System.out.printf("RESULT extra_subscribe subscriptions=%d registrations=%d hz_events=%d per_registration=%.2f (members: %d)%n",
            extraSubs, regs, extraSubscribed.hzEvents - joined.hzEvents,
            (extraSubscribed.hzEvents - joined.hzEvents) / (double) Math.max(1, regs), nodesN + 1);
        joined = extraSubscribed;
      }
      long mig1 = cc.migrations.get();
      long tl = System.nanoTime();
      // counted on the members that stay: what the departure costs them
      long opsBeforeLeave = ClusterCounts.hzOperations(nodes);
      long evBeforeLeave = ClusterCounts.hzEvents(nodes);
      long subsBeforeLeave = joined.structures.get("__vertx.subs entries");
      TestNode.stop(extra);
      awaitSafe(nodes);
      double leaveS = (System.nanoTime() - tl) / 1e9;
      afterMembershipChange();
      Snapshot left = Snapshot.take(nodes, cc);
      double leaveWin = (left.nanos() - tl) / 1e9;
      System.out.printf("RESULT leave registrations_before=%d (each remaining member reads them all and re-puts its own)%n", subsBeforeLeave);
      System.out.printf("RESULT leave gone_and_safe_s=%.1f window_s=%.1f replica_migrations=%d hz_operations_on_remaining=%d net_of_quiet=%d hz_events_on_remaining=%d net_of_quiet=%d subs_entries_delta=%d%n",
          leaveS, leaveWin, cc.migrations.get() - mig1, left.hzOps - opsBeforeLeave,
          Math.round(left.hzOps - opsBeforeLeave - Snapshot.quietOps * leaveWin), left.hzEvents - evBeforeLeave,
          Math.round(left.hzEvents - evBeforeLeave - Snapshot.quietEvents * leaveWin),
          left.structures.get("__vertx.subs entries") - subsBeforeLeave);

      // everyone leaves: what stays behind (histories and epochs stay by design, until their TTL)
      peers.stream().flatMap(List::stream).forEach(Peer::close);
      Thread.sleep(3000);
      Snapshot closed = Snapshot.take(nodes, cc);
      closed.print("all closed", left, 1, "");
    } finally {
      TestNode.stop(nodes.toArray(new Node[0]));
      vertx.close();
    }
    System.exit(0);
  }

  static Map<String, String> limits() {
    Map<String, String> env = new HashMap<>();
    env.put("SB_RATE_PER_SEC", "1000000");
    env.put("SB_RATE_BURST", "1000000");
    env.put("SB_CONNECT_RATE_PER_IP", "1000000");
    env.put("SB_LIMITS_MAX_SUBSCRIPTIONS", "1000000");
    env.put("SB_HTTP_EVENT_LOOPS", "1");
    env.put("SB_OUTBOUND_QUEUE_BYTES", "67108864");
    return env;
  }

  /** A node joining the running cluster (its member list: every current member plus itself). */
  static Node join(List<Node> nodes, Map<String, String> env, String id) {
    int port = TestNode.freePort();
    String members = nodes.get(0).context().cluster().getHazelcastInstance().getCluster().getMembers().stream()
        .map(Member::getAddress).map(a -> a.getHost() + ":" + a.getPort()).collect(Collectors.joining(","));
    Map<String, String> o = new HashMap<>(env);
    o.put("SB_CLUSTER_PORT", String.valueOf(port));
    o.put("SB_CLUSTER_MEMBERS", members + ",127.0.0.1:" + port);
    o.put("SB_NODE_ID", id);
    return TestNode.start(o);
  }

  static void awaitSafe(List<Node> nodes) throws InterruptedException {
    long deadline = System.nanoTime() + PHASE.toNanos();
    for (Node n : nodes) {
      while (!n.context().cluster().getHazelcastInstance().getPartitionService().isClusterSafe()) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("cluster not safe within " + PHASE);
        }
        Thread.sleep(20);
      }
    }
  }

  static void awaitAll(Map<Peer, Integer> asked) {
    for (Map.Entry<Peer, Integer> e : asked.entrySet()) {
      if (!e.getKey().awaitAnswers(e.getValue(), PHASE)) {
        throw new IllegalStateException(e.getKey().name + ": " + e.getKey().answers() + " of " + e.getValue() + " answered");
      }
      if (e.getKey().errors.get() > 0) {
        System.out.println("  errors on " + e.getKey().name + ": " + e.getKey().errors.get() + " " + e.getKey().lastError);
      }
    }
  }

  /**
   * Waits out what every node does after a membership change: it writes back its devices and
   * presence records 1, 3 and 10 s after the change (Directory.REASSERT_AFTER_MS), so the count
   * covers all three rounds.
   */
  static void afterMembershipChange() throws InterruptedException {
    Thread.sleep(12_000);
  }

  /** Lets asynchronous writes (presence, sessions saved every 2 s, registrations' events) land before counting. */
  static void settle() throws InterruptedException {
    Thread.sleep(2500);
  }

  /** One reading of every counter. */
  record Snapshot(Map<String, Long> structures, long hzOps, long hzEvents, long inTopic, long inTopicRemote, long inAll, long nanos) {
    /** Hazelcast operations and events per second of the cluster at rest (heartbeats, probes, sweeps), measured once. */
    static double quietOps;
    static double quietEvents;

    static Snapshot take(List<Node> nodes, ClusterCounts cc) {
      String first = nodes.get(0).nodeId();
      long remote = 0;
      for (Map.Entry<String, Map<String, java.util.concurrent.atomic.LongAdder>> e : cc.inbound.entrySet()) {
        if (!e.getKey().equals(first)) {
          java.util.concurrent.atomic.LongAdder a = e.getValue().get("sb.t.*");
          remote += a == null ? 0 : a.sum();
        }
      }
      Map<String, Long> st = ClusterCounts.structures(nodes.get(0));
      st.putAll(ClusterCounts.memory(nodes));
      return new Snapshot(st, ClusterCounts.hzOperations(nodes),
          ClusterCounts.hzEvents(nodes), ClusterCounts.sum(cc.inbound, "sb.t.*"), remote, ClusterCounts.sumAll(cc.inbound), System.nanoTime());
    }

    void print(String phase, Snapshot before, long units, String unit) {
      StringBuilder sb = new StringBuilder("RESULT " + phase);
      for (Map.Entry<String, Long> e : structures.entrySet()) {
        long d = before == null ? e.getValue() : e.getValue() - before.structures.get(e.getKey());
        sb.append(String.format(" [%s]=%d", e.getKey().replace(' ', '_'), d));
        if (before != null && units > 1 && d != 0) {
          sb.append(String.format("(%.2f)", d / (double) units));
        }
      }
      if (before != null) {
        double secs = (nanos - before.nanos) / 1e9;
        long ops = hzOps - before.hzOps;
        long netOps = Math.round(ops - quietOps * secs);
        long evs = hzEvents - before.hzEvents;
        long netEvs = Math.round(evs - quietEvents * secs);
        sb.append(String.format(" seconds=%.1f hz_operations=%d net_of_quiet=%d", secs, ops, netOps));
        if (units > 1) {
          sb.append(String.format("(%.2f)", netOps / (double) units));
        }
        sb.append(String.format(" hz_events=%d net_of_quiet=%d", evs, netEvs));
        if (units > 1) {
          sb.append(String.format("(%.2f)", netEvs / (double) units));
        }
        sb.append(String.format(" bus_messages_in=%d", inAll - before.inAll));
        if (units > 1) {
          sb.append(String.format("(%.2f) %s [units=%d]", (inAll - before.inAll) / (double) units, unit, units));
        }
      }
      System.out.println(sb);
    }
  }
}
