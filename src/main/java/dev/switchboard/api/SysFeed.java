package dev.switchboard.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.NodeContext;
import dev.switchboard.cluster.Addresses;
import dev.switchboard.protocol.Json;
import dev.switchboard.topics.TopicNames;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Live figures without polling every node: each node publishes its own figures on the reserved
 * topics {@code $sys:nodes} (what the cluster overview shows for it) and {@code $sys:ops} (its
 * worker's running operations), once per {@code admin.live_interval_ms}, through the ordinary topic
 * machinery (offsets, history, fan-out), and only while someone subscribes.
 *
 * <p>Who subscribes is known cheaply: a node that has subscribers of a {@code $sys:} topic (its hub
 * holds the topic open: a local map look-up) says so once per interval on {@link Addresses#SYS_WATCH};
 * every node publishes to a topic only while such a word is less than {@link #WATCH_INTERVALS}
 * intervals old. With no subscriber anywhere, a tick is two local look-ups and nothing goes on the
 * bus or into Hazelcast. All state is confined to the context the feed started on.
 */
public final class SysFeed {
  private static final Logger LOG = LoggerFactory.getLogger(SysFeed.class);
  /** How many intervals a watch word keeps a topic published (covers a late or lost word or two). */
  static final int WATCH_INTERVALS = 3;
  /** Most operations one node lists in one {@code $sys:ops} publication ({@code count} says how many run). */
  static final int MAX_OPS = 200;
  private static final List<String> TOPICS = List.of(TopicNames.SYS_NODES, TopicNames.SYS_OPS);

  private final NodeContext node;
  private final long intervalMs;
  /** Topic → until when (ms) it is watched somewhere. */
  private final Map<String, Long> watchedUntil = new HashMap<>();

  private SysFeed(NodeContext node) {
    this.node = node;
    this.intervalMs = node.config().admin().liveIntervalMs();
  }

  /** Starts the feed on a context of its own; completes once the watch consumer is registered. */
  public static Future<Void> start(NodeContext node) {
    SysFeed f = new SysFeed(node);
    io.vertx.core.Promise<Void> ready = io.vertx.core.Promise.promise();
    node.vertx().getOrCreateContext().runOnContext(v -> {
      node.vertx().eventBus().<JsonArray>consumer(Addresses.SYS_WATCH, m -> f.watched(m.body())).completion()
          .onComplete(ready);
      node.vertx().setPeriodic(f.intervalMs, id -> f.tick());
    });
    return ready.future();
  }

  private void watched(JsonArray topics) {
    long until = System.currentTimeMillis() + WATCH_INTERVALS * intervalMs;
    for (Object t : topics == null ? new JsonArray() : topics) {
      if (TOPICS.contains(String.valueOf(t))) {
        watchedUntil.merge(String.valueOf(t), until, Math::max);
      }
    }
  }

  private void tick() {
    if (node.topics() == null) {
      return;
    }
    node.metrics().sysFeedTick();
    var stats = node.topics().stats();
    Future<Boolean> nodes = stats.followed(TopicNames.SYS_NODES);
    Future<Boolean> ops = stats.followed(TopicNames.SYS_OPS);
    io.vertx.core.Context feed = node.vertx().getOrCreateContext(); // the hub answers on its own context: back here
    Future.all(nodes, ops).onSuccess(x -> feed.runOnContext(v -> {
      JsonArray here = new JsonArray();
      if (nodes.result()) {
        here.add(TopicNames.SYS_NODES);
      }
      if (ops.result()) {
        here.add(TopicNames.SYS_OPS);
      }
      if (!here.isEmpty()) {
        watched(here); // this node's own word counts at once
        node.vertx().eventBus().publish(Addresses.SYS_WATCH, here);
      }
      long now = System.currentTimeMillis();
      if (watchedUntil.getOrDefault(TopicNames.SYS_NODES, 0L) > now) {
        publish(TopicNames.SYS_NODES, Future.succeededFuture(AdminNode.figures(node)));
      }
      if (watchedUntil.getOrDefault(TopicNames.SYS_OPS, 0L) > now && node.ops() != null) {
        publish(TopicNames.SYS_OPS, node.ops().hub().worker().snapshot().map(list -> new JsonObject()
            .put("node_id", node.nodeId()).put("count", list.size()).put("ts", System.currentTimeMillis())
            .put("ops", new JsonArray(list.size() > MAX_OPS ? list.subList(0, MAX_OPS) : list))));
      }
      watchedUntil.values().removeIf(until -> until <= now);
    }));
  }

  private void publish(String topic, Future<JsonObject> figures) {
    figures.compose(f -> {
      JsonNode data;
      try {
        data = Json.MAPPER.readTree(f.encode());
      } catch (Exception e) {
        return Future.failedFuture(e);
      }
      return node.topics().publishSystem(topic, data, node.nodeId());
    }).onSuccess(p -> node.metrics().sysPublished()).onFailure(err -> LOG.atDebug().addKeyValue("topic", topic)
        .log("live figures not published: {}", String.valueOf(err.getMessage())));
  }
}
