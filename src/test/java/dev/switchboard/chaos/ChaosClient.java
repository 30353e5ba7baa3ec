package dev.switchboard.chaos;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A subscriber of the chaos run: one (user, device) with a session and a few {@code chat:} topics,
 * recording every event, subscribe answer, connection and close in its {@link ClientLog}, and every
 * operation frame in an {@link OpFollow}.
 *
 * <p>As a careful client would: on a new session ({@code resumed:false}) it subscribes again to each
 * topic with {@code since} its last position (epoch and highest offset seen in it) and re-attaches
 * to the operations it follows after the last seq it got; on a resumed session it relies on the
 * node for both, and only repeats the subscribes whose answer it never got in this session.
 */
final class ChaosClient extends WsPeer {
  final ClientLog log;
  final int index;
  private final Map<String, Integer> topicIndex;
  private final int[] topics;
  /** Per slot of {@link #topics}: the last epoch seen (recorder's number, -1: none) and the highest offset in it. */
  private final int[] epoch;
  private final long[] offset;
  /** The subscribe of the slot was answered on a connection of the current session. */
  private final boolean[] inSession;
  /** The slot's first subscribe was answered (the client counts as subscribed from then on). */
  private final boolean[] subscribed;
  private final Map<String, OpFollow> follows = new HashMap<>();
  /**
   * Request id → op id, for the start and attach requests of the operations this client follows: a
   * resumed session re-attaches them under those ids, and a re-attach that fails answers with an
   * error that carries the id but no op_id (it is then the follow's terminal).
   */
  private final Map<String, String> requestOp = new HashMap<>();
  /** Start requests whose connection closed before their first frame: request id → params (a resumed session may still bring their frames). */
  private final Map<String, String> lostStarts = new HashMap<>();
  private int conn = -1;
  /** Publication ids the harness waits for (the end-of-run markers). */
  private final java.util.Set<Integer> watching = new java.util.HashSet<>();

  ChaosClient(Vertx vertx, WebSocketClient client, ChaosCluster cluster, Recorder recorder, long seed, String token,
              String user, String device, int[] topics, Map<String, Integer> topicIndex) {
    super(vertx, client, cluster, recorder, seed, token, user, device);
    this.log = recorder.client(user, device, topics);
    this.index = log.index;
    this.topics = topics;
    this.topicIndex = topicIndex;
    this.epoch = new int[topics.length];
    this.offset = new long[topics.length];
    this.inSession = new boolean[topics.length];
    this.subscribed = new boolean[topics.length];
    java.util.Arrays.fill(epoch, -1);
  }

  private int slot(int topic) {
    for (int i = 0; i < topics.length; i++) {
      if (topics[i] == topic) {
        return i;
      }
    }
    return -1;
  }

  /** When the current connection got its {@code connected} frame (wall clock, as the events' ts). */
  private long openSinceMs;

  @Override
  protected void onConnected(JsonObject f, boolean resumed, NodeProcess node, int incarnation) {
    openSinceMs = System.currentTimeMillis();
    conn = log.connection(f.getString("node_id") + " " + f.getString("session_id") + (resumed ? " resumed" : " new")
        + " at " + recorder.now() + "ms");
    log.add(ClientLog.CONNECTED, resumed ? ClientLog.RESUMED : 0, 0, incarnation, 0, node.slot, conn);
    if (!resumed) {
      java.util.Arrays.fill(inSession, false);
    }
    for (int i = 0; i < topics.length; i++) {
      if (!inSession[i]) {
        subscribe(i, resumed);
      }
    }
    if (!resumed) {
      for (OpFollow fl : follows.values()) {
        if (!fl.ended) {
          reattach(fl);
        }
      }
    }
  }

  @Override
  protected void onLost(int code) {
    log.add(ClientLog.CLOSED, 0, 0, -1, 0, code, conn);
  }

