package dev.switchboard.chaos;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The checks after the faults stop, against the live cluster; what they find goes into the
 * recorder as findings (end violations). Run on the main thread; every wait bounded.
 */
final class EndChecks {
  /** Presence, devices and connection counts must match within this long once every client is back. */
  static final long CONVERGE_MS = 5_000;

  private final ChaosCluster cluster;
  private final Recorder recorder;
  private final List<ChaosClient> clients;
  private final List<ChaosClient[]> users;
  private final int peers;
  private final Random random;

  EndChecks(ChaosCluster cluster, Recorder recorder, List<ChaosClient> clients, List<ChaosClient[]> users, int peers,
            long seed) {
    this.cluster = cluster;
    this.recorder = recorder;
    this.clients = clients;
    this.users = users;
    this.peers = peers;
    this.random = new Random(seed);
  }

  static <T> T await(Future<T> f, long ms) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(ms, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (Exception e) {
      return null;
    }
  }

  /** Polls {@code done} every 200 ms until it holds or {@code ms} pass; true when it held. */
  static boolean until(long ms, Supplier<Boolean> done) {
    long deadline = System.currentTimeMillis() + ms;
    while (true) {
      if (Boolean.TRUE.equals(done.get())) {
        return true;
      }
      if (System.currentTimeMillis() >= deadline) {
        return false;
      }
      ChaosCluster.sleep(200);
    }
  }

  /** Every client connected with all its topics answered in its session; false (and a finding) after the bound. */
  boolean settle(long ms) {
    List<String> unsettled = new ArrayList<>();
    boolean ok = until(ms, () -> {
      unsettled.clear();
      for (ChaosClient c : clients) {
        if (!Boolean.TRUE.equals(await(c.settled(), 2_000))) {
          unsettled.add(c.log.name());
        }
      }
      return unsettled.isEmpty();
    });
    if (!ok) {
      recorder.finding("not-settled", unsettled.size() + " clients not connected and subscribed " + ms / 1000
          + " s after the faults stopped, e.g. " + unsettled.subList(0, Math.min(5, unsettled.size())));
    }
    return ok;
  }

  /**
   * Presence of every topic equals its subscribers, {@code user.devices} of every user lists its
   * two devices once each on the nodes they are connected to, and the nodes count one connection
   * per peer: all within {@link #CONVERGE_MS}; the differences left then are findings.
   */
  void convergence() {
    Map<String, Set<String>> expected = new HashMap<>();
    for (ChaosClient c : clients) {
      for (int t : c.log.topics) {
        expected.computeIfAbsent(recorder.topics.get(t), k -> new TreeSet<>()).add(c.user + "/" + c.device);
      }
    }
    Map<String, String> presenceDiff = new HashMap<>();
    Map<String, String> deviceDiff = new HashMap<>();
    String[] connections = new String[1];
    until(CONVERGE_MS, () -> {
      presenceDiff.clear();
      deviceDiff.clear();
      for (Map.Entry<String, Set<String>> e : expected.entrySet()) {
        String diff = presenceDiff(e.getKey(), e.getValue());
        if (diff != null) {
          presenceDiff.put(e.getKey(), diff);
        }
      }
      for (ChaosClient[] u : users) {
        String diff = devicesDiff(u);
        if (diff != null) {
          deviceDiff.put(u[0].user, diff);
        }
      }
      connections[0] = connectionsDiff();
      return presenceDiff.isEmpty() && deviceDiff.isEmpty() && connections[0] == null;
    });
    presenceDiff.entrySet().stream().sorted(Map.Entry.comparingByKey()).limit(20).forEach(e ->
        recorder.finding("presence", e.getKey() + " " + CONVERGE_MS / 1000 + " s after settling: " + e.getValue()));
    if (presenceDiff.size() > 20) {
      recorder.finding("presence", (presenceDiff.size() - 20) + " more topics differ");
    }
    deviceDiff.entrySet().stream().sorted(Map.Entry.comparingByKey()).limit(20).forEach(e ->
        recorder.finding("devices", "user " + e.getKey() + ": " + e.getValue()));
    if (connections[0] != null) {
      recorder.finding("connections", connections[0]);
    }
  }

