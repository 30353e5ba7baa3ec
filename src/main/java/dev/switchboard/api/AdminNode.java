package dev.switchboard.api;

import dev.switchboard.NodeContext;
import dev.switchboard.cluster.Addresses;
import dev.switchboard.protocol.CloseCode;
import dev.switchboard.routing.Client;
import dev.switchboard.topics.TopicStats;
import io.vertx.core.Future;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * One node's side of the admin API: answers, for this node only, the queries and actions of
 * {@link Addresses#admin} (its figures, open topics, a topic's local subscribers, a user's local
 * connections, its worker's operations; disconnects and the drain). Input was checked by
 * {@link AdminActions} on the asking node; what arrives here is trusted cluster traffic, read
 * defensively all the same. Nothing here blocks: every figure is local, the topic ones come from
 * the hub's context and the operations from the worker's.
 */
public final class AdminNode {
  private final NodeContext node;

  private AdminNode(NodeContext node) {
    this.node = node;
  }

  /** On every node, whatever its role: the cluster overview lists data nodes too. */
  public static Future<Void> register(NodeContext node) {
    AdminNode a = new AdminNode(node);
    return node.vertx().eventBus().<JsonObject>consumer(Addresses.admin(node.nodeId()), a::serve).completion();
  }

  private void serve(Message<JsonObject> m) {
    JsonObject q = m.body() == null ? new JsonObject() : m.body();
    Future<JsonObject> answer = switch (q.getString("q", "")) {
      case "figures" -> Future.succeededFuture(figures(node));
      case "topics" -> topics(q);
      case "subscribers" -> subscribers(q);
      case "connections" -> Future.succeededFuture(connections(q.getString("user", "")));
      case "ops" -> node.ops() == null ? Future.succeededFuture(new JsonObject().put("ops", new JsonArray()))
          : node.ops().hub().worker().snapshot().map(l -> new JsonObject().put("ops", new JsonArray(l)));
      case "disconnect" -> Future.succeededFuture(disconnect(q));
      case "drain" -> Future.succeededFuture(new JsonObject().put("draining", true));
      default -> null;
    };
    if (answer == null) {
      m.fail(400, "unknown query");
      return;
    }
    answer.onComplete(ar -> {
      if (ar.succeeded()) {
        m.reply(ar.result().put("node_id", node.nodeId()));
        if ("drain".equals(q.getString("q"))) {
          node.drain(); // after the answer: the drain closes this node's event bus at its end
        }
      } else {
        m.fail(500, "INTERNAL");
      }
    });
  }

  /** This node's figures: what the cluster overview and {@code $sys:nodes} show for it. */
  static JsonObject figures(NodeContext node) {
    Runtime rt = Runtime.getRuntime();
    long now = System.currentTimeMillis();
    var worker = node.ops() == null ? null : node.ops().hub().worker();
    int running = worker == null ? 0 : worker.running();
    int live = worker == null ? 0 : worker.live();
    return new JsonObject()
        .put("node_id", node.nodeId())
        .put("role", node.config().node().role().wire())
        .put("connections", node.local() == null ? 0 : node.local().size())
        .put("subscriptions", node.topics() == null ? 0 : node.topics().subscriptions())
        .put("topics_open", node.topics() == null ? 0 : node.topics().stats().open())
        .put("operations_running", running)
        .put("operations_queued", Math.max(0, live - running))
        .put("event_loop_delay_ms", Math.round(node.metrics().recentLoopDelayMs() * 10) / 10.0)
        .put("heap_used_bytes", rt.totalMemory() - rt.freeMemory())
        .put("heap_max_bytes", rt.maxMemory())
        .put("started_at", node.startedAt())
        .put("uptime_ms", now - node.startedAt())
        .put("draining", node.draining())
        .put("ready", node.ready())
        .put("ts", now);
  }

  private Future<JsonObject> topics(JsonObject q) {
    return node.topics().stats().list(q.getString("after"), q.getString("contains"), limit(q))
        .map(list -> {
          JsonArray out = new JsonArray();
          for (TopicStats.Figures f : list) {
            out.add(new JsonObject().put("topic", f.topic()).put("subscribers", f.subscribers())
                .put("offset", f.offset()).put("epoch", f.epoch()).put("per_second", f.perSecond()));
          }
          return new JsonObject().put("topics", out);
        });
  }

  private Future<JsonObject> subscribers(JsonObject q) {
    return node.topics().stats().subscribers(q.getString("topic", ""), limit(q)).map(list -> {
      JsonArray out = new JsonArray();
      for (TopicStats.Local s : list) {
        out.add(new JsonObject().put("conn", s.conn()).put("user", s.user()).put("device", s.device()));
      }
      return new JsonObject().put("subscribers", out);
    });
  }

  private static int limit(JsonObject q) {
    return Math.max(1, Math.min(AdminActions.MAX_LIMIT, q.getInteger("limit", AdminActions.MAX_LIMIT)));
  }

  private JsonObject connections(String user) {
    JsonArray out = new JsonArray();
    for (Client c : node.local().ofUser(user)) {
      out.add(new JsonObject().put("conn", c.connectionId()).put("device", c.deviceId()).put("session", c.sessionId())
          .put("connected_at", c.connectedAt()).put("queue_bytes", c.queuedBytes()));
    }
    return new JsonObject().put("connections", out);
  }

  /** Closes the named connection, or all of a user's, here; the code was checked (4000-4999) by the asker. */
  private JsonObject disconnect(JsonObject q) {
    int code = q.getInteger("code", (int) CloseCode.DISCONNECTED.code());
    if (code < CloseCode.ADMIN_MIN || code > CloseCode.ADMIN_MAX) {
      code = CloseCode.DISCONNECTED.code();
    }
    String reason = q.getString("reason", CloseCode.DISCONNECTED.reason());
    List<Client> targets;
    if (q.containsKey("conn")) {
      Client c = node.local().get(q.getString("conn"));
      targets = c == null || c.isClosing() ? List.of() : List.of(c);
    } else {
      targets = node.local().ofUser(q.getString("user", ""));
    }
    for (Client c : targets) {
      c.close(CloseCode.DISCONNECTED, code, reason);
    }
    return new JsonObject().put("disconnected", targets.size());
  }
}
