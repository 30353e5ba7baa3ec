package dev.switchboard.chaos;

import dev.switchboard.testsupport.Tokens;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonArray;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The soak's load, built from the chaos harness's pieces: {@link SoakClient}s that come and go;
 * operation users as {@link ChaosClient} pairs (device a kept on node 1, b on node 2) driven by the
 * {@link OpsDriver}, one of their connections dropped (reset or FIN) every {@code --drop-every}
 * seconds and resumed at once (their operations re-attach through the session); two
 * {@link WsPublisher}s and an {@link HttpPublisher} over the whole pool. Built and stopped on the
 * run's main thread.
 */
final class SoakLoad {
  /** Sessions left without a 1000 and never resumed (their clients came back as new sessions). */
  final java.util.Set<String> abandoned = java.util.concurrent.ConcurrentHashMap.newKeySet();

  private final Vertx vertx;
  private final SoakOptions o;
  private final List<SoakClient> churn = new ArrayList<>();
  private final List<ChaosClient> opClients = new ArrayList<>();
  private final List<WsPublisher> wsPublishers = new ArrayList<>();
  private final HttpPublisher http;
  private final OpsDriver ops;
  private final Random dropRandom;
  private final ChaosCluster cluster;
  private final Recorder recorder;
  private long dropTimer = -1;
  private long freshTimer = -1;
  /** Fresh topics published to so far (counted on the timer's context, read by the main thread). */
  private final java.util.concurrent.atomic.AtomicInteger fresh = new java.util.concurrent.atomic.AtomicInteger();

  SoakLoad(Vertx vertx, WebSocketClient wsClient, ChaosCluster cluster, Recorder recorder, Random random,
           SoakOptions o, List<String> pool, long tokenTtlS) {
    this.vertx = vertx;
    this.o = o;
    this.cluster = cluster;
    // (abandoned: see SoakClient; read by the end check)
    this.recorder = recorder;
    JsonArray all = new JsonArray().add("chat:*").add("news:*");
    for (int i = 0; i < o.clients(); i++) {
      String user = "s" + i / 2;
      String token = Tokens.hs256(Tokens.claims(user, tokenTtlS).put("subs", all).put("pubs", all));
      churn.add(new SoakClient(vertx, wsClient, cluster, recorder, random.nextLong(), token, user,
          i % 2 == 0 ? "a" : "b", pool, o, abandoned));
    }
    Map<String, Integer> topicIndex = new HashMap<>();
    for (int i = 0; i < pool.size(); i++) {
      topicIndex.put(pool.get(i), i);
    }
    int chats = (int) pool.stream().filter(t -> t.startsWith("chat:")).count();
    List<ChaosClient[]> opUsers = new ArrayList<>();
    for (int u = 0; u < o.opUsers(); u++) {
      String user = "op" + u;
      String token = Tokens.hs256(Tokens.claims(user, tokenTtlS).put("subs", new JsonArray().add("chat:*"))
          .put("pubs", new JsonArray()));
      ChaosClient[] pair = new ChaosClient[2];
      for (int d = 0; d < 2; d++) {
        pair[d] = new ChaosClient(vertx, wsClient, cluster, recorder, random.nextLong(), token, user,
            d == 0 ? "a" : "b", ChaosRun.pickTopics(random, chats, 2), topicIndex);
        pair[d].prefer(d + 1);
        opClients.add(pair[d]);
      }
      opUsers.add(pair);
    }
    double share = o.publishRate() / 3.0;
    for (int i = 1; i <= 2 && o.publishRate() > 0; i++) {
      String name = "ws" + i;
      String token = Tokens.hs256(Tokens.claims("pub-" + name, tokenTtlS).put("subs", new JsonArray())
          .put("pubs", all));
      wsPublishers.add(new WsPublisher(vertx, wsClient, cluster, recorder, random.nextLong(), token, name,
          pool.size(), share));
    }
    this.http = o.publishRate() > 0 ? new HttpPublisher(vertx, cluster, recorder, random.nextLong(), "http",
        pool.size(), share) : null;
    this.ops = new OpsDriver(vertx, opUsers, recorder, random.nextLong(), opUsers.isEmpty() ? 0 : o.opsPerMinute())
        .primes(o.primesShare());
    this.dropRandom = new Random(random.nextLong());
  }

