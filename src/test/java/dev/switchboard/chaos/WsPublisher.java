package dev.switchboard.chaos;

import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;

/**
 * Publishes over WebSocket ({@code topic.publish}) at a steady rate to random topics, each
 * publication carrying its own id in its data. An answer {@code {offset, epoch}} acknowledges it; a
 * retryable refusal (UNAVAILABLE, RATE_LIMITED, …) is retried with the same id (at most 5 attempts);
 * a connection that closes before the answer leaves it UNKNOWN (never retried: it may have landed).
 * At most {@link #MAX_IN_FLIGHT} unanswered at once: a tick with that many is skipped and counted.
 */
final class WsPublisher extends WsPeer {
  static final int MAX_IN_FLIGHT = 200;
  static final int MAX_ATTEMPTS = 5;

  private final String name;
  private final int topics;
  private final double perSecond;
  private int inFlight;
  private long timer = -1;
  private boolean stopped;
  private long ticks;
  private long startNanos;

  WsPublisher(Vertx vertx, WebSocketClient client, ChaosCluster cluster, Recorder recorder, long seed, String token,
              String name, int topics, double perSecond) {
    super(vertx, client, cluster, recorder, seed, token, name, name);
    this.name = name;
    this.topics = topics;
    this.perSecond = perSecond;
  }

  @Override
  protected void onConnected(JsonObject connected, boolean resumed, NodeProcess node, int incarnation) {
    if (timer < 0 && !stopped) {
      startNanos = System.nanoTime();
      timer = vertx.setPeriodic(20, t -> tick());
    }
  }

  @Override
  protected void onFrame(JsonObject frame) {
  }

  /** Publishes what is due since the start (a steady rate, whatever the timer's jitter). */
  private void tick() {
    long due = (long) ((System.nanoTime() - startNanos) / 1e9 * perSecond);
    while (ticks < due && !stopped) {
      ticks++;
      if (!isOpen() || inFlight >= MAX_IN_FLIGHT) {
        recorder.count("publish.skipped." + name);
        continue;
      }
      Publication p = recorder.publication(random.nextInt(topics), name);
      if (p == null) {
        return;
      }
      send(p);
    }
  }

  private void send(Publication p) {
    p.attempts++;
    inFlight++;
    JsonObject params = new JsonObject().put("topic", recorder.topics.get(p.topic))
        .put("data", new JsonObject().put("p", p.id));
    p.node = nodeId;
    String id = request("topic.publish", params, r -> {
      inFlight--;
      String type = r.getString("type");
      if (type.equals("result")) {
        JsonObject res = r.getJsonObject("result");
        p.ackEpoch = recorder.epoch(res.getString("epoch"));
        p.ackOffset = res.getLong("offset");
        p.ackAt = recorder.now();
        p.outcome = Publication.Outcome.ACKED;
      } else if (type.equals("error")) {
        JsonObject err = r.getJsonObject("error", new JsonObject());
        p.lastError = err.getString("code");
        recorder.count("publish.error." + p.lastError);
        if (err.getBoolean("retryable", false) && p.attempts < MAX_ATTEMPTS && !stopped) {
          long after = Math.max(200, err.getLong("retry_after_ms", 0L));
          vertx.setTimer(after, t -> retry(p));
        } else {
          p.outcome = Publication.Outcome.FAILED;
        }
      } else {
        p.lastError = type;
        p.outcome = Publication.Outcome.UNKNOWN;
      }
    });
    if (id == null) {
      inFlight--;
      p.lastError = "not connected";
      p.outcome = Publication.Outcome.FAILED; // this attempt was never sent, the earlier ones were refused
    }
  }

  private void retry(Publication p) {
    if (isOpen() && !stopped) {
      recorder.count("publish.retry");
      send(p);
    } else {
      vertx.setTimer(300, t -> {
        if (stopped) {
          p.outcome = Publication.Outcome.FAILED;
        } else {
          retry(p);
        }
      });
    }
  }

  /** No new publications from now on (answers still count); from any thread. */
  void stopPublishing() {
    context.runOnContext(v -> {
      stopped = true;
      if (timer >= 0) {
        vertx.cancelTimer(timer);
      }
    });
  }

  /** Unanswered publications now (read from another thread through the context). */
  io.vertx.core.Future<Integer> inFlight() {
    io.vertx.core.Promise<Integer> pr = io.vertx.core.Promise.promise();
    context.runOnContext(v -> pr.complete(inFlight));
    return pr.future();
  }
}
