package dev.switchboard.operations;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.cluster.Addresses;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.Frames;
import dev.switchboard.protocol.Json;
import dev.switchboard.protocol.SwitchboardException;
import dev.switchboard.routing.Client;
import dev.switchboard.routing.ReplySink;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The client side of operations on a gateway node: attachments (a connection's request following
 * an operation), frames arriving from workers written to them with the request's id, and the
 * answer to the worker only once those connections can take more (backpressure). When the node
 * running an operation leaves the cluster, its attachments end with NODE_LOST.
 *
 * <p>An attachment's positions and end are confined to its connection's event loop (frames are
 * written there, and the acknowledgement pings that count them are sent there). An attachment
 * whose terminal was written stays in the connection's session until the client acknowledged that
 * terminal: a client that drops before reading it gets it again on resume.
 */
public final class OpClients {
  /** Poll interval while waiting for a congested connection before answering a frame. */
  static final long CONGESTION_POLL_MS = 10;

  private final Vertx vertx;
  private final String nodeId;
  /** Attachments that still take frames, by id. */
  private final Map<String, Attachment> atts = new ConcurrentHashMap<>();
  /** Every attachment by connection, ended ones included until acknowledged: its ticks and session writes look at its own only. */
  private final Map<Client, Set<Attachment>> byClient = new ConcurrentHashMap<>();

  public OpClients(Vertx vertx, String nodeId) {
    this.vertx = vertx;
    this.nodeId = nodeId;
  }

  Attachment add(String att, String opId, Client client, ReplySink sink, boolean deduplicated) {
    Attachment a = new Attachment(att, opId, client, sink, deduplicated);
    atts.put(att, a);
    byClient.compute(client, (c, set) -> {
      Set<Attachment> out = set != null ? set : ConcurrentHashMap.newKeySet();
      out.add(a);
      return out;
    });
    return a;
  }

  void remove(Attachment a) {
    atts.remove(a.att, a);
    byClient.computeIfPresent(a.client, (c, set) -> {
      set.remove(a);
      return set.isEmpty() ? null : set;
    });
  }

  /** The attachments of one connection (a concurrent set: iterating it while one is removed is safe). */
  private Collection<Attachment> of(Client c) {
    Set<Attachment> set = byClient.get(c);
    return set == null ? Set.of() : set;
  }

