package dev.switchboard.operations.builtin;

import dev.switchboard.operations.OpContext;
import dev.switchboard.operations.OperationKind;
import dev.switchboard.routing.ParamSchema;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.BitSet;

/**
 * {@code demo.primes {limit: 2..10^12, batch: 1..10000 (100)}}: the primes up to limit, ascending,
 * in stream frames of at most {@code batch}; progress {@code done/total} = numbers checked / limit;
 * result {@code {"count": primes found}}. CPU-bound: a segmented sieve on an operation worker
 * thread, checking for cancellation between segments (a few ms each), so a cancel ends it within
 * milliseconds even at 10^12.
 */
public final class DemoPrimes implements OperationKind {
  static final int SEGMENT = 1 << 18;

  @Override
  public String name() {
    return "demo.primes";
  }

  @Override
  public ParamSchema params() {
    return ParamSchema.of(ParamSchema.integer("limit").required().range(2, 1_000_000_000_000L),
        ParamSchema.integer("batch").range(1, 10_000));
  }

  /** Numbers checked, of {@code limit}. */
  @Override
  public long total(JsonObject params) {
    return params.getLong("limit");
  }

  @Override
  public String unit() {
    return "numbers";
  }

  @Override
  public boolean blocking() {
    return true;
  }

  @Override
  public void start(OpContext ctx) {
    long limit = ctx.params().getLong("limit");
    int batch = ctx.params().getLong("batch", 100L).intValue();
    int root = (int) Math.sqrt((double) limit) + 1;
    // base primes up to sqrt(limit) (at most 10^6)
    BitSet composite = new BitSet(root + 1);
    for (int i = 2; (long) i * i <= root; i++) {
      if (!composite.get(i)) {
        for (int j = i * i; j <= root; j += i) {
          composite.set(j);
        }
      }
    }
    int[] base = basePrimes(composite, root);
    long count = 0;
    JsonArray out = new JsonArray();
    long lastProgress = 0;
    boolean[] seg = new boolean[SEGMENT];
    for (long low = 2; low <= limit; low += SEGMENT) {
      if (ctx.cancelled()) {
        return;
      }
      long high = Math.min(limit, low + SEGMENT - 1);
      java.util.Arrays.fill(seg, false);
      for (int p : base) {
        long pp = (long) p * p;
        if (pp > high) {
          break;
        }
        long start = Math.max(pp, ((low + p - 1) / p) * p);
        for (long j = start; j <= high; j += p) {
          seg[(int) (j - low)] = true;
        }
      }
      for (long n = low; n <= high; n++) {
        if (!seg[(int) (n - low)]) {
          count++;
          out.add(n);
          if (out.size() == batch) {
            if (!ctx.awaitAccepted(ctx.emit(out))) {
              return; // cancelled while waiting for the client
            }
            out = new JsonArray();
          }
        }
      }
      long now = System.currentTimeMillis();
      if (now - lastProgress >= 100 || high == limit) {
        lastProgress = now;
        ctx.progress("processing", high, limit, "numbers", -1, null);
      }
    }
    if (!out.isEmpty() && !ctx.awaitAccepted(ctx.emit(out))) {
      return;
    }
    ctx.complete(new JsonObject().put("count", count));
  }

  private static int[] basePrimes(BitSet composite, int root) {
    return java.util.stream.IntStream.rangeClosed(2, root).filter(i -> !composite.get(i)).toArray();
  }
}