  private void subscribe(int i, boolean repeat) {
    JsonObject params = new JsonObject().put("topic", recorder.topics.get(topics[i]));
    int flags = repeat ? ClientLog.REPEAT : 0;
    if (epoch[i] >= 0) {
      params.put("since", new JsonObject().put("offset", offset[i]).put("epoch", recorder.epochName(epoch[i])));
      flags |= ClientLog.SINCE;
    }
    int asked = flags;
    request("topic.subscribe", params, r -> {
      if (r.getString("type").equals("result")) {
        JsonObject res = r.getJsonObject("result");
        int e = recorder.epoch(res.getString("epoch"));
        long latest = res.getLong("offset", 0L);
        boolean recovered = res.getBoolean("recovered", false);
        log.add(ClientLog.SUB, asked | (recovered ? ClientLog.RECOVERED : 0), topics[i], e, latest,
            res.getInteger("missed", 0), conn);
        inSession[i] = true;
        subscribed[i] = true;
        if (e != epoch[i] || !recovered) {
          // live from the latest offset (a replay, when recovered, moves the position with its events)
          epoch[i] = e;
          offset[i] = latest;
        }
      } else if (r.getString("type").equals("error")) {
        recorder.count("subscribe.error." + r.getJsonObject("error", new JsonObject()).getString("code"));
        vertx.setTimer(300 + random.nextInt(300), t -> {
          if (isOpen() && !inSession[i]) {
            subscribe(i, repeat);
          }
        });
      }
    });
  }

  @Override
  protected void onFrame(JsonObject f) {
    String type = f.getString("type", "");
    if (f.containsKey("op_id")) {
      opFrame(f, null, null);
      return;
    }
    String opId = requestOp.get(String.valueOf(f.getValue("id")));
    if (opId != null && (type.equals("error") || type.equals("result"))) {
      unattached(opId, f);
      return;
    }
    switch (type) {
      case "event" -> event(f);
      case "reconnect" -> recorder.count("reconnect." + f.getString("reason", "none")); // "minority", "merged", …
      case "presence", "token_expiring", "direct" -> { }
      case "error" -> recorder.count("frame.other.error." + f.getJsonObject("error", new JsonObject()).getString("code")
          + (f.containsKey("id") ? "" : ".no-id"));
      default -> recorder.count("frame.other." + type);
    }
  }

  private void event(JsonObject f) {
    Integer t = topicIndex.get(f.getString("topic"));
    int i = t == null ? -1 : slot(t);
    if (i < 0) {
      recorder.count("event.foreign-topic");
      return;
    }
    Long ts = f.getLong("ts");
    if (ts != null) {
      recorder.latency(System.currentTimeMillis() - ts, ts < openSinceMs);
    }
    int e = recorder.epoch(f.getString("epoch"));
    long off = f.getLong("offset", -1L);
    Object data = f.getValue("data");
    int p = data instanceof JsonObject d ? d.getInteger("p", -1) : -1;
    log.add(ClientLog.EVENT, 0, t, e, off, p, conn);
    watching.remove(p);
    if (e != epoch[i]) {
      epoch[i] = e;
      offset[i] = off;
    } else if (off > offset[i]) {
      offset[i] = off;
    }
  }

  /** A frame of an operation; {@code how} and {@code onOpId} come with the answer of a start or attach request. */
  private void opFrame(JsonObject f, String how, Consumer<String> onOpId) {
    String opId = f.getString("op_id");
    OpFollow fl = follows.get(opId);
    if (fl == null && how == null) {
      String params = lostStarts.remove(String.valueOf(f.getValue("id")));
      if (params == null) {
        recorder.count("op.frame-unfollowed");
        return;
      }
      how = "start";
      requestOp.put(String.valueOf(f.getValue("id")), opId);
      recorder.op(opId, user, index, params);
    }
    if (fl == null) {
      boolean dedup = f.getBoolean("deduplicated", false);
      fl = recorder.follow(index, opId, dedup && how.equals("start") ? "dedup" : how);
      follows.put(opId, fl);
      if (onOpId != null) {
        onOpId.accept(opId);
      }
    }
    String type = f.getString("type");
    JsonObject err = f.getJsonObject("error");
    fl.frame(new OpFollow.Frame(type, f.getLong("seq", -1L), err == null ? null : err.getString("code"),
        recorder.now(), conn));
  }

  /**
   * A terminal without op_id for a request that follows {@code opId} (a session's re-attach that
   * failed): retried with {@code op.attach} when retryable, else the follow's end.
   */
  private void unattached(String opId, JsonObject f) {
    OpFollow fl = follows.get(opId);
    JsonObject err = f.getJsonObject("error", new JsonObject());
    String code = err.getString("code");
    recorder.count("op.reattach-refused." + code);
    if (fl == null || fl.ended) {
      return;
    }
    if (err.getBoolean("retryable", false) && !"NODE_LOST".equals(code)) {
      vertx.setTimer(500, t -> {
        if (isOpen() && !fl.ended) {
          reattach(fl);
        }
      });
      return;
    }
    fl.frame(new OpFollow.Frame(f.getString("type"), f.getLong("seq", -1L), code, recorder.now(), conn));
  }