  /** Operations this connection follows (for max_concurrent_ops): ended ones do not count. */
  public int countFor(Client c) {
    int n = 0;
    for (Attachment a : of(c)) {
      n += a.ended() ? 0 : 1;
    }
    return n;
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

  /**
   * The client answered the last mark's ping: what was written before it counts, and an
   * acknowledged terminal ends the attachment for good. True when the session changed.
   */
  public boolean acknowledged(Client c) {
    boolean moved = false;
    for (Attachment a : of(c)) {
      if (a.ackedSeq < a.markedSeq) {
        a.ackedSeq = a.markedSeq;
        moved = true;
        forgetIfAcknowledged(a);
      }
    }
    return moved;
  }

  /** Everything written counts (a clean end, see Connection#settle). On the connection's loop. */
  public void allWrittenReceived(Client c) {
    for (Attachment a : of(c)) {
      if (a.ackedSeq < a.lastSeq) {
        a.ackedSeq = a.lastSeq;
      }
      forgetIfAcknowledged(a);
    }
  }

  /**
   * At most this many ended attachments wait in a connection's session for their acknowledgement: a
   * client that never answers pings must not grow its session without bound (the oldest go).
   */
  static final int MAX_ENDED_KEPT = 64;
  private final java.util.concurrent.atomic.AtomicLong endings = new java.util.concurrent.atomic.AtomicLong();

  /**
   * Per connection, at least how many ended attachments it keeps: counted up at each end, set to the
   * exact figure by each scan. The scan (over all of the connection's attachments) runs only once
   * this passes {@link #MAX_ENDED_KEPT}, not at every end: a connection following hundreds of
   * operations paid a scan of all of them per terminal.
   */
  private final Map<Client, java.util.concurrent.atomic.AtomicInteger> endedAtLeast = new ConcurrentHashMap<>();

  private void boundEnded(Client c) {
    java.util.concurrent.atomic.AtomicInteger bound = endedAtLeast.computeIfAbsent(c,
        k -> new java.util.concurrent.atomic.AtomicInteger());
    if (bound.incrementAndGet() <= MAX_ENDED_KEPT) {
      return;
    }
    int ended = 0;
    Attachment oldest = null;
    for (Attachment x : of(c)) {
      if (x.ended()) {
        ended++;
        oldest = oldest == null || x.endOrder < oldest.endOrder ? x : oldest;
      }
    }
    if (ended > MAX_ENDED_KEPT) {
      remove(oldest);
      ended--;
    }
    bound.set(ended);
  }

  private void forgetIfAcknowledged(Attachment a) {
    if (a.ended() && a.ackedSeq >= a.endSeq) {
      remove(a);
    }
  }

  /**
   * The operations a connection follows, for its session: op id (op id/attachment for a second
   * request following the same one) → {"seq": last acknowledged, "id":
   * request id, "node"/"member": where it runs, or "method"/["dedupe"] of a start no worker has
   * answered yet, ["end": a terminal of this node's not yet acknowledged]}. A resume re-attaches after that seq: frames written but not known to be read
   * come again. On the connection's loop.
   */
  public JsonObject sessionOps(Client c) {
    JsonObject out = new JsonObject();
    for (Attachment a : of(c)) {
      JsonNode id = a.sink.id();
      JsonObject o = new JsonObject().put("seq", a.ackedSeq)
          .put("id", id.isTextual() ? (Object) id.textValue() : (Object) id.longValue());
      if (a.workerNode != null) {
        o.put("node", a.workerNode).put("member", a.workerMember);
      } else if (a.startedMethod != null) {
        // a start no worker has answered yet: what a resume needs to record it as failed to start
        // (its starting node may die before any worker takes it) and free its dedupe key
        o.put("method", a.startedMethod);
        if (a.startedDedupe != null) {
          o.put("dedupe", a.startedDedupe);
        }
      }
      if (a.ownEnd != null) {
        o.put("end", a.ownEnd);
      }
      // two requests of one connection may follow one operation (a deduplicated request, an attach)
      out.put(out.containsKey(a.opId) ? a.opId + "/" + a.att : a.opId, o);
    }
    return out;
  }

  /** A frame from a worker for some attachments here. */
  public void onFrame(Message<JsonObject> m) {
    answerWhenDrained(m, deliver(m.body()), System.currentTimeMillis());
  }

  /**
   * Writes a worker's frame to the attachments it names, on their connections' loops (where their
   * positions are counted); returns the connections it goes to. A frame at or below what an
   * attachment was already written (a worker's resend) is not written again.
   */
  List<Client> deliver(JsonObject b) {
    JsonObject frame = b.getJsonObject("frame");
    long seq = frame.getLong("seq", 0L);
    boolean terminal = OpFrames.terminal(frame);
    List<Client> written = new ArrayList<>();
    for (Object id : b.getJsonArray("att")) {
      Attachment a = atts.get(String.valueOf(id));
      if (a == null) {
        continue;
      }
      ObjectNode f = toTree(frame);
      f.set("id", a.sink.id());
      a.client.execute(() -> {
        if (a.ended() || seq <= a.lastSeq) {
          return;
        }
        if (a.client.isClosing()) {
          // a closing connection writes nothing more (Outbound#write): counted as written, a clean
          // close would count it as read, and the session would drop what its resume must get again
          return;
        }
        if (a.deduplicatedFirst) {
          f.put("deduplicated", true);
          a.deduplicatedFirst = false;
        }
        if (terminal) {
          end(a, f, seq, null);
        } else if (a.sink.frame(f)) {
          a.lastSeq = seq;
        }
      });
      written.add(a.client);
    }
    return written;
  }

  /**
   * Ends an attachment with its terminal (the request's one, see ReplySink); {@code own}: a terminal
   * this node made, kept for the session until acknowledged. On the connection's loop.
   */
  void end(Attachment a, ObjectNode terminal, long seq, JsonObject own) {
    if (a.ended() || a.sink.done()) {
      return;
    }
    atts.remove(a.att, a); // no more frames for it
    a.endSeq = Math.max(seq, a.lastSeq + 1);
    if (!a.client.isClosing()) {
      a.lastSeq = a.endSeq;
    } // else not written (see deliver): the session keeps the terminal (ours, own) for the resume
    a.ownEnd = own;
    a.endOrder = endings.incrementAndGet();
    a.sink.terminal(terminal);
    a.client.acknowledgeSoon(); // the session keeps it until then: make that short
    boundEnded(a.client);
    if (own != null && byClient.getOrDefault(a.client, Set.of()).contains(a)) {
      // a worker's terminal comes again from the worker (or the registry); this one only from the session
      a.client.subscriptionsChanged();
    }
  }

  /**
   * Ends an attachment with an error of this node's; with {@code withOpId} the frame carries the
   * op_id and the next seq (the client may have seen the op_id), else it reads as the request's
   * own failure (a start that failed).
   */
  void fail(Attachment a, SwitchboardException e, boolean withOpId) {
    fail(a, e, withOpId, 0);
  }

  /** As {@link #fail(Attachment, SwitchboardException, boolean)}, in {@code seq} when positive (else one past the last frame). */
  void fail(Attachment a, SwitchboardException e, boolean withOpId, long seq0) {
    a.client.execute(() -> {
      if (a.ended()) {
        return;
      }
      long seq = seq0 > 0 ? seq0 : a.lastSeq + 1;
      ObjectNode f = Frames.error(null, e);
      if (withOpId) {
        f.put("op_id", a.opId).put("seq", seq);
      }
      endOwn(a, new JsonObject(f.toString()), seq);
    });
  }

  /** Ends with a terminal frame kept as such (NODE_LOST, or one read back from the registry). On the loop. */
  void endOwn(Attachment a, JsonObject own, long seq) {
    ObjectNode f = toTree(own);
    f.set("id", a.sink.id());
    end(a, f, seq, own);
  }

  /** A resumed session's attachment ended before: the same terminal again. */
  void resend(Attachment a, JsonObject own) {
    a.client.execute(() -> endOwn(a, own, own.getLong("seq", a.lastSeq + 1)));
  }

  /** Answers the worker once none of the connections is congested (or they are gone, or the worker stopped waiting). */
  private void answerWhenDrained(Message<JsonObject> m, List<Client> clients, long since) {
    if (System.currentTimeMillis() - since < OpSender.FRAME_TIMEOUT_MS) {
      for (Client c : clients) {
        if (c.congested()) {
          vertx.setTimer(CONGESTION_POLL_MS, t -> answerWhenDrained(m, clients, since));
          return;
        }
      }
    }
    m.reply(new JsonObject());
  }

  /**
   * What ends an attachment whose worker left the cluster (see OpAttach#workerLost: the terminal the
   * registry kept, else NODE_LOST); by default NODE_LOST at once.
   */
  private volatile java.util.function.Consumer<Attachment> workerLost = this::lost;

  void onWorkerLost(java.util.function.Consumer<Attachment> handler) {
    this.workerLost = handler;
  }

  /** The node running some operations left: their attachments here end (NODE_LOST). */
  public void memberLost(String member) {
    for (Attachment a : new ArrayList<>(atts.values())) {
      if (member.equals(a.workerMember)) {
        workerLost.accept(a);
      }
    }
  }

  /**
   * Attachments whose worker is no longer a member end with NODE_LOST: a safety net for a
   * membership event that never came (Hazelcast events are not highly available).
   */
  public void sweep(java.util.function.Predicate<String> isMember) {
    for (Attachment a : new ArrayList<>(atts.values())) {
      String m = a.workerMember;
      if (m != null && !isMember.test(m)) {
        workerLost.accept(a);
      }
    }
  }

  /** Whether the attachment still follows its operation here (not ended, its connection not closed). */
  boolean isLive(Attachment a) {
    return atts.get(a.att) == a;
  }

  /** Ends an attachment with NODE_LOST, one past the last frame it was written. */
  void lost(Attachment a) {
    a.client.execute(() -> {
      if (!a.ended()) {
        long seq = a.lastSeq + 1;
        endOwn(a, OpFrames.error(a.opId, seq, ErrorCode.NODE_LOST, "the node running the operation left the cluster"), seq);
      }
    });
  }

  /** A connection closed: its attachments go; the workers are told (they may become orphans). On its loop. */
  public void closed(Client c) {
    for (Attachment a : of(c)) {
      remove(a);
      if (!a.ended() && a.workerNode != null) {
        detach(a);
      }
    }
    byClient.remove(c);
    endedAtLeast.remove(c);
  }

  /**
   * Tells the worker an attachment is gone: its connection closed, possibly before the worker had
   * answered the start or attach that linked it (the operation may then become an orphan).
   */
  void detach(Attachment a) {
    vertx.eventBus().request(Addresses.opsNode(a.workerNode), new JsonObject().put("op", "detach")
        .put("op_id", a.opId).put("node", nodeId).put("att", a.att));
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
