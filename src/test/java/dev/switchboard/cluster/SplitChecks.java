package dev.switchboard.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.protocol.Json;
import dev.switchboard.testsupport.Follower;
import dev.switchboard.testsupport.Tokens;
import io.vertx.core.json.JsonArray;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What the split tests (a frozen node, a cut-off node) share: a service publishing over HTTP to each
 * node, the ledger of what was acknowledged and refused, and the final check of every acknowledged
 * publication and every follower's events against the topics' history as the merged cluster holds it.
 */
final class SplitChecks {
  static final String SERVICE = Tokens.hs256(Tokens.claims("svc", 3600).put("roles", new JsonArray().add("service")));
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  record Acked(String topic, String id, long offset, String epoch) {
  }

  final List<String> topics;
  final List<Acked> acked = Collections.synchronizedList(new ArrayList<>());
  final Map<InetSocketAddress, AtomicInteger> refused = new HashMap<>();
  private final List<Thread> publishers = new ArrayList<>();
  volatile boolean publishing = true;

  SplitChecks(List<String> topics) {
    this.topics = topics;
  }

  /** One publisher per node, about 40 publications a second each, round robin over the topics. */
  void startPublishing(List<InetSocketAddress> nodes) {
    for (int i = 0; i < nodes.size(); i++) {
      InetSocketAddress node = nodes.get(i);
      AtomicInteger refusedHere = new AtomicInteger();
      refused.put(node, refusedHere);
      String prefix = "n" + i + "-";
      Thread t = new Thread(() -> publish(node, prefix, refusedHere), "publisher-" + i);
      publishers.add(t);
      t.start();
    }
  }

  void stopPublishing() throws InterruptedException {
    publishing = false;
    for (Thread p : publishers) {
      p.join(10_000);
    }
  }

  private void publish(InetSocketAddress node, String prefix, AtomicInteger refusedHere) {
    long n = 0;
    while (publishing) {
      n++;
      String topic = topics.get((int) (n % topics.size()));
      String id = prefix + n;
      HttpRequest r = HttpRequest.newBuilder(uri(node, "/api/v1/publish"))
          .timeout(Duration.ofSeconds(2)).header("Authorization", "Bearer " + SERVICE)
          .POST(HttpRequest.BodyPublishers.ofString("{\"topic\":\"" + topic + "\",\"data\":{\"id\":\"" + id + "\"}}"))
          .build();
      try {
        HttpResponse<String> resp = HTTP.send(r, HttpResponse.BodyHandlers.ofString());
        JsonNode b = Json.MAPPER.readTree(resp.body());
        if (resp.statusCode() == 200) {
          acked.add(new Acked(topic, id, b.path("offset").asLong(), b.path("epoch").asText()));
        } else {
          assertEquals(503, resp.statusCode(), resp.body());
          assertEquals("UNAVAILABLE", b.path("code").asText(), resp.body());
          refusedHere.incrementAndGet();
        }
      } catch (java.io.IOException e) {
        // no answer in time (a frozen or cut-off node): not acknowledged, nothing to check
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      pauseMs(25);
    }
  }

  /**
   * Every acknowledged publication is in the history read from {@code node}, at its offset, under the
   * topic's one epoch (nothing lost, no position carrying another publication); every follower
   * caught up with the history, saw no gap, no unrecovered resubscribe, no epoch change, and only
   * publications the history holds at the offsets it saw them.
   */
  void verify(InetSocketAddress node, List<Follower> followers) throws Exception {
    Map<String, Map<Long, String>> history = new HashMap<>();
    Map<String, String> epochs = new HashMap<>();
    for (String t : topics) {
      JsonNode h = Json.MAPPER.readTree(get(node, "/api/v1/topics/" + t + "/history?limit=1000"));
      Map<Long, String> byOffset = new HashMap<>();
      for (JsonNode e : h.path("events")) {
        byOffset.put(e.path("offset").asLong(), e.path("data").path("id").asText());
      }
      history.put(t, byOffset);
      epochs.put(t, h.path("epoch").asText());
    }
    for (Acked a : acked) {
      assertEquals(epochs.get(a.topic()), a.epoch(), "acknowledged under another epoch: " + a);
      assertEquals(a.id(), history.get(a.topic()).get(a.offset()), "acknowledged publication lost or forked: " + a);
    }
    for (Follower f : followers) {
      awaitTrue(() -> topics.stream().allMatch(t -> f.last(t) >= history.get(t).keySet().stream()
          .mapToLong(Long::longValue).max().orElse(0)), 30_000, "follower catches up");
      f.stop();
      assertEquals(List.of(), f.problems, "no gap, no unrecovered resubscribe, no epoch change");
      for (Follower.Seen s : f.seen) {
        assertEquals(history.get(s.topic()).get(s.offset()), s.id(), "forked position seen: " + s);
      }
    }
  }

  /**
   * Keeps the readiness of {@code node} as it changes (200, 503, -1 when unreachable), until
   * publishing stops.
   */
  List<Integer> watchReadiness(InetSocketAddress node) {
    List<Integer> seen = Collections.synchronizedList(new ArrayList<>());
    Thread poller = new Thread(() -> {
      while (publishing) {
        int s = status(node, "/health/ready");
        if (seen.isEmpty() || seen.get(seen.size() - 1) != s) {
          seen.add(s);
        }
        pauseMs(50);
      }
    }, "ready-poller");
    poller.setDaemon(true);
    poller.start();
    return seen;
  }

  static URI uri(InetSocketAddress node, String path) {
    return URI.create("http://" + node.getHostString() + ":" + node.getPort() + path);
  }

  /**
   * One GET with a 2 s timeout: the body when answered 200, else null (for a condition polled by
   * {@link #awaitTrue}, so that one slow answer cannot use up the wait).
   */
  static String getOnce(InetSocketAddress node, String path) {
    try {
      HttpRequest r = HttpRequest.newBuilder(uri(node, path))
          .timeout(Duration.ofSeconds(2)).header("Authorization", "Bearer " + SERVICE).GET().build();
      HttpResponse<String> resp = HTTP.send(r, HttpResponse.BodyHandlers.ofString());
      return resp.statusCode() == 200 ? resp.body() : null;
    } catch (java.io.IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** A GET answered 200; a 503 (UNAVAILABLE is retryable: a side settling after the merge) is asked again for up to 20 s. */
  static String get(InetSocketAddress node, String path) throws Exception {
    long deadline = System.currentTimeMillis() + 20_000;
    while (true) {
      HttpRequest r = HttpRequest.newBuilder(uri(node, path))
          .timeout(Duration.ofSeconds(5)).header("Authorization", "Bearer " + SERVICE).GET().build();
      HttpResponse<String> resp = HTTP.send(r, HttpResponse.BodyHandlers.ofString());
      if (resp.statusCode() != 503 || System.currentTimeMillis() > deadline) {
        assertEquals(200, resp.statusCode(), resp.body());
        return resp.body();
      }
      pauseMs(200);
    }
  }

  static int status(InetSocketAddress node, String path) {
    try {
      HttpRequest r = HttpRequest.newBuilder(uri(node, path)).timeout(Duration.ofSeconds(1)).GET().build();
      return HTTP.send(r, HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  static void awaitTrue(BooleanSupplier c, long ms, String what) {
    long deadline = System.currentTimeMillis() + ms;
    while (!c.getAsBoolean()) {
      if (System.currentTimeMillis() > deadline) {
        throw new AssertionError("not within " + ms + " ms: " + what);
      }
      pauseMs(50);
    }
  }

  static void pauseMs(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
