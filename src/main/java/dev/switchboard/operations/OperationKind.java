package dev.switchboard.operations;

import dev.switchboard.auth.Access;
import dev.switchboard.routing.ParamSchema;

/**
 * An operation kind: a streaming method whose work runs on a worker anywhere in the cluster (a
 * gateway node's workers, or an external service that joined the cluster). A new kind is one class
 * implementing this plus one registration ({@link OpWorker#register} on the nodes that run it; the
 * gateways expose it as a method through {@link OperationMethod}).
 */
public interface OperationKind {
  /** How identical requests share one running operation (PROTOCOL.md section 5). */
  enum Dedupe { NONE, USER, GLOBAL }

  String name();

  /** The params, validated on the client's node before anything runs. */
  ParamSchema params();

  default Access access() {
    return Access.CONNECTED;
  }

  /** Default: an identical in-flight request of the same user attaches to the running operation. */
  default Dedupe dedupe() {
    return Dedupe.USER;
  }

  /**
   * True for CPU-bound or blocking work: {@link #start} then runs on one of the node's operation
   * worker threads (their number is the node's operation capacity). Otherwise it runs on the
   * node's operation context and must not block (timer- or callback-driven work).
   */
  default boolean blocking() {
    return false;
  }

  /**
   * The total an operation of these (validated) params works through, when it is known before it
   * starts (items, bytes, …), else negative: every progress frame of the operation carries it, the
   * generic {@code queued} and {@code running} ones included (with {@code done} 0). Unknown, those
   * frames carry no figures at all rather than zeros.
   */
  default long total(io.vertx.core.json.JsonObject params) {
    return -1;
  }

  /** The unit of {@link #total} ("numbers", "rows", "bytes"…), or null. */
  default String unit() {
    return null;
  }

  /** The most an operation of this kind may take before it ends with TIMEOUT; 0 = no limit of its own. */
  default long deadlineMs() {
    return 0;
  }

  /**
   * Runs the operation: report with {@link OpContext#progress}, stream with {@link OpContext#emit}
   * (wait for its future before emitting more: that is the backpressure), end with exactly one
   * {@link OpContext#complete} or {@link OpContext#fail}; watch {@link OpContext#cancelled()}.
   * A thrown exception fails the operation with INTERNAL.
   */
  void start(OpContext ctx);
}
