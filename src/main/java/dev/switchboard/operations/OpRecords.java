package dev.switchboard.operations;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The registry's copy of the runs of one worker: written when a run starts and when it ends
 * (exactly, its terminal kept), and while it runs at most every {@link #EVERY_MS} and at most that
 * much behind (a trailing write carries the latest figures). Frames are not written one by one:
 * op.status and op.list ask the worker's node for the live figures and use this copy only when it
 * does not answer. Confined to the worker's context.
 */
final class OpRecords {
  static final long EVERY_MS = 500;
  /** Largest terminal frame (JSON) the registry keeps with a finished operation. */
  static final int MAX_KEPT_TERMINAL = 64 << 10;

  private final Vertx vertx;
  private final Context ctx;
  private final OpRegistry registry;
  private final String nodeId;
  private final java.util.function.Supplier<String> memberId;
  private final Map<String, Long> lastWritten = new HashMap<>();
  /** Runs with a trailing write scheduled. */
  private final Set<String> due = new HashSet<>();

  OpRecords(Vertx vertx, Context ctx, OpRegistry registry, String nodeId, java.util.function.Supplier<String> memberId) {
    this.vertx = vertx;
    this.ctx = ctx;
    this.registry = registry;
    this.nodeId = nodeId;
    this.memberId = memberId;
  }

  /** A frame went out: the figures are written now, or by a trailing write within {@link #EVERY_MS}. */
  void progress(OpRun run) {
    long now = System.currentTimeMillis();
    Long last = lastWritten.get(run.opId);
    if (last == null || now - last >= EVERY_MS) {
      lastWritten.put(run.opId, now);
      write(run);
    } else if (due.add(run.opId)) {
      vertx.setTimer(Math.max(1, EVERY_MS - (now - last)), t -> ctx.runOnContext(v -> {
        if (due.remove(run.opId) && !run.finished()) {
          lastWritten.put(run.opId, System.currentTimeMillis());
          write(run);
        }
      }));
    }
  }

  /**
   * The run was accepted: its first write, which its first frame waits for. Frames within
   * {@link #EVERY_MS} after it go as one trailing write, so a run that ends by then is written twice
   * (here and its end), not three times.
   */
  void started(OpRun run) {
    lastWritten.put(run.opId, System.currentTimeMillis());
    write(run);
  }

  /** The run ended: its final state, seq and terminal. */
  void finished(OpRun run) {
    lastWritten.remove(run.opId);
    due.remove(run.opId);
    write(run);
  }

  /**
   * Writes the run's status to the registry after its previous write completed: concurrent async
   * writes of one key can land out of order (a first write retried while partitions settle landed
   * after the final one and left a finished operation "queued").
   */
  void write(OpRun run) {
    JsonObject status = status(run);
    run.lastWrite = run.lastWrite.transform(ar -> registry.put(ctx, status));
  }

  private JsonObject status(OpRun run) {
    JsonObject s = new JsonObject().put("op_id", run.opId).put("user", run.user).put("method", run.method)
        .put("state", run.state()).put("stage", run.stage).put("seq", run.seq).put("node", nodeId)
        .put("member", memberId.get()).put("dedupe", run.dedupeKey).put("created_at", run.createdAt);
    if (run.finished() && run.terminalFrame.encode().length() <= MAX_KEPT_TERMINAL) {
      // a resumed session whose client has all but the terminal gets it from here once this node
      // is gone or has forgotten the run
      s.put("terminal", run.terminalFrame);
    }
    return s;
  }
}
