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
 * positions, and the operations it follows. One write at a time, coalesced: while one is in flight,
 * later changes only mark the session dirty and one more write of the then-current state follows (a
 * burst of subscriptions or operations costs two writes, not one per change; writes of one key in
 * flight together could land out of order). Confined to the connection's event loop.
 */
final class SessionKeeper {
  private final NodeContext node;
  private final Context context;
  private final Connection connection;
  private final Subscriptions subscriptions;
  private long lastSaveMs;
  private boolean writing;
  private boolean dirty;
  private boolean ended;

  SessionKeeper(NodeContext node, Context context, Connection connection, Subscriptions subscriptions) {
    this.node = node;
    this.context = context;
    this.connection = connection;
    this.subscriptions = subscriptions;
  }

  /**
   * Resubscribes a resumed session's topics (those the current token still allows), each from its
   * last recorded position, so what was missed is replayed in order before live events.
   */
  void restore(Sessions.Stored resume) {
    // operations: re-attached after their last delivered seq, under their original request ids
    for (String opId : resume.ops().fieldNames()) {
      io.vertx.core.json.JsonObject o = resume.ops().getJsonObject(opId);
      Object id = o.getValue("id");
      JsonNode idNode = id instanceof Number ? com.fasterxml.jackson.databind.node.LongNode.valueOf(((Number) id).longValue())
          : TextNode.valueOf(String.valueOf(id));
      node.ops().attach(context, opId, o.getLong("seq", 0L), connection,
          new dev.switchboard.routing.ReplySink(connection, idNode),
          false, true);
    }
    resume.topics().forEach((topic, pos) -> {
      if (!TopicAcl.canSubscribe(connection.principal(), topic) || !subscriptions.reserve(topic)) {
        return;
      }
      node.topics().subscribe(connection, topic, pos == null ? null : pos.offset(), pos == null ? null : pos.epoch(), r -> { })
          .onComplete(ar -> {
            if (ar.failed()) {
              subscriptions.release(topic);
            } else {
              subscriptions.startsAt(topic, ar.result().offset(), ar.result().epoch());
              save();
            }
          });
    });
  }

  /** Writes the session now (or right after the write in flight). */
  void save() {
    if (!node.sessions().enabled() || ended) {
      return;
    }
    if (writing) {
      dirty = true;
      return;
    }
    writing = true;
    lastSaveMs = System.currentTimeMillis();
    node.sessions().save(context, connection.sessionId(), connection.principal().userId(), subscriptions.snapshot(),
        operations()).onComplete(ar -> written());
  }

  private void written() {
    writing = false;
    if (ended) {
      node.sessions().end(context, connection.sessionId());
    } else if (dirty) {
      dirty = false;
      save();
    }
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
    if (subscriptions.changed() && nowMs - lastSaveMs >= Sessions.SAVE_EVERY_MS
        || nowMs - lastSaveMs >= node.sessions().ttlMs() / 2) {
      save();
    }
  }

  /** At close: keeps the session for session_ttl when there is anything to resume. */
  void saveAtClose() {
    if (subscriptions.size() > 0 || lastSaveMs > 0 || !operations().isEmpty()) {
      save();
    }
  }

  /** A clean close (1000) ends the session, after a write of it still in flight. */
  void end() {
    ended = true;
    if (!writing) {
      node.sessions().end(context, connection.sessionId());
    }
  }

  private io.vertx.core.json.JsonObject operations() {
    return node.ops() == null ? new io.vertx.core.json.JsonObject()
        : node.ops().hub().clients().sessionOps(connection);
  }
}
