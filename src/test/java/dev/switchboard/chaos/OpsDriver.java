package dev.switchboard.chaos;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Random;

/**
 * Starts {@code demo.count} operations at a steady rate from the devices of the operation users
 * (each user has two devices, two clients, usually on different nodes): distinct params per
 * operation (2-5 s long), and once its op id is known, half of them are also attached from the
 * user's other device ({@code op.attach}) and 30 % cancelled 0.3-3 s later from either device.
 * With {@link #primes} a share of them are {@code demo.primes} instead (a CPU-bound kind on the
 * operation threads, 50,000-250,000: up to 23 frames of 1,000 primes), attached and cancelled alike.
 */
final class OpsDriver {
  private final Vertx vertx;
  private final Context context;
  private final List<ChaosClient[]> users;
  private final Recorder recorder;
  private final Random random;
  private final double perMinute;
  private long timer = -1;
  private long started;
  private long startNanos;
  private long ticks;
  private double primesShare;

  OpsDriver(Vertx vertx, List<ChaosClient[]> users, Recorder recorder, long seed, double perMinute) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.users = users;
    this.recorder = recorder;
    this.random = new Random(seed);
    this.perMinute = perMinute;
  }

  /** This share of the operations (0..1) are {@code demo.primes}; before {@link #start}. */
  OpsDriver primes(double share) {
    this.primesShare = share;
    return this;
  }

  void start() {
    if (perMinute <= 0) {
      return;
    }
    context.runOnContext(v -> {
      startNanos = System.nanoTime();
      timer = vertx.setPeriodic(100, t -> tick());
    });
  }

  void stop() {
    context.runOnContext(v -> {
      if (timer >= 0) {
        vertx.cancelTimer(timer);
      }
    });
  }

  private void tick() {
    long due = (long) ((System.nanoTime() - startNanos) / 60e9 * perMinute);
    while (ticks < due) {
      ticks++;
      ChaosClient[] pair = users.get(random.nextInt(users.size()));
      int a = random.nextInt(2);
      ChaosClient starter = pair[a];
      ChaosClient other = pair[1 - a];
      long durationMs = 2_000 + random.nextInt(3_001);
      int to = 20 + random.nextInt(31);
      boolean primes = primesShare > 0 && random.nextDouble() < primesShare; // no draw otherwise: seeds replay
      String method = primes ? "demo.primes" : "demo.count";
      JsonObject params = primes
          ? new JsonObject().put("limit", 50_000 + random.nextInt(200_001)).put("batch", 1000)
          : new JsonObject().put("to", to).put("interval_ms", durationMs / to);
      boolean attach = random.nextDouble() < 0.5;
      boolean cancel = random.nextDouble() < 0.3;
      long cancelAfter = 300 + random.nextInt(2_701);
      boolean cancelFromOther = random.nextBoolean();
      started++;
      starter.run(() -> starter.startOp(method, params, opId -> {
        if (opId == null) {
          return;
        }
        if (attach) {
          other.run(() -> other.attach(opId));
        }
        if (cancel) {
          ChaosClient by = cancelFromOther ? other : starter;
          vertx.setTimer(cancelAfter, t -> by.call("op.cancel", new JsonObject().put("op_id", opId)).onComplete(ar -> {
            JsonObject r = ar.result();
            String what = r.getString("type").equals("result")
                ? "state=" + r.getJsonObject("result").getString("state")
                : r.getString("type").equals("error") ? "error " + r.getJsonObject("error").getString("code")
                : r.getString("type");
            recorder.op(opId, starter.user, starter.index, params.encode()).cancels
                .add("by " + by.user + "/" + by.device + " at " + recorder.now() + "ms: " + what);
          }));
        }
      }));
    }
  }
}
