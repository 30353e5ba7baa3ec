package dev.switchboard.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One WebSocket connection of the scale benches, subscribed to many topics: it counts what arrives
 * instead of queueing frames (WsClient's queue is replaced once the connection is up). Events are
 * kept as (topic, offset) sets so a bench can tell lost and duplicated deliveries; publication
 * results as (topic, offset) too, so the bench knows what was acknowledged.
 */
final class Peer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  final String name;
  final WsClient ws;
  final AtomicLong results = new AtomicLong();
  final AtomicLong errors = new AtomicLong();
  final AtomicLong events = new AtomicLong();
  final AtomicLong duplicates = new AtomicLong();
  /** topic → offsets received (events). */
  final Map<String, Set<Long>> received = new ConcurrentHashMap<>();
  /** request id → the publication whose result is awaited. */
  final Map<Integer, Sent> pending = new ConcurrentHashMap<>();
  /** topic → offset → nanoTime sent, for this connection's acknowledged publications. */
  final Map<String, Map<Long, Long>> acked = new ConcurrentHashMap<>();

  record Sent(String topic, long nanos) {
  }
  /** Latest error frame seen, for the report. */
  volatile String lastError;
  /** Called with (topic, offset, receive nanoTime) for every event; the bench's latency probe. */
  volatile EventHook hook;

  interface EventHook {
    void on(String topic, long offset, JsonNode data, long nanos);
  }

  Peer(Vertx vertx, int port, String name, String token) {
    this.name = name;
    this.ws = WsClient.connect(vertx, port, token);
    ws.connected();
    ws.socket().textMessageHandler(this::onText);
  }

  private void onText(String text) {
    long now = System.nanoTime();
    JsonNode f;
    try {
      f = JSON.readTree(text);
    } catch (Exception e) {
      errors.incrementAndGet();
      return;
    }
    switch (f.path("type").asText()) {
      case "event" -> {
        events.incrementAndGet();
        String topic = f.path("topic").asText();
        long offset = f.path("offset").asLong();
        if (!received.computeIfAbsent(topic, t -> ConcurrentHashMap.newKeySet()).add(offset)) {
          duplicates.incrementAndGet();
        }
        EventHook h = hook;
        if (h != null) {
          h.on(topic, offset, f.path("data"), now);
        }
      }
      case "result" -> {
        Sent s = pending.remove(f.path("id").asInt());
        if (s != null && f.path("result").has("offset")) {
          acked.computeIfAbsent(s.topic(), t -> new ConcurrentHashMap<>()).put(f.path("result").path("offset").asLong(), s.nanos());
        }
        results.incrementAndGet();
      }
      case "error" -> {
        pending.remove(f.path("id").asInt());
        errors.incrementAndGet();
        lastError = text.length() > 300 ? text.substring(0, 300) : text;
      }
      default -> {
      }
    }
  }

  private final java.util.concurrent.atomic.AtomicInteger ids = new java.util.concurrent.atomic.AtomicInteger();

  private int send(String method, ObjectNode params) {
    int id = ids.incrementAndGet();
    ObjectNode env = JSON.createObjectNode().put("id", id).put("method", method);
    env.set("params", params);
    ws.sendEnvelope(env);
    return id;
  }

  void subscribe(String topic) {
    send("topic.subscribe", WsClient.params().put("topic", topic));
  }

  void unsubscribe(String topic) {
    send("topic.unsubscribe", WsClient.params().put("topic", topic));
  }

  /** Publishes (the pending entry is in place before the request leaves, so its result always finds it). */
  void publish(String topic, ObjectNode data) {
    ObjectNode p = WsClient.params().put("topic", topic);
    p.set("data", data);
    int id = ids.incrementAndGet();
    pending.put(id, new Sent(topic, System.nanoTime()));
    ObjectNode env = JSON.createObjectNode().put("id", id).put("method", "topic.publish");
    env.set("params", p);
    ws.sendEnvelope(env);
  }

  /** Waits until results + errors reach {@code n} (bounded). */
  boolean awaitAnswers(long n, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (results.get() + errors.get() < n) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      java.util.concurrent.locks.LockSupport.parkNanos(2_000_000);
    }
    return true;
  }

  long answers() {
    return results.get() + errors.get();
  }

  @Override
  public void close() {
    ws.close();
  }
}
