package dev.switchboard.operations;

import dev.switchboard.protocol.ErrorCode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

/** What a running operation sees. Every method is safe from any thread. */
public interface OpContext {
  String opId();

  /** The validated params, as sent. */
  JsonObject params();

  Vertx vertx();

  /**
   * A progress frame. It never blocks the producer: while a client cannot take more frames, pending
   * progress frames coalesce (latest wins), so the client sees the newest figures when it catches up.
   * A negative {@code done}, {@code total} or {@code etaMs} and a null {@code unit} or {@code message}
   * are unknown and left out of the frame; an unknown total (and unit) is filled in from the kind's
   * {@link OperationKind#total}, when it declares one.
   */
  void progress(String stage, long done, long total, String unit, long etaMs, String message);

  /**
   * A stream frame (a batch of output). Never dropped: the future completes once the frame was
   * accepted downstream with room for more; the producer waits for it before emitting the next.
   */
  Future<Void> emit(Object data);

  /** True once the operation was cancelled (by a client, a service, as an orphan, or at its deadline). */
  boolean cancelled();

  /** Epoch milliseconds by which the operation must end (TIMEOUT after), or 0 without a deadline. */
  long deadline();

  /** Runs once when the operation is cancelled or times out (at once if it already is). */
  void onCancel(Runnable action);

  /** The terminal success; later terminal calls are ignored. */
  void complete(Object result);

  /** The terminal failure; later terminal calls are ignored. */
  void fail(ErrorCode code, String message);

  /** A blocking wait for {@link #emit}'s future, for blocking kinds; returns false when cancelled meanwhile. */
  boolean awaitAccepted(Future<Void> accepted);

  /** Convenience for {@code new JsonObject()}-style results. */
  static JsonObject result() {
    return new JsonObject();
  }
}
