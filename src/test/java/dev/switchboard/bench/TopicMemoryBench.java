package dev.switchboard.bench;

import com.hazelcast.core.HazelcastInstance;
import dev.switchboard.Node;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.topics.Subscriber;
import dev.switchboard.topics.TopicEvent;
import dev.switchboard.topics.TopicHub;
import io.vertx.core.Future;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Cluster memory per topic (not a test; run by bench/topic-memory.sh), counted, not timed. Two real
 * nodes in this JVM (loopback, ephemeral ports); N fresh topics of a namespace like {@code chat}
 * (history 1,000) but with a short history time-to-live, each subscribed on both nodes, no event
 * published: what the cluster holds per idle topic (see {@link ClusterMemory}). Then one event is
 * published to each, every subscription ends and the history time-to-live passes: what the cluster
 * still holds per topic nobody uses any more. JVM heap after full GC (both nodes, node-local state included) as a
 * cross-check.
 */
public final class TopicMemoryBench {
  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
    int ttl = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    Path conf = Files.createTempFile("sb-topic-memory", ".json");
    Files.writeString(conf, "{\"namespaces\":{\"mem\":{\"history_size\":1000,\"history_ttl_s\":" + ttl
        + ",\"presence\":false,\"join_leave\":false}}}");
    Map<String, String> env = new HashMap<>();
    env.put("SB_CONF", conf.toString());
    List<Node> nodes = TestNode.cluster(2, env);
    List<HazelcastInstance> members = nodes.stream().map(x -> x.context().cluster().getHazelcastInstance()).toList();
    try {
      ClusterMemory.Snapshot empty = ClusterMemory.of(members);
      long heap0 = heapAfterGc();
      String run = Long.toString(System.nanoTime(), 36);
      List<List<Subscriber>> subs = new ArrayList<>();
      for (Node node : nodes) {
        subs.add(new ArrayList<>());
      }
      for (int i = 0; i < n; i += 200) {
        List<Future<?>> batch = new ArrayList<>();
        for (int k = i; k < Math.min(n, i + 200); k++) {
          String topic = "mem:" + run + "-" + k;
          for (int j = 0; j < nodes.size(); j++) {
            Node node = nodes.get(j);
            Subscriber s = new dev.switchboard.topics.IdleSubscriber(node.context().vertx().getOrCreateContext(), "c" + j + "-" + k);
            subs.get(j).add(s);
            batch.add(node.context().topics().subscribe(s, topic, null, null, r -> { }));
          }
        }
        Future.all(batch).await(120, TimeUnit.SECONDS);
      }
      // the tail checks of a topic just opened run 100 ms and 1 s after it opened
      Thread.sleep(1500);
      ClusterMemory.Snapshot idle = ClusterMemory.of(members);
      long heap1 = heapAfterGc();
      report("idle", n, empty, idle, heap1 - heap0);
      // one event each (from node 1): every topic now has a history, which then expires
      for (int i = 0; i < n; i += 200) {
        List<Future<?>> batch = new ArrayList<>();
        for (int k = i; k < Math.min(n, i + 200); k++) {
          batch.add(nodes.get(0).context().topics().publish("mem:" + run + "-" + k,
              com.fasterxml.jackson.databind.node.IntNode.valueOf(k), null));
        }
        Future.all(batch).await(120, TimeUnit.SECONDS);
      }
      ClusterMemory.Snapshot used = ClusterMemory.of(members);
      report("one event each", n, empty, used, heapAfterGc() - heap0);
      for (int j = 0; j < nodes.size(); j++) {
        TopicHub hub = nodes.get(j).context().topics();
        for (int k = 0; k < n; k++) {
          hub.unsubscribe(subs.get(j).get(k), "mem:" + run + "-" + k);
        }
      }
      subs.clear();
      long until = System.currentTimeMillis() + (ttl + 2) * 1000L;
      for (Node node : nodes) {
        for (int k = n - 1; k >= 0; k--) {
          boolean open = node.context().topics().isOpen("mem:" + run + "-" + k).await(30, TimeUnit.SECONDS);
          if (open && System.currentTimeMillis() < until) {
            k++; // still closing: look again (bounded by the deadline)
            Thread.sleep(10);
          }
        }
      }
      Thread.sleep(Math.max(0, until - System.currentTimeMillis()));
      // then until the cluster holds no more than before the run, or three more time-to-lives passed
      long settle = System.currentTimeMillis() + 3L * Math.max(ttl, 1) * 1000 + 5000;
      ClusterMemory.Snapshot unused = ClusterMemory.of(members);
      while ((unused.ringContainers() > empty.ringContainers() || unused.epochEntries() > empty.epochEntries()
          || unused.ringProxies() > empty.ringProxies()) && System.currentTimeMillis() < settle) {
        Thread.sleep(500);
        unused = ClusterMemory.of(members);
      }
      long heap2 = heapAfterGc();
      report("unused", n, empty, unused, heap2 - heap0);
    } finally {
      TestNode.stop(nodes.toArray(new Node[0]));
    }
    System.exit(0);
  }

  private static void report(String what, int n, ClusterMemory.Snapshot before, ClusterMemory.Snapshot now, long heap) {
    System.out.println("RESULT " + what + ": " + n + " topics, 2 nodes: " + now);
    System.out.printf("RESULT %s per topic: ring %.0f B (%.2f containers), epoch %.0f B (%.2f entries), "
            + "__vertx.subs %.2f entries (%.0f B), ring proxies %.2f; total %.0f B; heap after GC (both nodes, node-local state too) %.0f B%n",
        what, (now.ringBytes() - before.ringBytes()) / (double) n, (now.ringContainers() - before.ringContainers()) / (double) n,
        (now.epochBytes() - before.epochBytes()) / (double) n, (now.epochEntries() - before.epochEntries()) / (double) n,
        (now.busEntries() - before.busEntries()) / (double) n, (now.busBytes() - before.busBytes()) / (double) n,
        (now.ringProxies() - before.ringProxies()) / (double) n, (now.totalBytes() - before.totalBytes()) / (double) n,
        heap / (double) n);
  }

  private static long heapAfterGc() throws InterruptedException {
    java.lang.management.MemoryMXBean m = ManagementFactory.getMemoryMXBean();
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 4; i++) {
      System.gc();
      Thread.sleep(100);
      used = Math.min(used, m.getHeapMemoryUsage().getUsed());
    }
    return used;
  }
}
