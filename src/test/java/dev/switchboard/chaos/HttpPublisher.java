package dev.switchboard.chaos;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;

import java.util.Random;

/**
 * Publishes over the service HTTP API ({@code POST /api/v1/publish}, role {@code service}) to random
 * live nodes, at a steady rate. 200 acknowledges; 503 or 429 is retried with the same id (at most 5
 * attempts, to whichever node is live then); no answer within 5 s or a broken connection leaves the
 * publication UNKNOWN. At most {@link #MAX_IN_FLIGHT} unanswered at once.
 */
final class HttpPublisher {
  static final int MAX_IN_FLIGHT = 200;
  static final int MAX_ATTEMPTS = 5;

  private final Vertx vertx;
  private final Context context;
  private final ChaosCluster cluster;
  private final Recorder recorder;
  private final Random random;
  private final String name;
  private final int topics;
  private final double perSecond;
  private int inFlight;
  private long timer = -1;
  private boolean stopped;
  private long ticks;
  private long startNanos;

  HttpPublisher(Vertx vertx, ChaosCluster cluster, Recorder recorder, long seed, String name, int topics,
                double perSecond) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.cluster = cluster;
    this.recorder = recorder;
    this.random = new Random(seed);
    this.name = name;
    this.topics = topics;
    this.perSecond = perSecond;
  }

  void start() {
    context.runOnContext(v -> {
      startNanos = System.nanoTime();
      timer = vertx.setPeriodic(20, t -> tick());
    });
  }

  private void tick() {
    long due = (long) ((System.nanoTime() - startNanos) / 1e9 * perSecond);
    while (ticks < due && !stopped) {
      ticks++;
      if (inFlight >= MAX_IN_FLIGHT) {
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

  /** Sends (or retries) one publication; also used for the end-of-run markers. */
  void send(Publication p) {
    NodeProcess node = cluster.pickLive(random);
    if (node == null) {
      vertx.setTimer(300, t -> {
        if (stopped && !p.source.equals("marker")) {
          p.outcome = Publication.Outcome.FAILED;
          p.lastError = "no live node";
        } else {
          send(p);
        }
      });
      return;
    }
    p.attempts++;
    p.node = node.nodeId();
    inFlight++;
    String body = new JsonObject().put("topic", recorder.topics.get(p.topic))
        .put("data", new JsonObject().put("p", p.id)).encode();
    cluster.http().call(HttpMethod.POST, node, "/api/v1/publish", cluster.serviceToken(), body, 5_000)
        .onComplete(ar -> context.runOnContext(v -> answer(p, ar.result())));
  }

  private void answer(Publication p, HttpCalls.Response r) {
    inFlight--;
    if (r.status() == 200) {
      JsonObject res = new JsonObject(r.body());
      p.ackEpoch = recorder.epoch(res.getString("epoch"));
      p.ackOffset = res.getLong("offset");
      p.ackAt = recorder.now();
      p.outcome = Publication.Outcome.ACKED;
    } else if (r.status() == 503 || r.status() == 429) {
      p.lastError = "HTTP " + r.status();
      recorder.count("publish.error." + name + "." + r.status());
      boolean marker = p.source.equals("marker");
      if ((marker || !stopped) && p.attempts < (marker ? 50 : MAX_ATTEMPTS)) {
        vertx.setTimer(200 + random.nextInt(300), t -> send(p));
      } else {
        p.outcome = Publication.Outcome.FAILED;
      }
    } else if (r.status() == 0) {
      p.lastError = r.failure();
      p.outcome = Publication.Outcome.UNKNOWN;
      recorder.count("publish.unknown." + name);
    } else {
      p.lastError = "HTTP " + r.status() + " " + r.body();
      p.outcome = Publication.Outcome.FAILED;
    }
  }

  void stopPublishing() {
    context.runOnContext(v -> {
      stopped = true;
      if (timer >= 0) {
        vertx.cancelTimer(timer);
      }
    });
  }

  io.vertx.core.Future<Integer> inFlight() {
    io.vertx.core.Promise<Integer> pr = io.vertx.core.Promise.promise();
    context.runOnContext(v -> pr.complete(inFlight));
    return pr.future();
  }

  /** Publishes an end-of-run marker (retried on 503/429 up to 50 times, until acknowledged or unknown); from any thread. */
  void sendMarker(Publication p) {
    context.runOnContext(v -> send(p));
  }
}
