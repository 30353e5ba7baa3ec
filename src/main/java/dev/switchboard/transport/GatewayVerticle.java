package dev.switchboard.transport;

import dev.switchboard.NodeContext;
import dev.switchboard.api.HttpRoutes;
import dev.switchboard.config.SwitchboardConfig.LimitsOptions;
import dev.switchboard.protocol.CloseCode;
import dev.switchboard.protocol.FrameCodec;
import dev.switchboard.protocol.Frames;
import dev.switchboard.routing.Dispatcher;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * One instance per event loop: an HTTP server sharing the node's port (Vert.x spreads accepted
 * sockets across instances), the connections it accepted, and one periodic tick that drives every
 * connection's heartbeat, idle and token clocks (no timer per socket).
 */
public final class GatewayVerticle extends VerticleBase {
  /** How long a closing handshake may take before the TCP connection is dropped. */
  public static final int CLOSING_TIMEOUT_SECONDS = 5;

  private final NodeContext node;
  private final Set<Connection> connections = new HashSet<>();
  /** Sockets written without a flush during this loop turn (see {@link #flushLater}). */
  private final List<Outbound> unflushed = new ArrayList<>();
  private HttpServer server;
  private long tickTimer = -1;
  static final long TICK_MS = 100;
  private SessionWriter sessionWriter;
  /** Outbound frames and bytes not yet added to the node's counters (loop-confined). */
  private long framesOut;
  private long bytesOut;

  public GatewayVerticle(NodeContext node) {
    this.node = node;
  }

  Context context() {
    return context;
  }

  /** Batches this loop's session writes (created on first use, on the loop). */
  SessionWriter sessionWriter() {
    if (sessionWriter == null) {
      sessionWriter = new SessionWriter(node.sessions(), context);
    }
    return sessionWriter;
  }

  private long tickNanos;
  private long lastTickNanos;

  @Override
  public Future<?> start() {
    LimitsOptions limits = node.config().limits();
    Dispatcher dispatcher = new Dispatcher(node);
    Upgrader upgrader = new Upgrader(node, this, dispatcher);
    Router router = Router.router(vertx);
    HttpRoutes.mount(router, node);
    HttpServerOptions options = new HttpServerOptions()
        .setHost(node.config().http().host())
        .setPort(node.config().http().port())
        .setMaxWebSocketFrameSize(limits.maxFrameBytes())
        .setMaxWebSocketMessageSize(limits.maxFrameBytes())
        // permessage-deflate stays off: Vert.x 5.0 builds Netty's inflater without an allocation
        // bound (a small frame could inflate without limit), and shared pre-encoded broadcast
        // frames need uncompressed sockets. See docs/protocol.md.
        .setPerFrameWebSocketCompressionSupported(false)
        .setPerMessageWebSocketCompressionSupported(false)
        .setWebSocketSubProtocols(List.of(FrameCodec.JSON_SUBPROTOCOL, FrameCodec.CBOR_SUBPROTOCOL))
        .setWebSocketClosingTimeout(CLOSING_TIMEOUT_SECONDS)
        .setTcpNoDelay(true);
    // A short tick: each connection acts at its own deadlines (pings, acknowledgements, session
    // saves), so a long tick would gather thousands of them into one burst every second.
    long tickMs = Math.max(10, Math.min(TICK_MS, Math.min(limits.heartbeatMs() / 2, limits.idleTimeoutMs() / 4)));
    tickNanos = tickMs * 1_000_000L;
    tickTimer = vertx.setPeriodic(tickMs, id -> tick());
    // /ws is served before the router: vertx-web wraps upgraded sockets, and the outbound path
    // needs the socket itself (its Netty channel, see Connection).
    return vertx.createHttpServer(options)
        .requestHandler(req -> {
          if ("/ws".equals(req.path())) {
            if (req.method() == io.vertx.core.http.HttpMethod.GET) {
              upgrader.handle(req);
            } else {
              req.response().setStatusCode(405).end();
            }
          } else {
            router.handle(req);
          }
        })
        .listen().onSuccess(s -> server = s);
  }

  /** The port actually bound (differs from the setting when that is 0). */
  public int actualPort() {
    return server == null ? -1 : server.actualPort();
  }

  void add(Connection c) {
    connections.add(c);
  }

