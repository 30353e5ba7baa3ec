package dev.switchboard.operations;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.cluster.Addresses;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.Json;
import dev.switchboard.routing.Client;
import dev.switchboard.routing.ReplySink;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The client side of operations on a gateway node: attachments (a connection's request following
 * an operation), frames arriving from workers written to them with the request's id, and the
 * answer to the worker only once those connections can take more (backpressure). When the node
 * running an operation leaves the cluster, its attachments end with NODE_LOST.
 */
public final class OpClients {
  /** Poll interval while waiting for a congested connection before answering a frame. */
  static final long CONGESTION_POLL_MS = 10;

  /** One request following one operation. */
  static final class Attachment {
    final String att;
    final String opId;
    final Client client;
    final ReplySink sink;
    boolean deduplicatedFirst;
    volatile String workerNode;
    volatile String workerMember;
    volatile long lastSeq;

    Attachment(String att, String opId, Client client, ReplySink sink, boolean deduplicated) {
      this.att = att;
      this.opId = opId;
      this.client = client;
      this.sink = sink;
      this.deduplicatedFirst = deduplicated;
    }
  }

  private final Vertx vertx;
  private final String nodeId;
  private final Map<String, Attachment> atts = new ConcurrentHashMap<>();

  public OpClients(Vertx vertx, String nodeId) {
    this.vertx = vertx;
    this.nodeId = nodeId;
  }

  Attachment add(String att, String opId, Client client, ReplySink sink, boolean deduplicated) {
    Attachment a = new Attachment(att, opId, client, sink, deduplicated);
    atts.put(att, a);
    return a;
  }

  void remove(String att) {
    atts.remove(att);
  }

  /** Operations this connection follows (for max_concurrent_ops). */
  public int countFor(Client c) {
    int n = 0;
    for (Attachment a : atts.values()) {
      if (a.client == c) {
        n++;
      }
    }
    return n;
  }

  /** The operations a connection follows, for its session: op id → {"seq": last delivered, "id": request id}. */
  public JsonObject sessionOps(Client c) {
    JsonObject out = new JsonObject();
    for (Attachment a : atts.values()) {
      if (a.client == c) {
        JsonNode id = a.sink.id();
        out.put(a.opId, new JsonObject().put("seq", a.lastSeq)
            .put("id", id.isTextual() ? (Object) id.textValue() : (Object) id.longValue()));
      }
    }
    return out;
  }

  /** A frame from a worker for some attachments here. */
  public void onFrame(Message<JsonObject> m) {
    JsonObject b = m.body();
    JsonObject frame = b.getJsonObject("frame");
    boolean terminal = OpFrames.terminal(frame);
    List<Client> written = new ArrayList<>();
    for (Object id : b.getJsonArray("att")) {
      Attachment a = atts.get(String.valueOf(id));
      if (a == null) {
        continue;
      }
      ObjectNode f = toTree(frame);
      f.set("id", a.sink.id());
      if (a.deduplicatedFirst) {
        f.put("deduplicated", true);
        a.deduplicatedFirst = false;
      }
      a.lastSeq = frame.getLong("seq", a.lastSeq);
      if (terminal) {
        atts.remove(a.att);
        a.sink.terminal(f);
      } else {
        a.sink.frame(f);
      }
      written.add(a.client);
    }
    answerWhenDrained(m, written, System.currentTimeMillis());
  }

  /** Answers the worker once none of the connections is congested (or they are gone). */
  private void answerWhenDrained(Message<JsonObject> m, List<Client> clients, long since) {
    for (Client c : clients) {
      if (c.congested()) {
        vertx.setTimer(CONGESTION_POLL_MS, t -> answerWhenDrained(m, clients, since));
        return;
      }
    }
    m.reply(new JsonObject());
  }

  /** The node running some operations left: their attachments here end with NODE_LOST. */
  public void memberLost(String member) {
    for (Attachment a : new ArrayList<>(atts.values())) {
      if (member.equals(a.workerMember)) {
        atts.remove(a.att);
        ObjectNode f = toTree(OpFrames.error(a.opId, a.lastSeq + 1, ErrorCode.NODE_LOST,
            "the node running the operation left the cluster"));
        f.set("id", a.sink.id());
        a.sink.terminal(f);
      }
    }
  }

  /** A connection closed: its attachments go; the workers are told (they may become orphans). */
  public void closed(Client c) {
    for (Attachment a : new ArrayList<>(atts.values())) {
      if (a.client == c) {
        atts.remove(a.att);
        if (a.workerNode != null) {
          vertx.eventBus().request(Addresses.opsNode(a.workerNode), new JsonObject().put("op", "detach")
              .put("op_id", a.opId).put("node", nodeId).put("att", a.att));
        }
      }
    }
  }

  static ObjectNode toTree(JsonObject o) {
    try {
      return (ObjectNode) Json.MAPPER.readTree(o.encode());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  static JsonNode tree(JsonObject o) {
    return toTree(o);
  }
}
