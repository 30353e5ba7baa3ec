package dev.switchboard.chaos;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.internal.http.WebSocketInternal;
import io.vertx.core.json.JsonObject;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A WebSocket client of the chaos run with a life of its own: it connects through a random live
 * node (the load balancer's pick), resumes its session with {@code ?session_id=} after every close,
 * and abandons a connection that goes quiet (no frame, not even a ping, for {@link #QUIET_MS}: the
 * nodes ping every second) to reconnect elsewhere, as a browser behind a load balancer would when
 * its node freezes. Requests carry ids unique over the peer's life, so frames replayed on a resumed
 * session map back to what asked for them.
 *
 * <p>A subclass can also leave on purpose ({@link #leave}: a 1000 close, or a TCP reset or FIN with no
 * close frame) and stay away until {@link #comeBack}, and can keep to one node while it is live
 * ({@link #prefer}); the soak run does both.
 *
 * <p>Threads: everything runs on the peer's own context (an event loop of the harness's Vert.x);
 * other threads go through {@link #call} and {@link #finish}.
 */
abstract class WsPeer {
  static final long QUIET_MS = 3_500;

  /** One connection attempt; frames of any but the current one are ignored. */
  private static final class Conn {
    final ClientWebSocket ws;
    final NodeProcess node;
    final int incarnation;
    final String nodeId;

    Conn(ClientWebSocket ws, NodeProcess node) {
      this.ws = ws;
      this.node = node;
      this.incarnation = node.incarnation();
      this.nodeId = node.nodeId();
    }
  }

  protected final Vertx vertx;
  protected final Context context;
  private final WebSocketClient client;
  protected final ChaosCluster cluster;
  protected final Recorder recorder;
  protected final Random random;
  private final String token;
  final String user;
  final String device;

  private Conn current;
  private boolean open; // the current connection got its `connected` frame
  protected String sessionId;
  protected String nodeId;
  private long lastHeardNanos;
  private boolean finishing;
  /** finish() came while not connected: close with 1000 as soon as a connection is up (to end the session). */
  private boolean closeOnConnect;
  private Promise<Void> finished;
  /** Left on purpose ({@link #leave} with stayAway): no reconnect until {@link #comeBack} or {@link #finish}. */
  private boolean away;
  /** The slot this peer connects to while it is live (0: any, the load balancer's pick). */
  private int preferredSlot;
  private long watchdog = -1;
  private long nextId;
  private final Map<String, Handler<JsonObject>> pending = new HashMap<>();

  WsPeer(Vertx vertx, WebSocketClient client, ChaosCluster cluster, Recorder recorder, long seed, String token,
         String user, String device) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.client = client;
    this.cluster = cluster;
    this.recorder = recorder;
    this.random = new Random(seed);
    this.token = token;
    this.user = user;
    this.device = device;
  }

  /** Called on the peer's context after a {@code connected} frame. */
  protected abstract void onConnected(JsonObject connected, boolean resumed, NodeProcess node, int incarnation);

  /** Any frame that is neither {@code connected} nor the answer to a pending request. */
  protected abstract void onFrame(JsonObject frame);

  /** The current connection closed (code) or was abandoned as quiet (code 0); pending requests are already failed. */
  protected void onLost(int code) {
  }

  /** How a peer leaves a connection on purpose. */
  enum Leave {
    /** A close frame with 1000: the node ends the session. */
    CLOSE_1000,
    /** A TCP reset (SO_LINGER 0), no close frame: a lost network, a killed process; the session stays. */
    RESET,
    /** A bare FIN, no close frame: a closed tab or app; the session stays. */
    FIN
  }

  /** Connect to this slot while it is live, to any live node otherwise (0: any). Before {@link #start}. */
  void prefer(int slot) {
    this.preferredSlot = slot;
  }

  void start() {
    context.runOnContext(v -> {
      watchdog = vertx.setPeriodic(500, t -> watch());
      connect();
    });
  }

  boolean isOpen() {
    return open;
  }

  private void connect() {
    if (finishing) {
      return;
    }
    NodeProcess node = pick();
    if (node == null) {
      recorder.count("connect.no-live-node");
      vertx.setTimer(300, t -> connect());
      return;
    }
    StringBuilder uri = new StringBuilder("/ws?token=").append(token)
        .append("&device_id=").append(URLEncoder.encode(device, StandardCharsets.UTF_8));
    if (sessionId != null) {
      uri.append("&session_id=").append(sessionId);
    }
    ClientWebSocket ws = client.webSocket();
    Conn c = new Conn(ws, node);
    current = c;
    open = false;
    lastHeardNanos = System.nanoTime();
    // handlers before the connect: the node's `connected` frame can come with the 101
    ws.frameHandler(f -> {
      if (current == c) {
        lastHeardNanos = System.nanoTime();
      }
    });
    ws.textMessageHandler(t -> onText(c, t));
    ws.closeHandler(v -> onClose(c, ws.closeStatusCode() == null ? 1006 : ws.closeStatusCode()));
    ws.exceptionHandler(err -> { });
    WebSocketConnectOptions o = new WebSocketConnectOptions().setHost(node.host).setPort(node.httpPort)
        .setURI(uri.toString()).setTimeout(5_000);
    ws.connect(o).onComplete(ar -> {
      if (ar.succeeded() && current != c) {
        abandon(ws); // given up while upgrading: a real client drops it unread (see abandon)
        return;
      }
      if (ar.failed() && current == c) {
        current = null;
        if (ar.cause() instanceof UpgradeRejectedException u) {
          recorder.count("connect.refused." + u.getStatus());
        } else {
          recorder.count("connect.failed");
        }
        vertx.setTimer(100 + random.nextInt(400), t -> connect());
      }
    });
  }

  private NodeProcess pick() {
    if (preferredSlot > 0) {
      for (NodeProcess n : cluster.live()) {
        if (n.slot == preferredSlot) {
          return n;
        }
      }
    }
    return cluster.pickLive(random);
  }

  private void onText(Conn c, String text) {
    if (current != c) {
      return; // an abandoned connection (its node was frozen and came back): a real client closed it
    }
    JsonObject f;
    try {
      f = new JsonObject(text);
    } catch (RuntimeException e) {
      recorder.count("frame.unparseable");
      return;
    }
    String type = f.getString("type", "");
    if (type.equals("connected")) {
      open = true;
      boolean resumed = f.getBoolean("resumed", false);
      String sid = f.getString("session_id");
      if (!resumed && sessionId != null) {
        recorder.count("session.not-resumed");
      }
      sessionId = sid;
      nodeId = f.getString("node_id");
      recorder.count(resumed ? "connect.resumed" : "connect.new");
      recorder.connected();
      onConnected(f, resumed, c.node, c.incarnation);
      if (closeOnConnect) {
        closeForGood(c);
      }
      return;
    }
    Object id = f.getValue("id");
    Handler<JsonObject> h = id == null ? null : pending.get(String.valueOf(id));
    if (h != null) {
      if (type.equals("result") || type.equals("error")) {
        pending.remove(String.valueOf(id));
      }
      h.handle(f);
      return;
    }
    onFrame(f);
  }

  private void onClose(Conn c, int code) {
    if (current != c) {
      return;
    }
    lost(code);
  }

  private void lost(int code) {
    current = null;
    open = false;
    List<Handler<JsonObject>> failed = new ArrayList<>(pending.values());
    pending.clear();
    JsonObject closed = new JsonObject().put("type", "_closed");
    failed.forEach(h -> h.handle(closed));
    onLost(code);
    if (finishing) {
      if (finished != null) {
        finished.tryComplete();
      }
      return;
    }
    recorder.count("close." + code);
    if (!away) {
      vertx.setTimer(50 + random.nextInt(250), t -> connect());
    }
  }

  private void watch() {
    Conn c = current;
    if (c == null || finishing) {
      return;
    }
    if (System.nanoTime() - lastHeardNanos > QUIET_MS * 1_000_000L) {
      recorder.count("quiet");
      recorder.count("quiet." + (open ? "" : "upgrading.") + c.nodeId);
      abandon(c.ws); // keeps the session; the node may never see it
      lost(0);
    }
  }

  /**
   * Sends a request on the current connection; the handler gets the terminal frame of that id
   * (result or error, op frames included if {@link #onFrame} does not take them first), or
   * {@code {"type":"_closed"}} when the connection goes first. Null when not connected. On the context.
   */
  protected String request(String method, JsonObject params, Handler<JsonObject> handler) {
    Conn c = current;
    if (c == null || !open) {
      return null;
    }
    String id = "r" + (++nextId);
    JsonObject env = new JsonObject().put("id", id).put("method", method);
    if (params != null) {
      env.put("params", params);
    }
    if (handler != null) {
      pending.put(id, handler);
    }
    c.ws.writeTextMessage(env.encode());
    return id;
  }

  /** Forgets a pending request (its later frames go to {@link #onFrame}). On the context. */
  protected void forget(String id) {
    pending.remove(id);
  }

  /** From any thread: one request and its terminal frame ({@code _closed} or {@code _not_connected} otherwise). */
  Future<JsonObject> call(String method, JsonObject params) {
    Promise<JsonObject> p = Promise.promise();
    context.runOnContext(v -> {
      if (request(method, params, p::tryComplete) == null) {
        p.tryComplete(new JsonObject().put("type", "_not_connected"));
      }
    });
    return p.future();
  }

  /**
   * Leaves the current connection on purpose; with {@code stayAway} no reconnect follows until
   * {@link #comeBack}, else the usual one (with the session) does. A 1000 close ends the session on
   * the node; a reset or FIN keeps it (the node sees the TCP connection go, with no close frame). On
   * the context; false when there is no open connection.
   */
  protected boolean leave(Leave how, boolean stayAway) {
    Conn c = current;
    if (c == null || !open || finishing || finished != null) {
      return false;
    }
    away = stayAway;
    recorder.count("leave." + how.name().toLowerCase(java.util.Locale.ROOT));
    if (how == Leave.CLOSE_1000) {
      c.ws.close((short) 1000).onComplete(ar -> { });
      return true; // its close handler calls lost(1000)
    }
    drop(c.ws, how == Leave.RESET);
    lost(1006); // as its close handler would (it finds the connection already gone)
    return true;
  }

  /**
   * Drops the TCP connection under a WebSocket without a close frame: a reset (SO_LINGER 0) or a
   * FIN. It goes past the channel's pipeline: a close through it ({@code channel.close()}) meets
   * Netty's WebSocket protocol handler, which sends a close frame with 1000 first, and the node
   * then rightly ends the session (WsPeerDropTest).
   */
  static void drop(io.vertx.core.http.WebSocket ws, boolean reset) {
    Channel ch = ((WebSocketInternal) ws).channelHandlerContext().channel();
    ch.eventLoop().execute(() -> { // the channel's unsafe is its event loop's alone
      if (reset) {
        ch.config().setOption(ChannelOption.SO_LINGER, 0);
      }
      ch.unsafe().close(ch.voidPromise());
    });
  }

  /**
   * Connects again after {@link #leave} with stayAway: resuming the session ({@code resume}) or as a
   * new client (the old session is left to expire). On the context; nothing once {@link #finish} was asked.
   */
  protected void comeBack(boolean resume) {
    if (!away || finished != null) {
      return;
    }
    away = false;
    if (!resume) {
      sessionId = null;
    }
    connect();
  }

  /** Away after {@link #leave} with stayAway. */
  protected boolean away() {
    return away;
  }

  /** From any thread: closes for good with 1000 (the session ends); completes once closed (or given up). */
  Future<Void> finish() {
    Promise<Void> p = Promise.promise();
    context.runOnContext(v -> {
      finished = p;
      Conn c = current;
      if (c != null && open) {
        closeForGood(c);
      } else {
        closeOnConnect = true; // between connections: the next one ends the session
        if (away) {
          away = false; // away on purpose: come back once, with the session, to end it
          connect();
        }
      }
    });
    return p.future();
  }

  private void closeForGood(Conn c) {
    finishing = true;
    if (watchdog >= 0) {
      vertx.cancelTimer(watchdog);
    }
    Promise<Void> p = finished;
    c.ws.close((short) 1000).onComplete(ar -> {
      if (current == c) {
        lost(1000);
      }
      p.tryComplete();
    });
    vertx.setTimer(5_000, t -> p.tryComplete());
  }

  /**
   * Gives up a connection whose frames this client will not read: a reset, not a close frame. A
   * close frame other than 1000 is a clean drop, which tells the node that everything it wrote was
   * read (the contract: the resume after it is exact), so the node would count the frames this
   * client ignores and the resume would skip them (docs/protocol.md, "Sessions").
   */
  private static void abandon(ClientWebSocket ws) {
    Object ctx;
    try {
      ctx = ((WebSocketInternal) ws).channelHandlerContext();
    } catch (RuntimeException notConnected) {
      ctx = null;
    }
    if (ctx == null) {
      closeQuietly(ws, (short) 1001); // not upgraded: nothing was written on it
      return;
    }
    drop(ws, true);
  }

  /** Closes a socket that may not have finished its upgrade (then there is nothing to close yet). */
  private static void closeQuietly(ClientWebSocket ws, short code) {
    try {
      ws.close(code).onComplete(ar -> { });
    } catch (IllegalStateException notConnected) {
      // the upgrade is still under way: its completion finds the attempt abandoned
    }
  }
}
