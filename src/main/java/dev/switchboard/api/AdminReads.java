package dev.switchboard.api;

import dev.switchboard.NodeContext;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.SwitchboardException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The admin API's reads, merged from every node's answer ({@link AdminGather}). Each answer lists
 * the nodes that did not answer in time ({@code not_answering}): what they hold is missing from it.
 */
final class AdminReads {
  private final NodeContext node;
  private final AdminGather gather;

  AdminReads(NodeContext node, AdminGather gather) {
    this.node = node;
    this.gather = gather;
  }

  /** {@code {nodes:[figures + answering], connections, not_answering}}: a silent node appears with {@code answering:false}. */
  Future<JsonObject> cluster() {
    return gather.all(new JsonObject().put("q", "figures")).map(g -> {
      TreeMap<String, JsonObject> byId = new TreeMap<>();
      int connections = 0;
      for (JsonObject a : g.answers()) {
        byId.put(a.getString("node_id"), a.put("answering", true));
        connections += a.getInteger("connections", 0);
      }
      for (String id : g.silent()) {
        byId.put(id, new JsonObject().put("node_id", id).put("answering", false));
      }
      return new JsonObject().put("nodes", new JsonArray(List.copyOf(byId.values()))).put("connections", connections)
          .put("not_answering", new JsonArray(g.silent()));
    });
  }

  /**
   * Topics open on any node, in name order after {@code cursor}, whose names contain {@code name}.
   * Each node returns its own first {@code limit} after the cursor; a topic beyond a node's first
   * {@code limit} comes after {@code limit} others in the merged order too, so summing the merged
   * first {@code limit} is exact. Offsets: the highest any node delivered; publications per second:
   * the highest any node saw (every node with subscribers receives every publication).
   */
  Future<JsonObject> topics(String cursor, String name, int limit) {
    JsonObject q = new JsonObject().put("q", "topics").put("after", cursor).put("contains", name).put("limit", limit);
    return gather.all(q).map(g -> {
      TreeMap<String, JsonObject> merged = new TreeMap<>();
      for (JsonObject a : g.answers()) {
        for (Object o : a.getJsonArray("topics", new JsonArray())) {
          JsonObject t = (JsonObject) o;
          JsonObject m = merged.computeIfAbsent(t.getString("topic"), k -> new JsonObject().put("topic", k)
              .put("subscribers", 0).put("offset", 0L).put("epoch", t.getString("epoch")).put("publications_per_s", 0L));
          m.put("subscribers", m.getInteger("subscribers") + t.getInteger("subscribers", 0));
          if (t.getLong("offset", 0L) >= m.getLong("offset")) {
            m.put("offset", t.getLong("offset", 0L)).put("epoch", t.getString("epoch"));
          }
          m.put("publications_per_s", Math.max(m.getLong("publications_per_s"), t.getLong("per_second", 0L)));
        }
      }
      JsonArray page = new JsonArray();
      String last = null;
      for (JsonObject t : merged.values()) {
        if (page.size() == limit) {
          break;
        }
        page.add(t);
        last = t.getString("topic");
      }
      // a full page may have more after it; a short one is the end
      return new JsonObject().put("topics", page).put("next_cursor", page.size() == limit ? last : null)
          .put("not_answering", new JsonArray(g.silent()));
    });
  }

  /** A topic's subscribers on every node; 404 when no node has one. */
  Future<JsonObject> subscribers(String topic, int limit) {
    JsonObject q = new JsonObject().put("q", "subscribers").put("topic", topic).put("limit", limit);
    return gather.all(q).compose(g -> {
      JsonArray out = new JsonArray();
      for (JsonObject a : g.answers()) {
        for (Object o : a.getJsonArray("subscribers", new JsonArray())) {
          if (out.size() < limit) {
            out.add(((JsonObject) o).put("node", a.getString("node_id")));
          }
        }
      }
      if (out.isEmpty() && g.silent().isEmpty()) {
        return Future.failedFuture(new SwitchboardException(ErrorCode.NOT_FOUND, "no node has a subscriber of this topic"));
      }
      return Future.succeededFuture(new JsonObject().put("topic", topic).put("subscribers", out)
          .put("not_answering", new JsonArray(g.silent())));
    });
  }

  /** A user's live connections on every node; 404 when none. */
  Future<JsonObject> connections(String user) {
    return gather.all(new JsonObject().put("q", "connections").put("user", user)).compose(g -> {
      JsonArray out = new JsonArray();
      for (JsonObject a : g.answers()) {
        for (Object o : a.getJsonArray("connections", new JsonArray())) {
          out.add(((JsonObject) o).put("node", a.getString("node_id")));
        }
      }
      if (out.isEmpty() && g.silent().isEmpty()) {
        return Future.failedFuture(new SwitchboardException(ErrorCode.NOT_FOUND, "the user has no live connection"));
      }
      return Future.succeededFuture(new JsonObject().put("user", user).put("connections", out)
          .put("not_answering", new JsonArray(g.silent())));
    });
  }

  /**
   * Operations from the cluster's registry (every kind, external workers' included), newest first,
   * with the live figures of the runs the nodes' workers hold (stage, seq, progress, attached); a run
   * whose node did not answer keeps the registry's figures (a few seconds behind) and {@code attached} null.
   */
  Future<JsonObject> ops(String state, String user, String method, String nodeId, int limit) {
    Future<List<JsonObject>> registry = node.ops().hub().registry().query(state, user, method, nodeId, limit);
    Future<AdminGather.Gathered> live = gather.all(new JsonObject().put("q", "ops"));
    return Future.all(registry, live).map(x -> {
      Map<String, JsonObject> running = new HashMap<>();
      for (JsonObject a : live.result().answers()) {
        for (Object o : a.getJsonArray("ops", new JsonArray())) {
          JsonObject r = (JsonObject) o;
          running.put(r.getString("op_id"), r);
        }
      }
      long now = System.currentTimeMillis();
      JsonArray out = new JsonArray();
      for (JsonObject op : registry.result()) {
        JsonObject r = running.get(op.getString("op_id"));
        JsonObject row = new JsonObject().put("op_id", op.getString("op_id")).put("method", op.getString("method"))
            .put("user", op.getString("user")).put("state", op.getString("state")).put("stage", op.getString("stage"))
            .put("seq", op.getLong("seq", 0L)).put("node", op.getString("node"))
            .put("progress", null).put("attached", null)
            .put("created_at", op.getLong("created_at", 0L)).put("age_ms", now - op.getLong("created_at", now));
        if (r != null && !dev.switchboard.operations.OpRegistry.isFinal(op.getString("state"))) {
          row.put("state", r.getString("state")).put("stage", r.getString("stage")).put("seq", r.getLong("seq"))
              .put("attached", r.getInteger("attached"));
          JsonObject p = r.getJsonObject("progress");
          if (p != null && p.getLong("done", -1L) >= 0) {
            row.put("progress", p);
          }
        }
        out.add(row);
      }
      return new JsonObject().put("ops", out).put("not_answering", new JsonArray(live.result().silent()));
    });
  }
}
