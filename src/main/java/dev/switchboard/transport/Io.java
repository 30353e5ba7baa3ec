package dev.switchboard.transport;

import io.vertx.core.Context;
import io.vertx.core.internal.ContextInternal;

/** Small event-loop helpers. */
final class Io {
  private Io() {
  }

  /**
   * True when the caller runs on the thread of this context's event loop, so state owned by it may
   * be touched directly. Compared by thread, not by context object: Vert.x runs a socket's handlers
   * on duplicated contexts of the same loop, and a mix of direct writes (same context object) and
   * hops (a duplicate) would reorder frames.
   */
  static boolean onContext(Context context) {
    return ((ContextInternal) context).nettyEventLoop().inEventLoop();
  }
}
