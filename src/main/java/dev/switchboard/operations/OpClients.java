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
    /** The last frame written to the client. */
    volatile long lastSeq;
    /**
     * The last frame the client is known to have read (its session's position): frames count once
     * acknowledged, like topic events (the connection's ping after them, and its pong), so a resume
     * after a reset re-attaches before frames the client never read rather than after them.
     */
    volatile long ackedSeq;
    /** What {@link #lastSeq} was when the connection last asked for an acknowledgement. */
    long markedSeq;

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
  /** The same attachments by connection: a connection's tick and session writes look at its own only. */
  private final Map<Client, java.util.Set<Attachment>> byClient = new ConcurrentHashMap<>();

  public OpClients(Vertx vertx, String nodeId) {
    this.vertx = vertx;
    this.nodeId = nodeId;
  }

  Attachment add(String att, String opId, Client client, ReplySink sink, boolean deduplicated) {
    Attachment a = new Attachment(att, opId, client, sink, deduplicated);
    atts.put(att, a);
    byClient.compute(client, (c, set) -> {
      java.util.Set<Attachment> out = set != null ? set : ConcurrentHashMap.newKeySet();
      out.add(a);
      return out;
    });
    return a;
  }

  void remove(String att) {
    Attachment a = atts.remove(att);
    if (a != null) {
      byClient.computeIfPresent(a.client, (c, set) -> {
        set.remove(a);
        return set.isEmpty() ? null : set;
      });
    }
  }

  /** The attachments of one connection (a concurrent set: iterating it while one is removed is safe). */
  private java.util.Collection<Attachment> of(Client c) {
    java.util.Set<Attachment> set = byClient.get(c);
    return set == null ? java.util.Set.of() : set;
  }

  /** Operations this connection follows (for max_concurrent_ops). */
  public int countFor(Client c) {
    java.util.Set<Attachment> set = byClient.get(c);
    return set == null ? 0 : set.size();
  }

  /**
   * The connection asks the client to acknowledge what it was written so far (see Connection's ack
   * ping); true when frames were written since the last mark. On the connection's loop.
   */
  public boolean mark(Client c) {
    boolean moved = false;
    for (Attachment a : of(c)) {
      moved |= a.markedSeq != a.lastSeq;
      a.markedSeq = a.lastSeq;
    }
    return moved;
  }

  /** The client answered the last mark's ping: what was written before it counts. True when a position moved. */
  public boolean acknowledged(Client c) {
    boolean moved = false;
    for (Attachment a : of(c)) {
      if (a.ackedSeq < a.markedSeq) {
        a.ackedSeq = a.markedSeq;
        moved = true;
      }
    }
    return moved;
  }

  /** Everything written counts (a clean end, see Connection#settle). */
  public void allWrittenReceived(Client c) {
    for (Attachment a : of(c)) {
      if (a.ackedSeq < a.lastSeq) {
        a.ackedSeq = a.lastSeq;
      }
    }
  }

  /**
   * The operations a connection follows, for its session: op id → {"seq": last acknowledged, "id":
   * request id}. A resume re-attaches after that seq: frames written but not known to be read come again.
   */
  public JsonObject sessionOps(Client c) {
    JsonObject out = new JsonObject();
    for (Attachment a : of(c)) {
      JsonNode id = a.sink.id();
      out.put(a.opId, new JsonObject().put("seq", a.ackedSeq)
          .put("id", id.isTextual() ? (Object) id.textValue() : (Object) id.longValue()));
    }
    return out;
  }

  /** A frame from a worker for some attachments here. */
  public void onFrame(Message<JsonObject> m) {
    answerWhenDrained(m, deliver(m.body()), System.currentTimeMillis());
  }

  /** Writes a worker's frame to the attachments it names; returns the connections written to. */
  List<Client> deliver(JsonObject b) {
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
        remove(a.att);
        a.sink.terminal(f);
      } else {
        a.sink.frame(f);
      }
      written.add(a.client);
    }
    return written;
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
        remove(a.att);
        ObjectNode f = toTree(OpFrames.error(a.opId, a.lastSeq + 1, ErrorCode.NODE_LOST,
            "the node running the operation left the cluster"));
        f.set("id", a.sink.id());
        a.sink.terminal(f);
      }
    }
  }

  /** A connection closed: its attachments go; the workers are told (they may become orphans). */
  public void closed(Client c) {
    for (Attachment a : of(c)) {
      remove(a.att);
      if (a.workerNode != null) {
        vertx.eventBus().request(Addresses.opsNode(a.workerNode), new JsonObject().put("op", "detach")
            .put("op_id", a.opId).put("node", nodeId).put("att", a.att));
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