  private String presenceDiff(String topic, Set<String> want) {
    NodeProcess n = cluster.pickLive(random);
    if (n == null) {
      return "no live node to ask";
    }
    HttpCalls.Response r = cluster.http().get(n,
        "/api/v1/topics/" + URLEncoder.encode(topic, StandardCharsets.UTF_8) + "/presence", cluster.serviceToken(),
        3_000);
    if (!r.ok()) {
      return "presence from " + n.nodeId() + " answered " + r.status() + " " + r.body() + r.failure();
    }
    Set<String> have = new TreeSet<>();
    List<String> doubled = new ArrayList<>();
    for (Object o : new JsonObject(r.body()).getJsonArray("members", new JsonArray())) {
      JsonObject m = (JsonObject) o;
      for (Object d : m.getJsonArray("devices", new JsonArray())) {
        if (!have.add(m.getString("user_id") + "/" + d)) {
          doubled.add(m.getString("user_id") + "/" + d);
        }
      }
    }
    if (have.equals(want) && doubled.isEmpty()) {
      return null;
    }
    Set<String> missing = new TreeSet<>(want);
    missing.removeAll(have);
    Set<String> extra = new TreeSet<>(have);
    extra.removeAll(want);
    return "(asked " + n.nodeId() + ") missing " + cut(missing) + ", extra " + cut(extra)
        + (doubled.isEmpty() ? "" : ", listed twice " + doubled);
  }

  private String devicesDiff(ChaosClient[] user) {
    Map<String, String> want = new HashMap<>();
    for (ChaosClient c : user) {
      want.put(c.device, await(c.currentNode(), 2_000));
    }
    JsonObject r = await(user[random.nextInt(user.length)].call("user.devices", null), 5_000);
    if (r == null || !"result".equals(r.getString("type"))) {
      return "user.devices answered " + (r == null ? "nothing" : r.encode());
    }
    Map<String, String> have = new HashMap<>();
    List<String> doubled = new ArrayList<>();
    for (Object o : r.getJsonObject("result").getJsonArray("devices", new JsonArray())) {
      JsonObject d = (JsonObject) o;
      if (have.put(d.getString("device_id"), d.getString("node_id")) != null) {
        doubled.add(d.getString("device_id"));
      }
    }
    if (have.equals(want) && doubled.isEmpty()) {
      return null;
    }
    return "connected " + want + " but user.devices lists " + have + (doubled.isEmpty() ? "" : ", twice: " + doubled);
  }

  private String connectionsDiff() {
    StringBuilder b = new StringBuilder();
    int total = 0;
    for (NodeProcess n : cluster.gateways()) {
      HttpCalls.Response r = cluster.http().get(n, "/api/v1/cluster", cluster.serviceToken(), 3_000);
      if (!r.ok()) {
        return "/api/v1/cluster of " + n.nodeId() + " answered " + r.status();
      }
      for (Object o : new JsonObject(r.body()).getJsonArray("nodes")) {
        JsonObject node = (JsonObject) o;
        if (n.nodeId().equals(node.getString("node_id"))) {
          total += node.getInteger("connections", 0);
          b.append(' ').append(n.nodeId()).append('=').append(node.getInteger("connections", 0));
        }
      }
    }
    return total == peers ? null : "the nodes count " + total + " connections (" + b.toString().trim() + ") for "
        + peers + " connected peers";
  }

  private static String cut(Set<String> s) {
    List<String> l = new ArrayList<>(s);
    return l.size() <= 6 ? l.toString() : l.subList(0, 6) + " and " + (l.size() - 6) + " more";
  }

