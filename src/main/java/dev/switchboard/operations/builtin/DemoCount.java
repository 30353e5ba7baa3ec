package dev.switchboard.operations.builtin;

import dev.switchboard.operations.OpContext;
import dev.switchboard.operations.OperationKind;
import dev.switchboard.routing.ParamSchema;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * {@code demo.count {to: 1..1000000, interval_ms: 0..60000}}: stream frames {@code [n]} for n = 1..to,
 * one every interval (as fast as the client takes them at 0), result {@code {"count": to}}.
 * Timer-driven: it never holds a thread.
 */
public final class DemoCount implements OperationKind {
  @Override
  public String name() {
    return "demo.count";
  }

  @Override
  public ParamSchema params() {
    return ParamSchema.of(ParamSchema.integer("to").required().range(1, 1_000_000),
        ParamSchema.integer("interval_ms").range(0, 60_000));
  }

  /** Numbers streamed, of {@code to}. */
  @Override
  public long total(JsonObject params) {
    return params.getLong("to");
  }

  @Override
  public String unit() {
    return "numbers";
  }

  @Override
  public void start(OpContext ctx) {
    long to = ctx.params().getLong("to");
    long interval = ctx.params().getLong("interval_ms", 0L);
    next(ctx, 1, to, interval);
  }

  private void next(OpContext ctx, long n, long to, long interval) {
    if (ctx.cancelled()) {
      return;
    }
    if (n > to) {
      ctx.complete(new JsonObject().put("count", to));
      return;
    }
    ctx.emit(new JsonArray().add(n)).onComplete(ar -> {
      if (interval > 0) {
        ctx.vertx().setTimer(interval, t -> next(ctx, n + 1, to, interval));
      } else if (n % 256 == 0) {
        ctx.vertx().runOnContext(v -> next(ctx, n + 1, to, interval)); // keep the stack flat
      } else {
        next(ctx, n + 1, to, interval);
      }
    });
  }
}
