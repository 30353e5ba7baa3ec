package dev.switchboard.bench;

import dev.switchboard.Node;
import dev.switchboard.testsupport.TestNode;
import io.vertx.core.Future;
import io.vertx.core.eventbus.MessageConsumer;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * Heap of one clustered event-bus registration (run by bench/subs-entry-size.sh): on one node,
 * K clustered consumers on K addresses shaped like topic addresses, against K local consumers
 * (no Hazelcast entry) in the same JVM; live heap after a full GC before and after each, divided
 * by K. The difference is what a registration costs in Hazelcast (one copy: a single member has
 * no backup) plus the node's own bookkeeping of a clustered registration. Hazelcast reports no
 * memory for a MultiMap, which is why this is measured this way.
 *
 * <p>Usage: SubsEntrySize [K=20000]
 */
public final class SubsEntrySize {
  public static void main(String[] args) throws Exception {
    int k = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    Node node = TestNode.start();
    try {
      var bus = node.context().vertx().eventBus();
      long base = liveHeap();
      List<MessageConsumer<Object>> local = new ArrayList<>();
      for (int i = 0; i < k; i++) {
        local.add(bus.localConsumer("sb.t.chat:local-size-" + i, m -> { }));
      }
      long withLocal = liveHeap();
      List<Future<Void>> done = new ArrayList<>();
      List<MessageConsumer<Object>> clustered = new ArrayList<>();
      for (int i = 0; i < k; i++) {
        MessageConsumer<Object> c = bus.consumer("sb.t.chat:clustered-size-" + i, m -> { });
        clustered.add(c);
        done.add(c.completion());
      }
      Future.all(done).await(120, java.util.concurrent.TimeUnit.SECONDS);
      long entries = node.context().cluster().getHazelcastInstance().getMultiMap("__vertx.subs").size();
      long withClustered = liveHeap();
      double localB = (withLocal - base) / (double) k;
      double clusteredB = (withClustered - withLocal) / (double) k;
      System.out.printf("RESULT subs_entry_size k=%d subs_entries=%d local_consumer_bytes=%.0f clustered_consumer_bytes=%.0f registration_bytes=%.0f (clustered - local, one copy)%n",
          k, entries, localB, clusteredB, clusteredB - localB);
      local.forEach(MessageConsumer::unregister);
      clustered.forEach(MessageConsumer::unregister);
    } finally {
      TestNode.stop(node);
    }
    System.exit(0);
  }

  static long liveHeap() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
