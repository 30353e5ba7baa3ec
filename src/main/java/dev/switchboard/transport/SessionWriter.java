package dev.switchboard.transport;

import dev.switchboard.cluster.Sessions;
import io.vertx.core.Context;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes the sessions of one event loop's connections in batches: every session due in a loop turn
 * goes into one {@link Sessions#saveAll} (one entry processor per partition, not one per session),
 * with one batch in flight at a time, so the writes of a session land in the order they were made
 * and its end after its last write. Each write and end applies only while its connection owns the
 * session (see {@link Sessions}); a connection whose write was refused is fenced and writes no more.
 * Loop-confined.
 */
final class SessionWriter {
  private static final Logger LOG = LoggerFactory.getLogger(SessionWriter.class);

  private final Sessions sessions;
  private final Context context;
  /** Sessions to write, with their value when it was fixed at the request (a closing connection), else null. */
  private final Map<SessionKeeper, String> pending = new LinkedHashMap<>();
  /** Pending writes that go fenced (entry processor) although their value is not fixed: TTL refreshes. */
  private final java.util.Set<SessionKeeper> fencedPending = new java.util.HashSet<>();
  private final List<SessionKeeper> ended = new ArrayList<>();
  /** Who waits for a keeper's next write to land (see {@link #saveLanded}). */
  private final Map<SessionKeeper, List<io.vertx.core.Promise<Void>>> waiters = new HashMap<>();
  private boolean scheduled;
  private boolean inFlight;

  SessionWriter(Sessions sessions, Context context) {
    this.sessions = sessions;
    this.context = context;
  }

  /**
   * Writes the keeper's then-current state with the next batch (at the end of this loop turn at the
   * latest); {@code fenced}: only while the keeper's connection owns the session (see SessionKeeper).
   */
  void save(SessionKeeper keeper, boolean fenced) {
    pending.putIfAbsent(keeper, null);
    if (fenced) {
      fencedPending.add(keeper);
    }
    schedule();
  }

  /**
   * As {@link #save(SessionKeeper, boolean)} (plain), and completes once the batch carrying it is
   * done. A failed batch completes it too (it is retried on its own): the caller goes on rather than
   * wait on an unreachable cluster.
   */
  Future<Void> saveLanded(SessionKeeper keeper) {
    io.vertx.core.Promise<Void> landed = io.vertx.core.Promise.promise();
    waiters.computeIfAbsent(keeper, k -> new ArrayList<>(1)).add(landed);
    save(keeper, false);
    return landed.future();
  }

  /** Writes this value of the session with the next batch (a closing connection's last state). */
  void save(SessionKeeper keeper, String value) {
    pending.put(keeper, value);
    schedule();
  }

  /** Ends the keeper's session (if it still owns it) once any write of it already in flight has landed. */
  void end(SessionKeeper keeper) {
    pending.remove(keeper);
    ended.add(keeper);
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
    Map<String, Sessions.Write> batch = new HashMap<>();
    Map<String, String> plain = new HashMap<>();
    Map<SessionKeeper, String> written = new LinkedHashMap<>(); // fenced
    List<SessionKeeper> writtenPlain = new ArrayList<>();
    java.util.Set<SessionKeeper> refreshes = new java.util.HashSet<>(); // fenced, value not fixed
    Map<SessionKeeper, String> later = new LinkedHashMap<>();
    pending.forEach((k, fixed) -> {
      if (k.isFenced()) {
        return;
      }
      if (batch.containsKey(k.sessionId()) || plain.containsKey(k.sessionId())) {
        // two connections of one session on this loop (a resume next to its older connection): one
        // write per key and batch; the other goes with the next batch, and the owner check decides
        later.put(k, fixed);
        return;
      }
      try {
        if (fixed == null && !fencedPending.contains(k)) {
          plain.put(k.sessionId(), k.encode()); // from a live client: see SessionKeeper#save
          writtenPlain.add(k);
          return;
        }
        if (fixed == null) {
          refreshes.add(k);
        }
        batch.put(k.sessionId(), new Sessions.Write(k.sessionId(), k.connectionId(),
            // a write may create the entry where there is none: a brand-new session's first write, or an
            // owner whose entry expired or was lost (both copies) writes it again rather than fencing
            // itself for good; an ended session stays ended, its tombstone being an entry owned by nobody
            fixed != null ? fixed : k.encode(), true));
        written.put(k, fixed); // a live session is encoded again when retried: its newest state
      } catch (RuntimeException e) {
        LOG.warn("session could not be encoded: " + e);
      }
    });
    pending.clear();
    pending.putAll(later);
    fencedPending.retainAll(later.keySet());
    List<io.vertx.core.Promise<Void>> landing = new ArrayList<>();
    waiters.entrySet().removeIf(e -> {
      if (later.containsKey(e.getKey())) {
        return false; // waits for the batch that carries it
      }
      landing.addAll(e.getValue());
      return true;
    });
    List<SessionKeeper> removals = new ArrayList<>(ended);
    ended.clear();
    inFlight = true;
    Future<Set<String>> saved = batch.isEmpty() ? Future.succeededFuture(Set.of())
        : attempt(() -> sessions.saveAll(context, batch.values()));
    List<Future<Boolean>> removed = new ArrayList<>(removals.size());
    for (SessionKeeper k : removals) {
      removed.add(attempt(() -> sessions.end(context, k.sessionId(), k.connectionId())));
    }
    Future<Void> put = plain.isEmpty() ? Future.succeededFuture() : attempt(() -> sessions.putAll(context, plain));
    List<Future<?>> all = new ArrayList<>(removed);
    all.add(saved);
    all.add(put);
    Future.join(all).onComplete(ar -> {
      inFlight = false;
      landing.forEach(io.vertx.core.Promise::tryComplete);
      if (saved.succeeded()) {
        Set<String> refused = saved.result();
        written.keySet().forEach(k -> {
          if (refused.contains(k.sessionId())) {
            k.fenced();
            pending.remove(k);
          }
        });
      }
      if (ar.failed()) {
        // Nothing is dropped: what failed goes again (after a pause), unless newer state or the
        // session's end came meanwhile.
        if (++failures > MAX_RETRIES) {
          // Hazelcast has been unreachable for a while: give these up rather than hold closed
          // connections' state without bound; positions saved before stay (a resume may repeat).
          LOG.warn("session writes failed " + failures + " times in a row; dropping "
              + (written.size() + writtenPlain.size())
              + " writes and " + removals.size() + " removals: " + ar.cause().getMessage());
          failures = 0;
          if (!pending.isEmpty() || !ended.isEmpty()) {
            schedule();
          }
          return;
        }
        LOG.warn("session write failed, retrying in " + RETRY_MS + " ms: " + ar.cause().getMessage());
        // each goes again as it went: a refresh stays fenced, a live client's write stays plain
        if (saved.failed()) {
          written.forEach((k, v) -> {
            if (!k.isEnded() && !k.isFenced()) {
              pending.putIfAbsent(k, v);
              if (refreshes.contains(k)) {
                fencedPending.add(k);
              }
            }
          });
        }
        if (put.failed()) {
          writtenPlain.forEach(k -> {
            if (!k.isEnded() && !k.isFenced()) {
              pending.putIfAbsent(k, null);
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

  private static <T> Future<T> attempt(java.util.function.Supplier<Future<T>> write) {
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