  /**
   * Starts an operation ({@code demo.count}, {@code demo.primes}); {@code onOpId} gets the op id with
   * its first frame (null: refused or lost before it). On the context.
   */
  void startOp(String method, JsonObject params, Consumer<String> onOpId) {
    boolean[] told = new boolean[1];
    Consumer<String> once = id -> {
      if (!told[0]) {
        told[0] = true;
        onOpId.accept(id);
      }
    };
    String[] sent = new String[1];
    String id = request(method, params, r -> {
      if (r.containsKey("op_id")) {
        opFrame(r, "start", op -> {
          requestOp.put(sent[0], op);
          recorder.op(op, user, index, params.encode());
          once.accept(op);
        });
      } else if (!told[0]) {
        boolean lost = r.getString("type").equals("_closed");
        if (lost) {
          lostStarts.put(sent[0], params.encode());
        }
        recorder.count(lost ? "op.start-lost" : "op.start-refused."
            + r.getJsonObject("error", new JsonObject()).getString("code"));
        once.accept(null);
      }
    });
    sent[0] = id;
    if (id == null) {
      recorder.count("op.start-not-connected");
      once.accept(null);
    }
  }

  /** Attaches to another device's operation ({@code op.attach}). On the context. */
  void attach(String opId) {
    attachRequest(opId, 0, "attach");
  }

  private void reattach(OpFollow fl) {
    fl.reattaches++;
    attachRequest(fl.opId, fl.lastSeq, fl.how);
  }

  private void attachRequest(String opId, long afterSeq, String how) {
    String id = request("op.attach", new JsonObject().put("op_id", opId).put("after_seq", afterSeq), r -> {
      if (r.containsKey("op_id")) {
        opFrame(r, how, null);
      } else if (r.getString("type").equals("error")) {
        String code = r.getJsonObject("error", new JsonObject()).getString("code");
        OpFollow fl = follows.get(opId);
        if ("UNAVAILABLE".equals(code) || "RATE_LIMITED".equals(code)) {
          recorder.count("op.attach-retry." + code);
          vertx.setTimer(500, t -> {
            OpFollow again = follows.get(opId);
            if (isOpen() && (again == null || !again.ended)) {
              attachRequest(opId, again == null ? 0 : again.lastSeq, how);
            }
          });
          return;
        }
        if (fl == null) {
          fl = recorder.follow(index, opId, how);
          follows.put(opId, fl);
        }
        // the attach's own refusal (no op_id): recorded as the follow's end, judged by the checker
        fl.frame(new OpFollow.Frame("attach-error", -1, code, recorder.now(), conn));
      }
    });
    if (id == null) {
      recorder.count("op.attach-not-connected");
    } else {
      requestOp.put(id, opId);
    }
  }

  /** All follows whose terminal has not come yet (from any thread: answered on the context). */
  Future<Integer> openFollows() {
    Promise<Integer> p = Promise.promise();
    context.runOnContext(v -> p.complete((int) follows.values().stream().filter(fl -> !fl.ended).count()));
    return p.future();
  }

  /** Every topic has been answered in the current session and the client is connected. */
  Future<Boolean> settled() {
    Promise<Boolean> p = Promise.promise();
    context.runOnContext(v -> {
      boolean ok = isOpen();
      for (boolean b : inSession) {
        ok &= b;
      }
      p.complete(ok);
    });
    return p.future();
  }

  /** Waits for the markers of this client's topics (marker id by topic index); from any thread. */
  void watch(Map<Integer, Integer> markerByTopic) {
    context.runOnContext(v -> {
      for (int t : topics) {
        Integer id = markerByTopic.get(t);
        if (id != null) {
          watching.add(id);
        }
      }
    });
  }

  /** How many watched publications have not arrived; from any thread. */
  Future<Integer> stillWatching() {
    Promise<Integer> p = Promise.promise();
    context.runOnContext(v -> p.complete(watching.size()));
    return p.future();
  }

  /** The node id of the current connection (null when not connected); from any thread. */
  Future<String> currentNode() {
    Promise<String> p = Promise.promise();
    context.runOnContext(v -> p.complete(isOpen() ? nodeId : null));
    return p.future();
  }

  /** Runs on this client's context. */
  void run(Runnable r) {
    context.runOnContext(v -> r.run());
  }
}
