package dev.switchboard.transport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.switchboard.NodeContext;
import dev.switchboard.auth.TopicAcl;
import dev.switchboard.cluster.Sessions;
import dev.switchboard.topics.Subscriptions;
import io.vertx.core.Context;

/**
 * Keeps one connection's resumable session in the cluster: its subscriptions with their last
 * positions, and the operations it follows. Writes go through the loop's {@link SessionWriter},
 * which coalesces them (a burst of changes in one turn is one write of the then-current state) and
 * keeps them in order. Confined to the connection's event loop.
 */
final class SessionKeeper {
  private final NodeContext node;
  private final Context context;
  private final Connection connection;
  private final Subscriptions subscriptions;
  private final SessionWriter writer;
  private long lastSaveMs;
  private boolean ended;
  /** The close-time state was taken: the connection's state is being dropped, and is never written again. */
  private boolean closed;
  /** Another connection owns the session now (or it was ended or expired): nothing of this one is written any more. */
  private boolean fenced;

  SessionKeeper(NodeContext node, Context context, SessionWriter writer, Connection connection,
                Subscriptions subscriptions) {
    this.node = node;
    this.writer = writer;
    this.context = context;
    this.connection = connection;
    this.subscriptions = subscriptions;
  }

  /**
   * Resubscribes a resumed session's topics (those the current token still allows), each from its
   * last recorded position, so what was missed is replayed in order before live events.
   */
  void restore(Sessions.Stored resume) {
    // operations first, made at once (a session write of this connection must not leave them out),
    // re-attached after the last seq the client acknowledged, under their original request ids
    for (String key : resume.ops().fieldNames()) {
      io.vertx.core.json.JsonObject o = resume.ops().getJsonObject(key);
      String opId = key.indexOf('/') < 0 ? key : key.substring(0, key.indexOf('/')); // op_id[/attachment]
      Object id = o.getValue("id");
      JsonNode idNode = id instanceof Number ? com.fasterxml.jackson.databind.node.LongNode.valueOf(((Number) id).longValue())
          : TextNode.valueOf(String.valueOf(id));
      node.ops().resume(context, opId, o, connection, new dev.switchboard.routing.ReplySink(connection, idNode));
    }
    resume.topics().forEach((topic, pos) -> {
      if (!TopicAcl.canSubscribe(connection.principal(), topic)) {
        return;
      }
      // seeded with the stored position: a save before this subscription answers keeps it
      Object reserved = subscriptions.reserve(topic, pos);
      if (reserved == null) {
        return;
      }
      node.topics().subscribe(connection, topic, pos == null ? null : pos.offset(), pos == null ? null : pos.epoch(), r -> { })
          .onComplete(ar -> onLoop(() -> {
            if (ar.failed()) {
              // the client was told resumed:true: rather than drop the topic without a word, end the
              // connection (1011) with the stored position kept, so its next resume tries again
              connection.close(dev.switchboard.protocol.CloseCode.INTERNAL);
            } else if (!ar.result().repeat() && subscriptions.startsAt(topic, reserved,
                ar.result().recovered() ? pos.offset() : ar.result().offset(), ar.result().epoch())) {
              save();
            }
          }));
    });
  }

  /** The hub answers on its own thread; the session's writer and state belong to the connection's loop. */
  private void onLoop(Runnable r) {
    if (Io.onContext(context)) {
      r.run();
    } else {
      context.runOnContext(v -> r.run());
    }
  }

  /** Writes the session with its loop's next batch (see {@link SessionWriter}). */
  void save() {
    save(false);
  }

  /** Writes the session with the loop's next batch; completes once it landed (or at once when nothing is written). */
  io.vertx.core.Future<Void> saveNow() {
    if (!node.sessions().enabled() || ended || closed || fenced) {
      return io.vertx.core.Future.succeededFuture();
    }
    lastSaveMs = System.currentTimeMillis();
    return writer.saveLanded(this);
  }

  /**
   * {@code fenced}: written only while this connection owns the session (an entry processor), for
   * the writes a connection makes without its client: the close-time one and the time-to-live
   * refresh. The others (positions its client acknowledged, subscriptions its client changed) come
   * from a live client and go as a plain batched write, about a fifth of the cost: an old connection
   * whose client is gone makes no such write (it acknowledges nothing and changes nothing).
   */
  private void save(boolean fenced) {
    if (!node.sessions().enabled() || ended || closed || this.fenced) {
      return; // after close: a late subscribe answer or operation change would write the emptied state
    }
    lastSaveMs = System.currentTimeMillis();
    writer.save(this, fenced);
  }

  boolean isEnded() {
    return ended;
  }

  boolean isFenced() {
    return fenced;
  }


  /**
   * A write or end of this connection was refused: the session was resumed by another connection
   * since (or ended, or expired). This connection goes on, but its session is no longer written.
   */
  void fenced() {
    if (fenced) {
      return;
    }
    fenced = true;
    // Its session is another connection's now (a resume elsewhere, possibly of this very client after
    // a half-open drop): nothing this one does is saved any more, so it ends, and a client that is
    // still there reconnects and resumes (claims) again.
    connection.close(dev.switchboard.protocol.CloseCode.REPLACED);
  }

  String sessionId() {
    return connection.sessionId();
  }

  String connectionId() {
    return connection.connectionId();
  }

  /** The session as stored now. */
  String encode() {
    return Sessions.encode(connection.connectionId(), connection.principal().userId(), subscriptions.snapshot(),
        operations());
  }

  /**
   * From the connection's tick: new positions are written every {@link Sessions#SAVE_EVERY_MS}, and
   * a session that was written before is refreshed before its time-to-live runs out. A connection
   * that never had anything to resume writes nothing.
   */
  void tick(long nowMs) {
    if (!node.sessions().enabled() || lastSaveMs == 0) {
      return;
    }
    if (subscriptions.changed() && nowMs - lastSaveMs >= Sessions.SAVE_EVERY_MS) {
      save(false);
    } else if (nowMs - lastSaveMs >= node.sessions().ttlMs() / 2) {
      save(true); // a refresh: a half-open connection's must not overwrite a resumed session
    }
  }

  /**
   * At close: keeps the session for session_ttl when there is anything to resume. Its state is
   * taken now: the connection drops its subscriptions right after.
   */
  void saveAtClose() {
    if (!node.sessions().enabled() || ended || closed || fenced) {
      return;
    }
    closed = true;
    if (subscriptions.size() > 0 || lastSaveMs > 0 || !operations().isEmpty()) {
      lastSaveMs = System.currentTimeMillis();
      writer.save(this, encode());
    }
  }

  /** A clean close (1000) ends the session, after a write of it still in flight. */
  void end() {
    if (!node.sessions().enabled() || ended) {
      return;
    }
    ended = true;
    if (fenced) {
      return; // another connection's session now: not this one's to end
    }
    writer.end(this);
  }

  private io.vertx.core.json.JsonObject operations() {
    return node.ops() == null ? new io.vertx.core.json.JsonObject()
        : node.ops().hub().clients().sessionOps(connection);
  }
}
