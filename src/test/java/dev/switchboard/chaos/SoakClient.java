package dev.switchboard.chaos;

import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A client of the soak run that comes and goes, as people do: it connects with a session and
 * subscribes to a few topics of the pool; while connected, every {@code --action-gap} seconds it
 * subscribes to another topic, unsubscribes one, asks a {@code chat:} topic's presence, reads a
 * topic's history or publishes to one; after {@code --life} seconds it leaves:
 * <ul>
 *   <li>40 %: close 1000 (the session ends), back 1-10 s later with a new session;</li>
 *   <li>40 %: a TCP reset or FIN without a close frame, back 0.5-5 s later resuming the session
 *       (the node restores its topics);</li>
 *   <li>20 %: a reset or FIN, back 1-10 s later with a new session (the old one waits for its
 *       time-to-live on the node).</li>
 * </ul>
 * It records nothing but counters: the soak measures the nodes, not what the clients saw.
 *
 * <p>Threads: everything runs on the client's context (see {@link WsPeer}); {@link #stopLoad} from any thread.
 */
final class SoakClient extends WsPeer {
  private final List<String> pool;
  private final SoakOptions o;
  /** Topics asked for in the current session (subscribe sent, no unsubscribe since). */
  private final Set<String> held = new LinkedHashSet<>();
  private long ticker = -1;
  private long leaveAt;
  private long nextActionAt;
  private long backAt;
  private boolean resumeOnBack;
  private boolean stopped;

  SoakClient(Vertx vertx, WebSocketClient client, ChaosCluster cluster, Recorder recorder, long seed, String token,
             String user, String device, List<String> pool, SoakOptions o, java.util.Set<String> abandoned) {
    super(vertx, client, cluster, recorder, seed, token, user, device);
    this.pool = pool;
    this.o = o;
    this.abandoned = abandoned;
  }

  /** Sessions this client left without a 1000 and never resumed: they live on until session_ttl, on purpose. */
  private final java.util.Set<String> abandoned;

  @Override
  void start() {
    super.start();
    context.runOnContext(v -> ticker = vertx.setPeriodic(500, t -> tick()));
  }

  /** No more actions and no more leaving (answers still count); from any thread. {@link #finish} then closes. */
  void stopLoad() {
    context.runOnContext(v -> {
      stopped = true;
      if (ticker >= 0) {
        vertx.cancelTimer(ticker);
      }
    });
  }

  @Override
  protected void onConnected(JsonObject connected, boolean resumed, NodeProcess node, int incarnation) {
    if (!resumed && !stopped) { // stopped: connected only to end the session (WsPeer#finish)
      held.clear();
      int want = between(o.topicsMin(), o.topicsMax());
      for (int i = 0; i < 4 * want && held.size() < want; i++) {
        subscribe(pool.get(random.nextInt(pool.size())));
      }
    }
    long now = System.nanoTime();
    leaveAt = now + seconds(o.lifeMinS(), o.lifeMaxS());
    nextActionAt = now + seconds(o.actionMinS(), o.actionMaxS());
  }

  @Override
  protected void onFrame(JsonObject frame) {
    // events, presence frames, pings' companions: the soak only counts requests
  }

  private void tick() {
    if (stopped) {
      return;
    }
    long now = System.nanoTime();
    if (away()) {
      if (now >= backAt) {
        comeBack(resumeOnBack);
      }
      return;
    }
    if (!isOpen()) {
      return; // connecting
    }
    if (now >= leaveAt) {
      leaveNow(now);
    } else if (now >= nextActionAt) {
      act();
      nextActionAt = now + seconds(o.actionMinS(), o.actionMaxS());
    }
  }

  private void leaveNow(long now) {
    double r = random.nextDouble();
    Leave drop = random.nextBoolean() ? Leave.RESET : Leave.FIN;
    if (r < 0.4) {
      if (leave(Leave.CLOSE_1000, true)) {
        resumeOnBack = false;
        backAt = now + seconds(1, 10);
      }
    } else if (r < 0.8) {
      if (leave(drop, true)) {
        resumeOnBack = true;
        backAt = now + seconds(0.5, 5);
      }
    } else {
      String leaving = sessionId;
      if (!leave(drop, true)) {
        return;
      }
      if (leaving != null) {
        abandoned.add(leaving);
      }
      recorder.count("soak.session-abandoned");
      resumeOnBack = false;
      backAt = now + seconds(1, 10);
    }
  }

  private void act() {
    double r = random.nextDouble();
    if (r < 0.3) {
      if (held.size() < o.topicsMax()) {
        subscribe(pool.get(random.nextInt(pool.size())));
      } else {
        unsubscribe();
      }
    } else if (r < 0.6) {
      if (held.size() > o.topicsMin()) {
        unsubscribe();
      } else {
        subscribe(pool.get(random.nextInt(pool.size())));
      }
    } else if (r < 0.75) {
      String chat = pick(true);
      if (chat != null) {
        ask("topic.presence", new JsonObject().put("topic", chat));
      }
    } else if (r < 0.9) {
      String t = pick(false);
      if (t != null) {
        ask("topic.history", new JsonObject().put("topic", t).put("limit", 10));
      }
    } else {
      String t = pick(false);
      if (t != null) {
        ask("topic.publish", new JsonObject().put("topic", t).put("data", new JsonObject().put("from", user)));
      }
    }
  }

  private void subscribe(String topic) {
    if (held.add(topic)) {
      ask("topic.subscribe", new JsonObject().put("topic", topic));
    }
  }

  private void unsubscribe() {
    String t = pick(false);
    if (t != null) {
      held.remove(t);
      ask("topic.unsubscribe", new JsonObject().put("topic", t));
    }
  }

  /** A random held topic ({@code chatOnly}: a chat: one), or null. */
  private String pick(boolean chatOnly) {
    List<String> from = new ArrayList<>();
    for (String t : held) {
      if (!chatOnly || t.startsWith("chat:")) {
        from.add(t);
      }
    }
    return from.isEmpty() ? null : from.get(random.nextInt(from.size()));
  }

  /** Sends a request and counts its answer by method and outcome (error codes are one enum: bounded). */
  private void ask(String method, JsonObject params) {
    String id = request(method, params, r -> {
      String type = r.getString("type");
      String outcome = type.equals("error") ? r.getJsonObject("error", new JsonObject()).getString("code") : type;
      recorder.count("soak." + method + "." + outcome);
    });
    if (id == null) {
      recorder.count("soak." + method + ".not-connected");
    }
  }

  private int between(int a, int b) {
    return a + random.nextInt(b - a + 1);
  }

  private long seconds(double a, double b) {
    return (long) ((a + random.nextDouble() * (b - a)) * 1e9);
  }
}
