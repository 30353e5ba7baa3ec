package dev.switchboard.transport;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.protocol.FrameCodec;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Well-behaved clients connected for the whole fuzz run: on every tick, a ping is answered and a
 * publication reaches a JSON and a CBOR subscriber. Its own thread; the first failure is kept.
 */
final class FuzzWatchdog implements AutoCloseable {
  static final String TOPIC = "chat:watch";
  static final Duration WAIT = Duration.ofSeconds(10);

  private final WsClient publisher;
  private final WsClient jsonSubscriber;
  private final WsClient cborSubscriber;
  private final Semaphore ticks = new Semaphore(0);
  private final Thread thread;
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private volatile boolean stopping;
  private volatile int rounds;
  private volatile long slowestMs;

  FuzzWatchdog(Vertx vertx, int port) {
    publisher = WsClient.connect(vertx, port, Tokens.user("watch-pub", "chat:*"));
    jsonSubscriber = WsClient.connect(vertx, port, Tokens.user("watch-json", "chat:*"));
    cborSubscriber = WsClient.open(vertx, port, "/ws?token=" + Tokens.user("watch-cbor", "chat:*"), Map.of(),
        FrameCodec.CBOR_SUBPROTOCOL).ok();
    for (WsClient s : new WsClient[] {jsonSubscriber, cborSubscriber}) {
      JsonNode r = s.call("topic.subscribe", WsClient.params().put("topic", TOPIC));
      if (!"result".equals(r.path("type").asText())) {
        throw new AssertionError("watchdog could not subscribe: " + r);
      }
    }
    round(); // everything works before the fuzzing starts
    thread = new Thread(this::run, "fuzz-watchdog");
    thread.setDaemon(true);
    thread.start();
  }

  /** Asks for a round (cheap; rounds run one after another on the watchdog's thread). */
  void tick() {
    ticks.release();
  }

  Throwable failure() {
    return failure.get();
  }

  int rounds() {
    return rounds;
  }

  long slowestMs() {
    return slowestMs;
  }

  private void run() {
    try {
      while (!stopping) {
        if (ticks.tryAcquire(200, TimeUnit.MILLISECONDS)) {
          ticks.drainPermits();
          round();
        }
      }
    } catch (Throwable t) {
      failure.compareAndSet(null, t);
    }
  }

  /** A ping answered; a publication delivered to both subscribers; the time it all took. */
  private void round() {
    long t0 = System.nanoTime();
    int n = ++rounds;
    JsonNode ping = publisher.call("system.ping", null);
    if (!"result".equals(ping.path("type").asText())) {
      throw new AssertionError("watchdog round " + n + ": ping answered " + ping);
    }
    JsonNode pub = publisher.call("topic.publish", WsClient.params().put("topic", TOPIC).set("data",
        WsClient.params().put("n", n)));
    if (!"result".equals(pub.path("type").asText())) {
      throw new AssertionError("watchdog round " + n + ": publish answered " + pub);
    }
    for (WsClient s : new WsClient[] {jsonSubscriber, cborSubscriber}) {
      s.await(f -> "event".equals(f.path("type").asText()) && f.at("/data/n").asInt() == n, WAIT);
    }
    slowestMs = Math.max(slowestMs, (System.nanoTime() - t0) / 1_000_000);
  }

  /** Stops the thread after one last round, and closes the clients. */
  @Override
  public void close() {
    stopping = true;
    try {
      thread.join(WAIT.toMillis() * 3);
      if (failure.get() == null) {
        round();
      }
    } catch (Throwable t) {
      failure.compareAndSet(null, t);
    } finally {
      publisher.close();
      jsonSubscriber.close();
      cborSubscriber.close();
    }
  }
}
