package dev.switchboard.api;

import dev.switchboard.NodeContext;
import dev.switchboard.cluster.Addresses;
import io.vertx.core.Future;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * Asks every node of the cluster one admin query ({@link Addresses#admin}) and collects what arrives
 * within the gather timeout ({@code admin.gather_timeout_ms}). A node that does not answer in time
 * (frozen, overloaded, leaving) or cannot be reached is listed, not waited for: a request never
 * hangs on one node. The nodes asked are those in the cluster's node list whose Hazelcast member is
 * still in the cluster (Directory#nodes).
 */
final class AdminGather {
  /** What the nodes answered, and the ids of those that did not. */
  record Gathered(List<JsonObject> answers, List<String> silent) {
  }

  private final NodeContext node;
  private final long timeoutMs;

  AdminGather(NodeContext node) {
    this.node = node;
    this.timeoutMs = node.config().admin().gatherTimeoutMs();
  }

  Future<Gathered> all(JsonObject query) {
    return node.directory().nodes().compose(nodes -> {
      List<String> ids = new ArrayList<>();
      for (Object o : nodes) {
        String id = ((JsonObject) o).getString("node_id");
        if (id != null && !ids.contains(id)) {
          ids.add(id);
        }
      }
      if (!ids.contains(node.nodeId())) {
        ids.add(node.nodeId()); // not announced yet (starting) or withdrawn: this node still answers for itself
      }
      return some(ids, query);
    });
  }

  /** Asks the listed nodes. */
  Future<Gathered> some(List<String> ids, JsonObject query) {
    DeliveryOptions opts = new DeliveryOptions().setSendTimeout(timeoutMs);
    List<Future<JsonObject>> asks = new ArrayList<>();
    for (String id : ids) {
      asks.add(node.vertx().eventBus().<JsonObject>request(Addresses.admin(id), query.copy(), opts).map(m -> m.body()));
    }
    return Future.join(asks).transform(x -> {
      List<JsonObject> answers = new ArrayList<>();
      List<String> silent = new ArrayList<>();
      for (int i = 0; i < ids.size(); i++) {
        Future<JsonObject> f = asks.get(i);
        if (f.succeeded() && f.result() != null) {
          answers.add(f.result());
        } else {
          silent.add(ids.get(i));
        }
      }
      return Future.succeededFuture(new Gathered(answers, silent));
    });
  }

  /** Asks one node; fails when it does not answer in time. */
  Future<JsonObject> one(String id, JsonObject query) {
    return node.vertx().eventBus().<JsonObject>request(Addresses.admin(id), query,
        new DeliveryOptions().setSendTimeout(timeoutMs)).map(m -> m.body());
  }
}
