package dev.switchboard.cluster;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * Hazelcast async results as Vert.x futures. The callback is handed straight to a Vert.x context:
 * Hazelcast would otherwise complete on the common ForkJoin pool, which on 2 cores starts a thread
 * per callback (TECH-NOTES).
 */
public final class HzFutures {
  private HzFutures() {
  }

  public static <T> Future<T> on(Context context, CompletionStage<T> stage) {
    Promise<T> p = Promise.promise();
    stage.whenCompleteAsync((r, err) -> {
      if (err != null) {
        p.fail(unwrap(err));
      } else {
        p.complete(r);
      }
    }, cmd -> context.runOnContext(v -> cmd.run()));
    return p.future();
  }

  public static Throwable unwrap(Throwable t) {
    return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
  }
}
