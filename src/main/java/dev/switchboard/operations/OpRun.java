package dev.switchboard.operations;

import dev.switchboard.protocol.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One operation on its worker node. All state is confined to the worker's context; the producer
 * may call in from any thread (calls hop onto the context). Frames get their seq here, go into a
 * bounded replay buffer (for attach) and to every attached client node, at most {@link #WINDOW}
 * unanswered per node: past that, stream frames make the producer wait and progress frames
 * coalesce.
 */
final class OpRun implements OpContext {
  static final int WINDOW = 64;
  /** Most frames kept for replay per operation... */
  static final int REPLAY = 1024;
  /** ...and most bytes (JSON) they may take: frames can be large (a batch of 10,000 primes is ~100 KB). */
  static final long REPLAY_BYTES = 4L << 20;

  /** A client node attached to this operation, with its attachments there. */
  static final class Link {
    final String node;
    final String member;
    final List<String> atts = new ArrayList<>();
    int inflight;
    JsonObject pendingProgress;

    Link(String node, String member) {
      this.node = node;
      this.member = member;
    }
  }

  final OpWorker worker;
  final String opId;
  final String user;
  final String method;
  final JsonObject params;
  final String dedupeKey;
  final long createdAt = System.currentTimeMillis();
  final Map<String, Link> links = new LinkedHashMap<>();
  final ArrayDeque<JsonObject> replay = new ArrayDeque<>();
  private final ArrayDeque<Integer> replaySizes = new ArrayDeque<>();
  long replayBytes;
  final AtomicBoolean cancelled = new AtomicBoolean();
  /** 0 queued, 1 running, 2 ended: moved by CAS since "running" is set on a worker thread (see OpWorker#running). */
  final java.util.concurrent.atomic.AtomicInteger phase = new java.util.concurrent.atomic.AtomicInteger();
  private final List<Runnable> cancelActions = new ArrayList<>();
  private final List<Promise<Void>> waiting = new ArrayList<>();
  long seq;
  String stage = "queued";
  /** The figures of the last progress frame (-1: none), for the admin API. */
  long done = -1;
  long shownTotal = -1;
  JsonObject terminalFrame;
  long orphanTimer = -1;
  long deadline;
  /** The registry write in flight for this run; the next one waits for it. */
  io.vertx.core.Future<Void> lastWrite = io.vertx.core.Future.succeededFuture();
  /** The worker member its user's slot is counted on (see OpSlots), or null when no cap applies. Worker context. */
  String slotMember;

  /** What the kind declared it works through (negative: unknown), and its unit. */
  final long total;
  final String unit;

  OpRun(OpWorker worker, String opId, String user, String method, JsonObject params, String dedupeKey, long total,
        String unit) {
    this.worker = worker;
    this.total = total;
    this.unit = unit;
    this.opId = opId;
    this.user = user;
    this.method = method;
    this.params = params;
    this.dedupeKey = dedupeKey;
  }

  boolean finished() {
    return terminalFrame != null;
  }

  String state() {
    if (terminalFrame == null) {
      return "queued".equals(stage) ? "queued" : "running";
    }
    if ("result".equals(terminalFrame.getString("type"))) {
      return "done";
    }
    return "CANCELLED".equals(terminalFrame.getJsonObject("error").getString("code")) ? "cancelled" : "error";
  }

  // ------------------------------------------------------------------ producer side (any thread)

  @Override
  public String opId() {
    return opId;
  }

  @Override
  public JsonObject params() {
    return params;
  }

  @Override
  public Vertx vertx() {
    return worker.vertx();
  }

  @Override
  public void progress(String stage, long done, long total, String unit, long etaMs, String message) {
    boolean declared = total < 0 && this.total >= 0; // a known total goes in every progress frame
    long t = declared ? this.total : total;
    String u = declared && unit == null ? this.unit : unit;
    worker.onContext(() -> {
      if (!finished()) {
        this.stage = stage;
        this.done = done;
        this.shownTotal = t;
        frame(OpFrames.progress(opId, ++seq, stage, done, t, u, etaMs, message), false);
      }
    });
  }

  @Override
  public Future<Void> emit(Object data) {
    Promise<Void> accepted = Promise.promise();
    worker.onContext(() -> {
      if (finished()) {
        accepted.tryComplete();
        return;
      }
      frame(OpFrames.stream(opId, ++seq, data), true);
      if (roomForMore()) {
        accepted.tryComplete();
      } else {
        waiting.add(accepted);
      }
    });
    return accepted.future();
  }

  @Override
  public boolean awaitAccepted(Future<Void> accepted) {
    while (!cancelled()) {
      try {
        accepted.toCompletionStage().toCompletableFuture().get(50, TimeUnit.MILLISECONDS);
        return !cancelled();
      } catch (java.util.concurrent.TimeoutException e) {
        // check for cancellation, then wait again
      } catch (Exception e) {
        return false;
      }
    }
    return false;
  }

  @Override
  public long deadline() {
    return deadline;
  }

  @Override
  public boolean cancelled() {
    return cancelled.get();
  }

  @Override
  public void onCancel(Runnable action) {
    worker.onContext(() -> {
      if (cancelled()) {
        action.run();
      } else {
        cancelActions.add(action);
      }
    });
  }

  @Override
  public void complete(Object result) {
    worker.onContext(() -> terminal(OpFrames.result(opId, seq + 1, result)));
  }

  @Override
  public void fail(ErrorCode code, String message) {
    worker.onContext(() -> terminal(OpFrames.error(opId, seq + 1, code, message)));
  }

  // ------------------------------------------------------------------ on the worker's context

  /** The producer may go on: the replay buffer has room and no client node is a full window behind. */
  private boolean roomForMore() {
    if (links.isEmpty()) {
      // nobody attached: buffer for a later attach, then wait
      return replay.size() < REPLAY - 1 && replayBytes < REPLAY_BYTES / 2;
    }
    for (Link l : links.values()) {
      if (l.inflight >= WINDOW) {
        return false;
      }
    }
    return true;
  }

  void cancel(String why) {
    stop(OpFrames.error(opId, seq + 1, ErrorCode.CANCELLED, why));
  }

  /** The deadline passed: the producer is stopped like a cancel, and the terminal is TIMEOUT. */
  void timeout() {
    stop(OpFrames.error(opId, seq + 1, ErrorCode.TIMEOUT, "the operation exceeded its deadline"));
  }

  private void stop(JsonObject terminal) {
    if (finished() || !cancelled.compareAndSet(false, true)) {
      return;
    }
    for (Runnable r : cancelActions) {
      try {
        r.run();
      } catch (RuntimeException e) {
        // a producer's cancel hook must not stop the terminal
      }
    }
    cancelActions.clear();
    terminal(terminal);
  }

  /** Exactly one terminal, whatever races (cancel, completion, failure). */
  void terminal(JsonObject frame) {
    if (finished()) {
      return;
    }
    seq = frame.getLong("seq");
    terminalFrame = frame;
    keep(frame); // an attach from now on replays it
    waiting.forEach(Promise::tryComplete);
    waiting.clear();
    worker.finished(this);
    // The registry shows the end before any client sees the terminal: op.status and op.list
    // called after a terminal never show the operation as running.
    lastWrite.onComplete(ar -> worker.onContext(() -> {
      for (Link l : links.values()) {
        l.pendingProgress = null; // the terminal says more than any progress frame left behind
        worker.send(this, l, frame);
      }
    }));
  }

  private void keep(JsonObject frame) {
    int size = frame.encode().length();
    replay.add(frame);
    replaySizes.add(size);
    replayBytes += size;
    while (replay.size() > REPLAY || (replayBytes > REPLAY_BYTES && replay.size() > 1)) {
      replay.poll();
      replayBytes -= replaySizes.poll();
    }
  }

  private void frame(JsonObject frame, boolean mustSend) {
    boolean progress = "progress".equals(frame.getString("type"));
    if (progress && links.isEmpty() && (replay.size() >= REPLAY - 1 || replayBytes >= REPLAY_BYTES / 2)) {
      worker.recordProgress(this);
      return; // nobody to show it to, and no room: a later progress frame carries newer figures
    }
    keep(frame);
    for (Link l : links.values()) {
      if (progress && !mustSend && l.inflight >= WINDOW) {
        l.pendingProgress = frame; // latest wins
      } else {
        if (l.pendingProgress != null) {
          // a coalesced progress frame goes before any later frame: seq never goes back for a client
          JsonObject p = l.pendingProgress;
          l.pendingProgress = null;
          worker.send(this, l, p);
        }
        worker.send(this, l, frame);
      }
    }
    worker.recordProgress(this);
  }

  /** A client node answered a frame. */
  void acked(Link l) {
    l.inflight--;
    if (links.get(l.node) != l) {
      l.pendingProgress = null; // a link that went: nobody to send it to
    }
    if (l.pendingProgress != null && l.inflight < WINDOW) {
      JsonObject p = l.pendingProgress;
      l.pendingProgress = null;
      worker.send(this, l, p);
    }
    if (roomForMore() && !waiting.isEmpty()) {
      List<Promise<Void>> go = new ArrayList<>(waiting);
      waiting.clear();
      go.forEach(Promise::tryComplete);
    }
  }

  /** Frames after {@code afterSeq} still in the buffer; null when some of them are gone. */
  List<JsonObject> since(long afterSeq) {
    List<JsonObject> out = new ArrayList<>();
    JsonObject first = replay.peekFirst();
    if (first != null && first.getLong("seq") > afterSeq + 1 && afterSeq < seq) {
      return null;
    }
    for (JsonObject f : replay) {
      if (f.getLong("seq") > afterSeq) {
        out.add(f);
      }
    }
    return out;
  }

  /** Attachments changed: room may have opened, and an orphan timer is armed or disarmed. */
  void attachmentsChanged() {
    if (roomForMore() && !waiting.isEmpty()) {
      List<Promise<Void>> go = new ArrayList<>(waiting);
      waiting.clear();
      go.forEach(Promise::tryComplete);
    }
    worker.orphanCheck(this);
  }
}
