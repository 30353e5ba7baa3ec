package dev.switchboard.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A rolling join/leave of a third node while TOPICS topics are live (run by bench/rolling.sh): two
 * nodes in this JVM (real Hazelcast members and clustered event buses over loopback TCP), every
 * topic with one subscriber on each of them, publishers on both at RATE publications/s spread over
 * the topics. A third node joins, gets a publisher and subscribers on SAMPLE topics, then leaves
 * gracefully (a rolling restart's two steps). Every publication carries its send time; every
 * acknowledged (topic, offset) is checked at every subscriber of its topic at the end.
 *
 * <p>Reported per phase (before, join, with three, leave, after): publications acknowledged,
 * deliveries expected / received / never received (lost) / later than 1 s (late, mostly gap fills
 * from history), p99 and max latency, and the convergence times: from the join (or leave) start to
 * the send time of the last publication that was lost or late.
 *
 * <p>Usage: RollingJoin [TOPICS=10000] [RATE=1000] [SAMPLE=1000] [STEADY_S=15]
 */
public final class RollingJoin {
  private static final long LATE_NS = 1_000_000_000L;

  record Delivery(String topic, long offset, long sentNanos, long latencyNanos, int node, int from) {
  }

  public static void main(String[] args) throws Exception {
    int topics = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int rate = args.length > 1 ? Integer.parseInt(args[1]) : 1000;
    int sample = args.length > 2 ? Integer.parseInt(args[2]) : 1000;
    int steadyS = args.length > 3 ? Integer.parseInt(args[3]) : 15;
    int connsPerNode = 50;
    Map<String, String> env = ScaleModel.limits();
    List<Node> nodes = TestNode.cluster(2, env);
    Vertx vertx = Vertx.vertx();
    ConcurrentLinkedQueue<Delivery> deliveries = new ConcurrentLinkedQueue<>();
    // topic -> the peers subscribed to it, with the window (nanoTime) in which their subscription counts
    Map<String, List<Sub>> subsOf = new HashMap<>();
    List<Peer> all = new ArrayList<>();
    Node third = null;
    try {
      long tSub = System.nanoTime();
      for (int n = 0; n < 2; n++) {
        List<Peer> onNode = new ArrayList<>();
        for (int c = 0; c < connsPerNode; c++) {
          Peer p = peer(vertx, nodes.get(n), "n" + (n + 1) + "c" + c, n + 1, deliveries);
          onNode.add(p);
          all.add(p);
        }
        Map<Peer, Integer> asked = new HashMap<>();
        for (int t = 0; t < topics; t++) {
          Peer p = onNode.get(t % connsPerNode);
          p.subscribe(topic(t));
          asked.merge(p, 1, Integer::sum);
          subsOf.computeIfAbsent(topic(t), k -> new ArrayList<>()).add(new Sub(p, 0, Long.MAX_VALUE));
        }
        ScaleModel.awaitAll(asked);
      }
      long registrations = nodes.get(0).context().cluster().getHazelcastInstance().getMultiMap("__vertx.subs").size();
      System.out.printf("RESULT rolling setup topics=%d subscriptions=%d subscribe_s=%.1f vertx_subs_entries=%d%n",
          topics, 2 * topics, (System.nanoTime() - tSub) / 1e9, registrations);

      List<Peer> publishers = new ArrayList<>(List.of(
          peer(vertx, nodes.get(0), "pub1", 1, deliveries), peer(vertx, nodes.get(1), "pub2", 2, deliveries)));
      AtomicBoolean run = new AtomicBoolean(true);
      Thread loop = new Thread(() -> publishLoop(publishers, topics, rate, run), "rolling-publisher");
      long t0 = System.nanoTime();
      loop.start();
      Thread.sleep(steadyS * 1000L);

      // join
      long joinStart = System.nanoTime();
      third = ScaleModel.join(nodes, env, "n3");
      long joinReady = System.nanoTime();
      List<Node> three = new ArrayList<>(nodes);
      three.add(third);
      ScaleModel.awaitSafe(three);
      long joinSafe = System.nanoTime();
      Peer pub3 = peer(vertx, third, "pub3", 3, deliveries);
      synchronized (publishers) {
        publishers.add(pub3);
      }
      List<Peer> on3 = new ArrayList<>();
      Map<Peer, Integer> asked3 = new HashMap<>();
      for (int c = 0; c < 10; c++) {
        Peer p = peer(vertx, third, "n3c" + c, 3, deliveries);
        on3.add(p);
        all.add(p);
      }
      for (int t = 0; t < sample; t++) {
        Peer p = on3.get(t % on3.size());
        p.subscribe(topic(t * (topics / sample)));
        asked3.merge(p, 1, Integer::sum);
      }
      ScaleModel.awaitAll(asked3);
      long sub3Done = System.nanoTime();
      for (int t = 0; t < sample; t++) {
        Peer p = on3.get(t % on3.size());
        subsOf.get(topic(t * (topics / sample))).add(new Sub(p, sub3Done, Long.MAX_VALUE));
      }
      System.out.printf("RESULT rolling join node_ready_s=%.2f partitions_safe_s=%.2f third_node_subscribed_%d_s=%.2f%n",
          (joinReady - joinStart) / 1e9, (joinSafe - joinStart) / 1e9, sample, (sub3Done - joinStart) / 1e9);
      Thread.sleep(steadyS * 1000L);

      // leave (graceful: what a rolling restart does)
      long leaveStart = System.nanoTime();
      synchronized (publishers) {
        publishers.remove(pub3);
      }
      for (List<Sub> l : subsOf.values()) {
        // the third node's subscribers are held to publications sent up to 1 s before it starts leaving
        l.replaceAll(s -> s.node() == 3 ? new Sub(s.peer(), s.from(), leaveStart - 1_000_000_000L) : s);
      }
      TestNode.stop(third);
      long leaveDone = System.nanoTime();
      ScaleModel.awaitSafe(nodes);
      long leaveSafe = System.nanoTime();
      third = null;
      System.out.printf("RESULT rolling leave node_closed_s=%.2f partitions_safe_s=%.2f%n",
          (leaveDone - leaveStart) / 1e9, (leaveSafe - leaveStart) / 1e9);
      Thread.sleep(steadyS * 1000L);
      run.set(false);
      loop.join(5000);
      long tEnd = System.nanoTime();
      Thread.sleep(5000); // drain, and the subscribers' gap fills from history
      report(t0, joinStart, leaveStart, tEnd, publishers, pub3, subsOf, deliveries);
    } finally {
      all.forEach(Peer::close);
      if (third != null) {
        TestNode.stop(third);
      }
      TestNode.stop(nodes.toArray(new Node[0]));
      vertx.close();
    }
    System.exit(0);
  }

  record Sub(Peer peer, long from, long until) {
    int node() {
      return peer.name.startsWith("n3") ? 3 : 0;
    }
  }

  static String topic(int t) {
    return "bench:r" + t;
  }

  static Peer peer(Vertx vertx, Node node, String name, int nodeNo, ConcurrentLinkedQueue<Delivery> out) {
    Peer p = new Peer(vertx, node.port(), name, Tokens.user("roll-" + name, "bench:*"));
    p.hook = (topic, offset, data, now) -> {
      long sent = data.path("t").asLong();
      out.add(new Delivery(topic, offset, sent, now - sent, nodeNo, data.path("p").asInt()));
    };
    return p;
  }

  /** RATE publications/s over the topics, round-robin over the publishers alive, paced every 5 ms. */
  static void publishLoop(List<Peer> publishers, int topics, int rate, AtomicBoolean run) {
    long start = System.nanoTime();
    long sent = 0;
    int k = 0;
    while (run.get()) {
      long due = (System.nanoTime() - start) * rate / 1_000_000_000L;
      while (sent < due) {
        Peer p;
        synchronized (publishers) {
          p = publishers.get((int) (sent % publishers.size()));
        }
        ObjectNode data = WsClient.params().put("t", System.nanoTime()).put("p", p.name.charAt(p.name.length() - 1) - '0');
        p.publish(topic(k++ % topics), data);
        sent++;
      }
      java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
    }
  }

  static void report(long t0, long joinStart, long leaveStart, long tEnd, List<Peer> publishers, Peer pub3,
      Map<String, List<Sub>> subsOf, ConcurrentLinkedQueue<Delivery> deliveries) {
    List<Peer> pubs = new ArrayList<>(publishers);
    if (!pubs.contains(pub3)) {
      pubs.add(pub3);
    }
    // what each subscriber got: peer -> topic -> offsets, from the peers' own sets
    String[] phases = {"before", "join+three", "leave+after"};
    long[] bounds = {t0, joinStart, leaveStart, tEnd};
    long[] acked = new long[3];
    long[] expected = new long[3];
    long[] lost = new long[3];
    long lastBadJoin = -1;
    long lastBadLeave = -1;
    Map<String, Map<Long, Long>> sentAt = new HashMap<>();
    long errors = 0;
    for (Peer p : pubs) {
      errors += p.errors.get();
      for (Map.Entry<String, Map<Long, Long>> e : p.acked.entrySet()) {
        sentAt.computeIfAbsent(e.getKey(), k -> new HashMap<>()).putAll(e.getValue());
      }
    }
    for (Map.Entry<String, Map<Long, Long>> e : sentAt.entrySet()) {
      for (Map.Entry<Long, Long> o : e.getValue().entrySet()) {
        long sent = o.getValue();
        int ph = sent < joinStart ? 0 : sent < leaveStart ? 1 : 2;
        acked[ph]++;
        for (Sub s : subsOf.get(e.getKey())) {
          if (sent < s.from() || sent >= s.until()) {
            continue;
          }
          expected[ph]++;
          java.util.Set<Long> got = s.peer().received.get(e.getKey());
          if (got == null || !got.contains(o.getKey())) {
            lost[ph]++;
            if (ph == 1) {
              lastBadJoin = Math.max(lastBadJoin, sent);
            } else if (ph == 2) {
              lastBadLeave = Math.max(lastBadLeave, sent);
            }
          }
        }
      }
    }
    long[][] lat = new long[3][];
    long[] late = new long[3];
    Map<String, Long> lateBy = new java.util.TreeMap<>();
    long[] firstLate = {Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE};
    List<List<Long>> byPhase = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
    for (Delivery d : deliveries) {
      if (d.sentNanos() < t0 || d.sentNanos() >= tEnd) {
        continue;
      }
      int ph = d.sentNanos() < joinStart ? 0 : d.sentNanos() < leaveStart ? 1 : 2;
      byPhase.get(ph).add(d.latencyNanos());
      if (d.latencyNanos() > LATE_NS) {
        late[ph]++;
        lateBy.merge(phases[ph] + " from node " + d.from() + " to node " + d.node(), 1L, Long::sum);
        firstLate[ph] = Math.min(firstLate[ph], d.sentNanos());
        if (ph == 1) {
          lastBadJoin = Math.max(lastBadJoin, d.sentNanos());
        } else if (ph == 2) {
          lastBadLeave = Math.max(lastBadLeave, d.sentNanos());
        }
      }
    }
    for (int i = 0; i < 3; i++) {
      long[] a = byPhase.get(i).stream().mapToLong(Long::longValue).sorted().toArray();
      lat[i] = a;
      System.out.printf("RESULT rolling phase=%s seconds=%.1f publications_acked=%d deliveries_expected=%d received=%d lost=%d late_over_1s=%d p50_ms=%.1f p99_ms=%.1f max_ms=%.1f%n",
          phases[i], (bounds[i + 1] - bounds[i]) / 1e9, acked[i], expected[i], a.length, lost[i], late[i],
          pct(a, 0.50), pct(a, 0.99), a.length == 0 ? 0 : a[a.length - 1] / 1e6);
    }
    lateBy.forEach((k, v) -> System.out.printf("RESULT rolling late_over_1s %s: %d%n", k, v));
    if (firstLate[1] != Long.MAX_VALUE) {
      System.out.printf("RESULT rolling first_late_after_join_s=%.2f%n", (firstLate[1] - joinStart) / 1e9);
    }
    System.out.printf("RESULT rolling converged_after_join_s=%s converged_after_leave_s=%s publish_errors=%d (converged: the last publication lost or later than 1 s, from the start of the join / leave; 0 when none)%n",
        lastBadJoin < 0 ? "0" : String.format("%.2f", (lastBadJoin - joinStart) / 1e9),
        lastBadLeave < 0 ? "0" : String.format("%.2f", (lastBadLeave - leaveStart) / 1e9), errors);
  }

  static double pct(long[] sorted, double q) {
    if (sorted.length == 0) {
      return 0;
    }
    return sorted[Math.min(sorted.length - 1, (int) (sorted.length * q))] / 1e6;
  }
}