  /** Every WebSocket peer of the load. */
  List<WsPeer> peers() {
    List<WsPeer> out = new ArrayList<>(churn);
    out.addAll(opClients);
    out.addAll(wsPublishers);
    return out;
  }

  /** Starts everything; the coming-and-going clients spread over {@code rampMs}. */
  void start(long rampMs) {
    opClients.forEach(WsPeer::start);
    wsPublishers.forEach(WsPeer::start);
    if (http != null) {
      http.start();
    }
    for (int i = 0; i < churn.size(); i++) {
      SoakClient c = churn.get(i);
      vertx.setTimer(1 + rampMs * i / Math.max(1, churn.size()), t -> c.start());
    }
    ops.start();
    if (o.freshTopicsPerMinute() > 0) {
      freshTimer = vertx.setPeriodic(Math.max(1, Math.round(60_000 / o.freshTopicsPerMinute())), t -> freshTopic());
    }
    if (o.dropEveryS() > 0 && !opClients.isEmpty()) {
      dropTimer = vertx.setPeriodic(Math.round(o.dropEveryS() * 1000), t -> {
        ChaosClient c = opClients.get(dropRandom.nextInt(opClients.size()));
        WsPeer.Leave how = dropRandom.nextBoolean() ? WsPeer.Leave.RESET : WsPeer.Leave.FIN;
        c.run(() -> c.leave(how, false));
      });
    }
  }

  /** One publication to a topic nobody used before (HTTP, service role): its history is created for it. */
  private void freshTopic() {
    NodeProcess n = cluster.pickLive(dropRandom);
    if (n == null) {
      return;
    }
    String body = new io.vertx.core.json.JsonObject().put("topic", "chat:f" + fresh.getAndIncrement())
        .put("data", new io.vertx.core.json.JsonObject().put("fresh", true)).encode();
    cluster.http().call(io.vertx.core.http.HttpMethod.POST, n, "/api/v1/publish", cluster.serviceToken(),
        body, 5_000).onComplete(ar -> recorder.count("soak.fresh-topic." + ar.result().status()));
  }

  /** Topics published to by {@link #freshTopic} (read after the load stopped). */
  int freshTopics() {
    return fresh.get();
  }

  /**
   * Stops the load (bounded waits: publications in flight 10 s, operation follows 20 s), then
   * every peer leaves with 1000; returns once they have closed (or 20 s passed).
   */
  void stop() {
    if (dropTimer >= 0) {
      vertx.cancelTimer(dropTimer);
    }
    if (freshTimer >= 0) {
      vertx.cancelTimer(freshTimer);
    }
    ops.stop();
    wsPublishers.forEach(WsPublisher::stopPublishing);
    if (http != null) {
      http.stopPublishing();
    }
    churn.forEach(SoakClient::stopLoad);
    EndChecks.until(10_000, () -> {
      int n = http == null ? 0 : nz(EndChecks.await(http.inFlight(), 2_000));
      for (WsPublisher p : wsPublishers) {
        n += nz(EndChecks.await(p.inFlight(), 2_000));
      }
      return n == 0;
    });
    EndChecks.until(20_000, () -> {
      int open = 0;
      for (ChaosClient c : opClients) {
        open += nz(EndChecks.await(c.openFollows(), 2_000));
      }
      return open == 0;
    });
    List<Future<Void>> closing = new ArrayList<>();
    peers().forEach(p -> closing.add(p.finish()));
    SoakRun.awaitAll(closing, 20_000);
  }

  private static int nz(Integer n) {
    return n == null ? 0 : n;
  }
}
