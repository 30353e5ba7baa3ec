package dev.switchboard.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.vertx.core.Vertx;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * A client that follows topics through whatever node it can reach, as an application behind a load
 * balancer would: it subscribes, and when its connection closes or goes quiet for {@code quiet}, it
 * connects to another node and subscribes again with {@code since} = the last offset it saw. It
 * records every event (topic, epoch, offset, the publication's {@code data.id}) and what broke the
 * promise on the way: a gap in offsets, a {@code recovered:false}, an epoch change. Runs on its own
 * thread until {@link #stop}; bounded (at most {@link #MAX_SEEN} events kept).
 */
public final class Follower implements Runnable {
  public static final int MAX_SEEN = 200_000;

  /** An event as received. */
  public record Seen(String topic, String epoch, long offset, String id) {
  }

  private final String name;
  private final Vertx vertx;
  private final String token;
  private final List<String> topics;
  private final Supplier<InetSocketAddress> next;
  private final Duration quiet;
  private volatile boolean stop;
  private volatile InetSocketAddress node;
  private final Map<String, Long> last = new HashMap<>();
  private final Map<String, String> epochs = new HashMap<>();
  public final List<Seen> seen = Collections.synchronizedList(new ArrayList<>());
  public final List<String> problems = Collections.synchronizedList(new ArrayList<>());
  public final List<String> reconnects = Collections.synchronizedList(new ArrayList<>());
  public final List<Short> closes = Collections.synchronizedList(new ArrayList<>());
  private final Thread thread;

  /**
   * @param first the node it connects to first
   * @param next  the node to try after a close, a quiet spell or a refused upgrade
   */
  public Follower(String name, Vertx vertx, String token, List<String> topics, InetSocketAddress first,
                  Supplier<InetSocketAddress> next, Duration quiet) {
    this.name = name;
    this.vertx = vertx;
    this.token = token;
    this.topics = topics;
    this.node = first;
    this.next = next;
    this.quiet = quiet;
    this.thread = new Thread(this, "follower-" + name);
    this.thread.setDaemon(true);
  }

  public Follower start() {
    thread.start();
    return this;
  }

  public void stop() {
    stop = true;
    try {
      thread.join(15_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Whether a subscribe of {@code topic} was answered (on some node). */
  public synchronized boolean subscribed(String topic) {
    return last.containsKey(topic);
  }

  /** The last offset seen of {@code topic} (0: none). */
  public synchronized long last(String topic) {
    return last.getOrDefault(topic, 0L);
  }

  @Override
  public void run() {
    while (!stop) {
      WsClient.Upgrade up;
      try {
        up = WsClient.open(vertx, node.getHostString(), node.getPort(), "/ws?token=" + token, Map.of(), null);
      } catch (AssertionError unreachable) {
        up = null;
      }
      if (up == null || up.status() != 101) {
        node = next.get();
        pause(100);
        continue;
      }
      try (WsClient c = up.client()) {
        follow(c);
      }
      if (!stop) {
        node = next.get();
      }
    }
  }

  private void follow(WsClient c) {
    Map<Integer, String> pending = new HashMap<>();
    Map<Integer, Boolean> withSince = new HashMap<>();
    synchronized (this) {
      for (String t : topics) {
        ObjectNode p = WsClient.params().put("topic", t);
        Long at = last.get(t);
        if (at != null) {
          p.putObject("since").put("offset", at).put("epoch", epochs.get(t));
        }
        int id = c.request("topic.subscribe", p);
        pending.put(id, t);
        withSince.put(id, at != null);
      }
    }
    long quietSince = System.nanoTime();
    while (!stop) {
      JsonNode f = c.poll(Duration.ofMillis(100));
      if (f == null) {
        if (c.isClosed()) {
          closes.add(c.closeCode());
          return;
        }
        if (System.nanoTime() - quietSince > quiet.toNanos()) {
          return; // gone quiet: try another node, as a client behind a load balancer would
        }
        continue;
      }
      quietSince = System.nanoTime();
      switch (f.path("type").asText()) {
        case "event" -> event(f);
        case "reconnect" -> reconnects.add(f.path("reason").asText());
        case "result" -> subscribed(f, pending, withSince);
        case "error" -> {
          String t = pending.remove(f.path("id").asInt(-1));
          if (t != null) {
            return; // the subscribe was refused (e.g. UNAVAILABLE on a cut-off node): try another node
          }
        }
        default -> { }
      }
    }
  }

  private synchronized void subscribed(JsonNode f, Map<Integer, String> pending, Map<Integer, Boolean> withSince) {
    int id = f.path("id").asInt(-1);
    String t = pending.remove(id);
    if (t == null) {
      return;
    }
    JsonNode r = f.path("result");
    if (Boolean.TRUE.equals(withSince.get(id)) && !r.path("recovered").asBoolean()) {
      problems.add(name + ": " + t + " not recovered from " + last.get(t) + "@" + epochs.get(t) + ": " + r);
    }
    if (!last.containsKey(t) || !r.path("epoch").asText().equals(epochs.get(t))) {
      if (epochs.containsKey(t)) {
        problems.add(name + ": " + t + " epoch changed " + epochs.get(t) + " -> " + r.path("epoch").asText());
      }
      last.put(t, r.path("offset").asLong());
      epochs.put(t, r.path("epoch").asText());
    }
  }

  private synchronized void event(JsonNode f) {
    String t = f.path("topic").asText();
    String e = f.path("epoch").asText();
    long o = f.path("offset").asLong();
    Long at = last.get(t);
    if (at == null) {
      problems.add(name + ": " + t + " event before its subscribe answer: " + o);
      return;
    }
    if (!e.equals(epochs.get(t))) {
      problems.add(name + ": " + t + " epoch changed " + epochs.get(t) + " -> " + e + " at offset " + o);
      epochs.put(t, e);
      at = o - 1;
    }
    if (o <= at) {
      return; // a repeat (after a crash the replay may start before what was read): dropped by offset
    }
    if (o != at + 1) {
      problems.add(name + ": " + t + " gap: " + at + " -> " + o);
    }
    last.put(t, o);
    if (seen.size() < MAX_SEEN) {
      seen.add(new Seen(t, e, o, f.path("data").path("id").asText()));
    }
  }

  /** A random element of {@code nodes}. */
  public static Supplier<InetSocketAddress> anyOf(List<InetSocketAddress> nodes) {
    return () -> nodes.get(ThreadLocalRandom.current().nextInt(nodes.size()));
  }

  /** A node on loopback. */
  public static InetSocketAddress local(int port) {
    return InetSocketAddress.createUnresolved("127.0.0.1", port);
  }

  private static void pause(long ms) {
    try {
      Thread.sleep(ms); // between refused upgrades: a reconnect backoff, not a wait for a condition
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
