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
    Map<SessionKeeper, HazelcastJsonValue> written = new LinkedHashMap<>();
    pending.forEach((k, fixed) -> {
      try {
        batch.put(k.sessionId(), fixed != null ? fixed : k.encode());
        written.put(k, fixed); // a live session is encoded again when retried: its newest state
      } catch (RuntimeException e) {
        LOG.warn("session could not be encoded: " + e);
      }
    });
    pending.clear();
    List<String> removals = new ArrayList<>(ended);
    ended.clear();
    inFlight = true;
    Future<Void> saved = batch.isEmpty() ? Future.succeededFuture() : attempt(() -> sessions.saveAll(context, batch));
    List<Future<Void>> removed = new ArrayList<>(removals.size());
    for (String id : removals) {
      removed.add(attempt(() -> sessions.end(context, id)));
    }
    List<Future<Void>> all = new ArrayList<>(removed);
    all.add(saved);
    Future.join(all).onComplete(ar -> {
      inFlight = false;
      if (ar.failed()) {
        // Nothing is dropped: what failed goes again (after a pause), unless newer state or the
        // session's end came meanwhile.
        if (++failures > MAX_RETRIES) {
          // Hazelcast has been unreachable for a while: give these up rather than hold closed
          // connections' state without bound; positions saved before stay (a resume may repeat).
          LOG.warn("session writes failed " + failures + " times in a row; dropping " + written.size()
              + " writes and " + removals.size() + " removals: " + ar.cause().getMessage());
          failures = 0;
          if (!pending.isEmpty() || !ended.isEmpty()) {
            schedule();
          }
          return;
        }
        LOG.warn("session write failed, retrying in " + RETRY_MS + " ms: " + ar.cause().getMessage());
        if (saved.failed()) {
          written.forEach((k, v) -> {
            if (!k.isEnded()) {
              pending.putIfAbsent(k, v);
            }
          });
        }
        for (int i = 0; i < removals.size(); i++) {
          if (removed.get(i).failed()) {
            ended.add(removals.get(i));
          }
        }
        scheduled = true;
        context.owner().setTimer(RETRY_MS, t -> context.runOnContext(v -> flush()));
        return;
      }
      failures = 0;
      if (!pending.isEmpty() || !ended.isEmpty()) {
        schedule();
      }
    });
  }

  private static Future<Void> attempt(java.util.function.Supplier<Future<Void>> write) {
    try {
      return write.get();
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  /** Nothing waiting and nothing in flight (loop-confined, like the rest). */
  boolean idle() {
    return !inFlight && !scheduled && pending.isEmpty() && ended.isEmpty();
  }

  /** Pause before a failed batch goes again (Hazelcast unreachable or busy), and how often. */
  static final long RETRY_MS = 1000;
  static final int MAX_RETRIES = 30;
  private int failures;
}
