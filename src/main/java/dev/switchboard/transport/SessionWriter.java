package dev.switchboard.transport;

import com.hazelcast.core.HazelcastJsonValue;
import dev.switchboard.cluster.Sessions;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.internal.logging.Logger;
import io.vertx.core.internal.logging.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the sessions of one event loop's connections in batches: every session due in a loop turn
 * goes into one Hazelcast {@code setAll} (one operation per partition, not one per session), with
 * one batch in flight at a time, so the writes of a session land in the order they were made and
 * its end (removal) after its last write. Loop-confined.
 */
final class SessionWriter {
  private static final Logger LOG = LoggerFactory.getLogger(SessionWriter.class);

  private final Sessions sessions;
  private final Context context;
  /** Sessions to write, with their value when it was fixed at the request (a closing connection), else null. */
  private final Map<SessionKeeper, HazelcastJsonValue> pending = new LinkedHashMap<>();
  private final List<String> ended = new ArrayList<>();
  private boolean scheduled;
  private boolean inFlight;

  SessionWriter(Sessions sessions, Context context) {
    this.sessions = sessions;
    this.context = context;
  }

  /** Writes the keeper's then-current state with the next batch (at the end of this loop turn at the latest). */
  void save(SessionKeeper keeper) {
    pending.putIfAbsent(keeper, null);
    schedule();
  }

  /** Writes this value of the session with the next batch (a closing connection's last state). */
  void save(SessionKeeper keeper, HazelcastJsonValue value) {
    pending.put(keeper, value);
    schedule();
  }

  /** Removes the session once any write of it already in flight has landed. */
  void end(SessionKeeper keeper, String sessionId) {
    pending.remove(keeper);
    ended.add(sessionId);
    schedule();
  }

  private void schedule() {
    if (!scheduled && !inFlight) {
      scheduled = true;
      context.runOnContext(v -> flush());
    }
  }

  private void flush() {
    scheduled = false;
    if (inFlight || pending.isEmpty() && ended.isEmpty()) {
      return;
    }
    Map<String, HazelcastJsonValue> batch = new HashMap<>();
    pending.forEach((k, fixed) -> batch.put(k.sessionId(), fixed != null ? fixed : k.encode()));
    pending.clear();
    List<String> removals = new ArrayList<>(ended);
    ended.clear();
    inFlight = true;
    List<Future<Void>> all = new ArrayList<>(removals.size() + 1);
    if (!batch.isEmpty()) {
      all.add(sessions.saveAll(context, batch));
    }
    for (String id : removals) {
      all.add(sessions.end(context, id));
    }
    Future.join(all).onComplete(ar -> {
      inFlight = false;
      if (ar.failed()) {
        LOG.warn("session write failed: " + ar.cause().getMessage());
      }
      if (!pending.isEmpty() || !ended.isEmpty()) {
        schedule();
      }
    });
  }
}
