package dev.switchboard.transport;

import io.vertx.core.Context;
import io.vertx.core.Vertx;

/** Small event-loop helpers. */
final class Io {
  private Io() {
  }

  /** True when the caller runs on this very context (so state owned by it may be touched directly). */
  static boolean onContext(Context context) {
    return Context.isOnEventLoopThread() && Vertx.currentContext() == context;
  }
}