  /** One marker per topic, and waits (bounded) until every subscriber has its topics' markers. */
  void markers(HttpPublisher http, long ms) {
    Map<Integer, Integer> markerByTopic = new HashMap<>();
    List<Publication> markers = new ArrayList<>();
    for (int t = 0; t < recorder.topics.size(); t++) {
      Publication p = recorder.publication(t, "marker");
      if (p != null) {
        markers.add(p);
        markerByTopic.put(t, p.id);
      }
    }
    for (ChaosClient c : clients) {
      c.watch(markerByTopic);
    }
    for (ChaosClient c : clients) {
      await(c.stillWatching(), 2_000); // the watches are registered before any marker goes out
    }
    markers.forEach(http::sendMarker);
    int[] waiting = new int[1];
    boolean ok = until(ms, () -> {
      waiting[0] = 0;
      for (ChaosClient c : clients) {
        Integer n = await(c.stillWatching(), 2_000);
        waiting[0] += n == null ? 1 : n;
      }
      return waiting[0] == 0;
    });
    long unacked = markers.stream().filter(p -> p.outcome() != Publication.Outcome.ACKED).count();
    if (unacked > 0) {
      recorder.finding("markers", unacked + " of " + markers.size() + " end-of-run markers not acknowledged");
    }
    if (!ok) {
      recorder.faultNote(waiting[0] + " marker deliveries still missing " + ms / 1000 + " s after publishing them");
    }
  }

  /** Waits (bounded) for every follow's terminal, then asks op.status for every operation. */
  void operations(long ms) {
    int[] open = new int[1];
    until(ms, () -> {
      open[0] = 0;
      for (ChaosClient c : clients) {
        Integer n = await(c.openFollows(), 2_000);
        open[0] += n == null ? 0 : n;
      }
      return open[0] == 0;
    });
    if (open[0] > 0) {
      recorder.faultNote(open[0] + " operation follows without a terminal " + ms / 1000 + " s after the faults stopped");
    }
    Map<String, ChaosClient[]> byUser = new HashMap<>();
    users.forEach(u -> byUser.put(u[0].user, u));
    for (Recorder.OpInfo op : recorder.ops().values()) {
      ChaosClient[] u = byUser.get(op.user);
      JsonObject r = null;
      for (int attempt = 0; attempt < 5 && u != null; attempt++) {
        r = await(u[attempt % 2].call("op.status", new JsonObject().put("op_id", op.opId)), 5_000);
        boolean retry = r == null || r.getString("type").startsWith("_")
            || ("error".equals(r.getString("type")) && r.getJsonObject("error").getBoolean("retryable", false));
        if (!retry) {
          break;
        }
        ChaosCluster.sleep(300);
      }
      if (r != null && "result".equals(r.getString("type"))) {
        op.statusState = r.getJsonObject("result").getString("state");
        op.statusSeq = r.getJsonObject("result").getLong("seq", -1L);
      } else {
        op.statusError = r == null ? "no answer" : r.getString("type").equals("error")
            ? r.getJsonObject("error").getString("code") : r.getString("type");
      }
    }
  }

  /** Once every peer has closed with 1000: nothing of theirs may stay in Hazelcast (bounded wait for cleanup). */
  void leftovers(long ms) {
    Map<String, List<String>> left;
    try (HazelcastLeftovers hz = new HazelcastLeftovers(cluster)) {
      java.util.concurrent.atomic.AtomicReference<Map<String, List<String>>> last =
          new java.util.concurrent.atomic.AtomicReference<>();
      until(ms, () -> {
        last.set(hz.read());
        return last.get().isEmpty();
      });
      left = last.get();
    } catch (RuntimeException e) {
      recorder.finding("harness", "could not read Hazelcast's maps: " + e);
      return;
    }
    left.forEach((map, ex) -> recorder.finding("leftover", map + " " + ms / 1000 + " s after every client left: "
        + ex));
  }
}