  void remove(Connection c) {
    connections.remove(c);
  }

  /**
   * Defers a socket's flush to the end of the current loop turn: a burst of publications costs one
   * flush (one write syscall) per socket instead of one per frame.
   */
  void flushLater(Outbound o) {
    if (unflushed.isEmpty()) {
      context.runOnContext(v -> flushAll());
    }
    unflushed.add(o);
  }

  /** Counts outbound frames; reported to the metrics once per loop turn. */
  void countOut(int frames, int bytes) {
    framesOut += frames;
    bytesOut += bytes;
  }

  private void reportOut() {
    if (framesOut > 0) {
      node.metrics().framesOut(framesOut, bytesOut);
      framesOut = 0;
      bytesOut = 0;
    }
  }

  private void flushAll() {
    reportOut();
    // Take the batch first: a flush may close a slow consumer, and nothing a flush triggers may
    // leave this list non-empty without a flush scheduled (that would stall every socket here).
    List<Outbound> batch = new ArrayList<>(unflushed);
    unflushed.clear();
    for (Outbound o : batch) {
      try {
        o.flush();
      } catch (RuntimeException e) {
        o.connection().close(CloseCode.INTERNAL);
      }
    }
  }


  private void tick() {
    long nanos = System.nanoTime();
    if (lastTickNanos != 0) {
      // how late this tick ran: the event loop's delay (a loop blocked or busy delays every timer on it)
      node.metrics().loopDelay(nanos - lastTickNanos - tickNanos);
    }
    lastTickNanos = nanos;
    reportOut();
    long ms = System.currentTimeMillis();
    // copy: a tick may close connections, and closing removes them from the set
    for (Connection c : new ArrayList<>(connections)) {
      c.tick(nanos, ms);
    }
  }

  /**
   * Drain: every connection gets a {@code reconnect} frame (with {@code reason}: "draining" for a
   * stop, "minority" when the node is cut off from the cluster's majority) and then close 1012,
   * spread evenly over the window so that the clients do not all reconnect elsewhere at the same instant.
   */
  public Future<Void> drain(long windowMs, String reason) {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      List<Connection> all = new ArrayList<>(connections);
      if (all.isEmpty()) {
        done.complete();
        return;
      }
      int n = all.size();
      int[] left = {n};
      for (int i = 0; i < n; i++) {
        Connection c = all.get(i);
        long at = windowMs * i / n;
        Runnable closeOne = () -> {
          c.send(Frames.reconnect(reason, 0));
          c.close(CloseCode.RESTART);
          if (--left[0] == 0) {
            done.complete();
          }
        };
        if (at <= 0) {
          closeOne.run();
        } else {
          vertx.setTimer(at, t -> closeOne.run());
        }
      }
    });
    return done.future();
  }

  /**
   * After a drain: completes once every connection of this verticle is gone (their close handlers
   * ran, so each wrote its session's last positions) and those writes have landed, or after
   * {@code timeoutMs}. The node leaves the cluster only then, so a client that moves to another
   * node resumes from its exact last positions rather than from the write before.
   */
  public Future<Void> settled(long timeoutMs) {
    return quiet(true, timeoutMs);
  }

  /**
   * Completes once this loop's session writes have all landed (none waiting, none in flight), or
   * after {@code timeoutMs}; connections may stay open. For tests and tooling.
   */
  public Future<Void> sessionWritesLanded(long timeoutMs) {
    return quiet(false, timeoutMs);
  }

  private Future<Void> quiet(boolean noConnections, long timeoutMs) {
    Promise<Void> done = Promise.promise();
    long deadline = System.currentTimeMillis() + timeoutMs;
    context.runOnContext(v -> vertx.setPeriodic(20, id -> {
      boolean quiet = (!noConnections || connections.isEmpty()) && (sessionWriter == null || sessionWriter.idle());
      if (quiet || System.currentTimeMillis() >= deadline) {
        vertx.cancelTimer(id);
        done.tryComplete();
      }
    }));
    return done.future();
  }

  @Override
  public Future<?> stop() {
    if (tickTimer >= 0) {
      vertx.cancelTimer(tickTimer);
    }
    for (Connection c : new ArrayList<>(connections)) {
      c.close(CloseCode.GOING_AWAY);
    }
    return server == null ? Future.succeededFuture() : server.close();
  }
}
