package dev.switchboard.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.protocol.Json;
import dev.switchboard.testsupport.ChildNode;
import dev.switchboard.testsupport.Follower;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

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
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The defect of issue 11: three nodes, a service publishing over HTTP to every node, clients following
 * the topics through any node; one node is frozen (SIGSTOP) past the member timeout, then thawed. Before
 * the fix, the thawed node went on acknowledging publications under the same epochs as the majority
 * (forked positions) and acknowledged publications never reached the followers. Now the thawed node
 * refuses (UNAVAILABLE), reports not ready, hands its clients over ("minority", 1012) and merges back;
 * every acknowledged publication is in the history, once, and every follower saw every one of them
 * in order, no position carrying two publications.
 */
class FrozenNodeTest {
  static final List<String> TOPICS = List.of("chat:frozen-a", "chat:frozen-b", "chat:frozen-c", "chat:frozen-d");
  static final String SERVICE = Tokens.hs256(Tokens.claims("svc", 3600).put("roles", new JsonArray().add("service")));
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  final List<ChildNode> nodes = new ArrayList<>();
  final List<Follower> followers = new ArrayList<>();
  final Vertx vertx = Vertx.vertx();
  volatile boolean publishing = true;

  record Acked(String topic, String id, long offset, String epoch) {
  }

  @AfterEach
  void down() {
    publishing = false;
    followers.forEach(Follower::stop);
    nodes.forEach(n -> signal(n, "CONT"));
    nodes.forEach(ChildNode::close);
    vertx.close();
  }

  @Test
  void aFrozenNodeThawsAsAMinorityThatForksNothingAndLosesNoAcknowledgedPublication() throws Exception {
    List<Integer> clusterPorts = List.of(TestNode.freePort(), TestNode.freePort(), TestNode.freePort());
    String members = String.join(",", clusterPorts.stream().map(p -> "127.0.0.1:" + p).toList());
    for (int i = 0; i < 3; i++) {
      nodes.add(ChildNode.start("fz" + i, members, Map.of(
          "SB_CLUSTER_PORT", clusterPorts.get(i).toString(),
          "SB_CLUSTER_MEMBERS", members,
          "SB_CLUSTER_MEMBER_TIMEOUT_S", "6",
          "SB_CLUSTER_MERGE_DELAY_S", "2",
          "SB_CLUSTER_HANDOVER_MS", "300")));
    }
    ChildNode frozen = nodes.get(2);
    List<Integer> ports = nodes.stream().map(n -> n.port).toList();
    String token = Tokens.user("follower", "chat:*");
    for (int i = 0; i < 6; i++) {
      followers.add(new Follower("f" + i, vertx, token, TOPICS, ports.get(i % 3), Follower.anyOf(ports),
          Duration.ofSeconds(3)).start());
    }
    // stays on the frozen node through the freeze, to be handed over when it thaws as a minority
    Follower patient = new Follower("patient", vertx, token, TOPICS, frozen.port, Follower.anyOf(ports.subList(0, 2)),
        Duration.ofSeconds(60)).start();
    followers.add(patient);

    List<Acked> acked = Collections.synchronizedList(new ArrayList<>());
    Map<Integer, AtomicInteger> refused = new HashMap<>();
    ports.forEach(p -> refused.put(p, new AtomicInteger()));
    List<Thread> publishers = new ArrayList<>();
    for (int i = 0; i < ports.size(); i++) {
      int port = ports.get(i);
      String prefix = "n" + i + "-";
      publishers.add(new Thread(() -> publish(port, prefix, acked, refused.get(port)), "publisher-" + i));
    }
    publishers.forEach(Thread::start);
    awaitTrue(() -> followers.stream().allMatch(f -> f.seen.size() >= 20), 20_000, "followers receive events");

    List<Integer> readiness = Collections.synchronizedList(new ArrayList<>());
    signal(frozen, "STOP");
    Thread.sleep(10_000); // the fault itself: frozen past the 6 s member timeout
    Thread poller = new Thread(() -> {
      while (publishing) {
        int s = status(frozen.port, "/health/ready");
        if (readiness.isEmpty() || readiness.get(readiness.size() - 1) != s) {
          readiness.add(s);
        }
        pauseMs(50);
      }
    }, "ready-poller");
    signal(frozen, "CONT");
    poller.start();
    awaitTrue(() -> readiness.contains(503), 20_000, "the thawed node reports not ready");
    awaitTrue(() -> readiness.lastIndexOf(200) > readiness.indexOf(503), 60_000,
        "the thawed node merges back and reports ready: " + readiness);
    awaitTrue(() -> patient.reconnects.contains("minority"), 10_000, "the thawed node hands its clients over");
    int before = acked.size();
    awaitTrue(() -> acked.size() > before + 50, 20_000, "publications go on after the merge");
    publishing = false;
    for (Thread p : publishers) {
      p.join(10_000);
    }

    Map<String, Map<Long, String>> history = new HashMap<>();
    Map<String, String> epochs = new HashMap<>();
    for (String t : TOPICS) {
      JsonNode h = Json.MAPPER.readTree(get(ports.get(0), "/api/v1/topics/" + t + "/history?limit=1000"));
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
      awaitTrue(() -> TOPICS.stream().allMatch(t -> f.last(t) >= history.get(t).keySet().stream()
          .mapToLong(Long::longValue).max().orElse(0)), 20_000, "follower catches up");
      f.stop();
      assertEquals(List.of(), f.problems, "no gap, no unrecovered resubscribe, no epoch change");
      for (Follower.Seen s : f.seen) {
        assertEquals(history.get(s.topic()).get(s.offset()), s.id(), "forked position seen: " + s);
      }
    }
    assertTrue(refused.get(frozen.port).get() > 0, "the thawed node refused publications while cut off");
    System.out.println("frozen-node: acked " + acked.size() + ", refused " + refused + ", readiness " + readiness
        + ", events seen " + followers.stream().mapToInt(f -> f.seen.size()).sum());
  }

  /** About 40 publications a second to one node, round robin over the topics, until told to stop. */
  void publish(int port, String prefix, List<Acked> acked, AtomicInteger refused) {
    long n = 0;
    while (publishing) {
      n++;
      String topic = TOPICS.get((int) (n % TOPICS.size()));
      String id = prefix + n;
      HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/publish"))
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
          refused.incrementAndGet();
        }
      } catch (java.io.IOException e) {
        // no answer (the frozen node): not acknowledged, nothing to check
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      pauseMs(25);
    }
  }

  static String get(int port, String path) throws Exception {
    HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(5)).header("Authorization", "Bearer " + SERVICE).GET().build();
    HttpResponse<String> resp = HTTP.send(r, HttpResponse.BodyHandlers.ofString());
    assertEquals(200, resp.statusCode(), resp.body());
    return resp.body();
  }

  static int status(int port, String path) {
    try {
      HttpRequest r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
          .timeout(Duration.ofSeconds(1)).GET().build();
      return HTTP.send(r, HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  static void signal(ChildNode n, String sig) {
    if (!n.process.isAlive()) {
      return;
    }
    try {
      new ProcessBuilder("kill", "-" + sig, Long.toString(n.process.pid())).inheritIO().start().waitFor();
    } catch (Exception e) {
      throw new IllegalStateException(e);
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
