package dev.switchboard.transport;

import dev.switchboard.auth.TokenIssuer;
import dev.switchboard.config.SwitchboardConfig;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/** One round: connect and subscribe all, publish the burst from all, await every delivery, publish paced
 * (once {@code pacedStart} completes), await every delivery again, close all with 1000. */
final class WarmUpRound {
  /** What every round shares ({@code issuer} null: anonymous connections). */
  record Setup(Vertx vertx, WebSocketClient client, TokenIssuer issuer, SwitchboardConfig.AuthOptions auth,
               String nodeId, int port, long deadline) {
  }

  /**
   * What one round does: {@code connections} subscribe to {@code topic}; each publishes {@code burst}
   * at once; then {@code paced} publications go out one at a time, {@code everyMs} apart, from the
   * connections in turn. {@code sides}: how many nodes make the paced ones (1, or 2 in a cross round),
   * so that every connection expects {@code connections * burst + paced * sides} events.
   */
  record Plan(String topic, String name, int connections, int burst, int paced, int everyMs, int sides) {
    long burstEvents() {
      return (long) connections * connections * burst;
    }

    long allEvents() {
      return burstEvents() + (long) connections * paced * sides;
    }
  }

  final Setup setup;
  final Plan plan;
  /** Carried by this round's publications; only those are counted (others may share the topic). */
  final String nonce;
  private final String mark;
  final List<WebSocket> sockets = new ArrayList<>(); // guarded by itself
  boolean over; // guarded by sockets
  final java.util.concurrent.atomic.AtomicLong received = new java.util.concurrent.atomic.AtomicLong();
  final Promise<Void> firstEvent = Promise.promise();
  final Promise<Void> burstReceived = Promise.promise();
  final Promise<Void> allReceived = Promise.promise();

  /** A paced timer still running, or -1; cancelled when the round ends. */
  private volatile long pacer = -1;

  WarmUpRound(Setup setup, Plan plan, String nonce) {
    this.setup = setup;
    this.plan = plan;
    this.nonce = nonce;
    this.mark = "\"r\":\"" + nonce + "\"";
  }

  /** Runs the round; {@code subscribed} completes once every connection is subscribed. */
  Future<Void> run(Future<Void> pacedStart, Promise<Void> subscribed) {
    List<Future<WebSocket>> opened = new ArrayList<>();
    for (int i = 0; i < plan.connections(); i++) {
      opened.add(open(i));
    }
    long left = Math.max(1, setup.deadline() - System.currentTimeMillis());
    return Future.join(opened).transform(ar -> {
      if (ar.failed()) {
        return Future.failedFuture(ar.cause());
      }
      subscribed.tryComplete();
      if (plan.burst() == 0) {
        return Future.succeededFuture();
      }
      int id = 100;
      for (WebSocket ws : snapshot()) {
        for (int k = 0; k < plan.burst(); k++) {
          ws.writeTextMessage(publish(id++, k));
        }
      }
      return burstReceived.future();
    }).compose(v -> plan.paced() == 0 ? Future.succeededFuture() : pacedStart.compose(x -> paced()))
        .timeout(left, java.util.concurrent.TimeUnit.MILLISECONDS).eventually(() -> {
      subscribed.tryFail("warm-up round ended");
      if (pacer >= 0) {
        setup.vertx().cancelTimer(pacer);
      }
      List<WebSocket> open;
      synchronized (sockets) {
        over = true; // one that connects from now on is closed as it connects
        open = new ArrayList<>(sockets);
      }
      List<Future<Void>> closed = new ArrayList<>();
      for (WebSocket ws : open) {
        closed.add(ws.close((short) 1000).otherwiseEmpty());
      }
      return Future.join(closed);
    });
  }

  /** {@code paced} publications one at a time, each from the next connection in turn (well within the
   * per-connection request rate); every connection receives them, and those of the other side. */
  private Future<Void> paced() {
    List<WebSocket> publishers = snapshot();
    int[] sent = {0};
    pacer = setup.vertx().setPeriodic(plan.everyMs(), id -> {
      if (sent[0] >= plan.paced() || System.currentTimeMillis() >= setup.deadline()) {
        setup.vertx().cancelTimer(id);
        return;
      }
      WebSocket publisher = publishers.get(sent[0] % publishers.size());
      sent[0]++;
      publisher.writeTextMessage(publish(1_000_000 + sent[0], sent[0]));
    });
    return allReceived.future();
  }

  private List<WebSocket> snapshot() {
    synchronized (sockets) {
      return new ArrayList<>(sockets);
    }
  }

  /** A {@code topic.publish} request of this round (its data carries the nonce). */
  private String publish(int id, int k) {
    return "{\"id\":" + id + ",\"method\":\"topic.publish\",\"params\":{\"topic\":\"" + plan.topic()
        + "\",\"data\":{\"k\":" + k + "," + mark + "}}}";
  }

  private Future<WebSocket> open(int i) {
    String user = "sb-warmup-" + setup.nodeId() + "-" + plan.name() + "-" + i;
    String uri = "/ws";
    SwitchboardConfig.AuthOptions auth = setup.auth();
    if (setup.issuer() != null) {
      JsonObject claims = new JsonObject().put("sub", user)
          .put("subs", new JsonArray().add("sb-warmup:*")).put("pubs", new JsonArray().add("sb-warmup:*"));
      if (!auth.issuer().isEmpty()) {
        claims.put("iss", auth.issuer());
      }
      if (!auth.audience().isEmpty()) {
        claims.put("aud", auth.audience());
      }
      uri += "?token=" + setup.issuer().issue(claims, 300);
    }
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(setup.port()).setURI(uri)
        .addHeader(WarmUp.HEADER, WarmUp.SECRET);
    Promise<WebSocket> subscribed = Promise.promise();
    long burstEvents = plan.burstEvents();
    long allEvents = plan.allEvents();
    // handlers before the connect: the `connected` frame can arrive with the 101
    io.vertx.core.http.ClientWebSocket ws = setup.client().webSocket();
    ws.textMessageHandler(text -> {
      if (text.startsWith("{\"type\":\"connected\"")) {
        ws.writeTextMessage("{\"id\":1,\"method\":\"topic.subscribe\",\"params\":{\"topic\":\"" + plan.topic() + "\"}}");
      } else if (text.startsWith("{\"type\":\"result\",\"id\":1,")) {
        subscribed.tryComplete(ws);
      } else if (text.startsWith("{\"type\":\"event\"") && text.contains(mark)) {
        firstEvent.tryComplete();
        long n = received.incrementAndGet();
        if (n == burstEvents) {
          burstReceived.tryComplete();
        }
        if (n == allEvents) {
          allReceived.tryComplete();
        }
      } else if (text.startsWith("{\"type\":\"error\"")) {
        subscribed.tryFail(text.length() > 200 ? text.substring(0, 200) : text);
      }
    });
    ws.exceptionHandler(subscribed::tryFail);
    ws.closeHandler(v -> subscribed.tryFail("closed"));
    ws.connect(options).onFailure(subscribed::tryFail).onSuccess(this::keep); // closed with 1000 at the round's end
    return subscribed.future();
  }

  /** Keeps a connection for the round's end, or closes it now when the round is already over (timed out). */
  private void keep(WebSocket ws) {
    synchronized (sockets) {
      if (!over) {
        sockets.add(ws);
        return;
      }
    }
    ws.close((short) 1000);
  }
}
