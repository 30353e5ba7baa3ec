package dev.switchboard.transport;

import dev.switchboard.NodeContext;
import dev.switchboard.auth.AuthFailure;
import dev.switchboard.auth.Principal;
import dev.switchboard.auth.Rejection;
import dev.switchboard.cluster.Sessions;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.FrameCodec;
import dev.switchboard.protocol.Ids;
import dev.switchboard.protocol.Json;
import dev.switchboard.routing.Dispatcher;
import io.vertx.core.Future;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.net.SocketAddress;

import io.netty.handler.codec.http.QueryStringDecoder;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * {@code GET /ws}: the gates (policy), the token (header, then query, then cookie: the first
 * present source is used), then the upgrade and the {@code connected} frame. Refusals are a plain
 * status with a one-line JSON body, never a stack trace.
 */
final class Upgrader {
  private static final Pattern SESSION_ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");

  private final NodeContext node;
  private final GatewayVerticle owner;
  private final Dispatcher dispatcher;
  /** Codecs are immutable and thread-safe: one of each per verticle, shared by its connections. */
  private final FrameCodec json;
  private final FrameCodec cbor;
  private final ConnectionEvents events = new ConnectionEvents();

  Upgrader(NodeContext node, GatewayVerticle owner, Dispatcher dispatcher) {
    this.node = node;
    this.owner = owner;
    this.dispatcher = dispatcher;
    int maxBytes = node.config().limits().maxMessageBytes();
    int depth = node.config().limits().maxJsonDepth();
    this.json = FrameCodec.json(depth, maxBytes);
    this.cbor = FrameCodec.cbor(depth, maxBytes);
  }

  void handle(HttpServerRequest req) {
    if (!"websocket".equalsIgnoreCase(req.getHeader(HttpHeaders.UPGRADE))) {
      respond(req, Rejection.of(400, ErrorCode.INVALID_REQUEST, "a WebSocket upgrade is required"));
      return;
    }
    // The query is decoded here, not with req.getParam: that caches the decoded parameters (token
    // included) in the request, which Vert.x keeps for the socket's whole life.
    Map<String, List<String>> query = new QueryStringDecoder(req.uri()).parameters();
    String deviceParam = first(query, "device_id");
    String sessionParam = first(query, "session_id");
    if ((deviceParam != null && !Ids.isDeviceId(deviceParam))
        || (sessionParam != null && !SESSION_ID.matcher(sessionParam).matches())) {
      respond(req, Rejection.of(400, ErrorCode.INVALID_REQUEST, "invalid device_id or session_id"));
      return;
    }
    Rejection gate = node.policy().admitUpgrade(ip(req), req.getHeader(HttpHeaders.ORIGIN),
        WarmUp.isOwn(req.getHeader(WarmUp.HEADER)));
    if (gate != null) {
      respond(req, gate);
      return;
    }
    // From here on a node connection slot is held: every path must release it or hand it to a Connection.
    String token = credentials(req, query);
    // Verification may complete later (ES256 runs on a worker): pause so the request is not read to
    // its end meanwhile, or toWebSocket() would fail with "Request has already been read".
    req.pause();
    Future<Principal> who;
    if (token == null && !node.config().auth().required()) {
      who = Future.succeededFuture(Principal.anonymous("anon-" + SwitchboardConfig.randomId(12)));
    } else {
      who = node.verifier().verify(token);
    }
    who.onComplete(ar -> {
      if (ar.failed()) {
        node.policy().releaseConnection();
        String reason = ar.cause() instanceof AuthFailure ? ((AuthFailure) ar.cause()).reason() : "error";
        String message = ar.cause() instanceof AuthFailure ? ar.cause().getMessage() : "token could not be verified";
        node.metrics().authFailure(reason);
        respond(req, Rejection.of(401, ErrorCode.UNAUTHORIZED, message));
        return;
      }
      Principal principal = ar.result();
      if (deviceParam == null && principal.deviceId() != null && !Ids.isDeviceId(principal.deviceId())) {
        node.policy().releaseConnection();
        respond(req, Rejection.of(400, ErrorCode.INVALID_REQUEST, "invalid device_id"));
        return;
      }
      Rejection perUser = node.policy().admitUser(principal.userId());
      if (perUser != null) {
        node.policy().releaseConnection();
        respond(req, perUser);
        return;
      }
      String connectionId = "c_" + SwitchboardConfig.randomId(16);
      // A session is resumed only by its own user; an unknown, ended or foreign id gets a fresh
      // session. The resume claims the session for this connection: an older connection of it
      // (half-open, or a resume racing this one) writes it no more (see Sessions).
      Future<Sessions.Stored> stored = sessionParam == null ? Future.succeededFuture()
          : node.sessions().claim(owner.context(), sessionParam, principal.userId(), connectionId)
              .map(st -> st != null && principal.userId().equals(st.user()) ? st : null)
              .otherwise((Sessions.Stored) null);
      stored.onComplete(sr -> {
        if (sessionParam != null) {
          node.metrics().sessionResume(sr.result() != null);
        }
        upgrade(req, principal, deviceParam, connectionId, sr.result() == null ? null : sessionParam, sr.result());
      });
    });
  }

  private void upgrade(HttpServerRequest req, Principal principal, String deviceParam, String connectionId,
                       String resumeId, Sessions.Stored resume) {
    String device = deviceParam != null ? deviceParam
        : principal.deviceId() != null ? principal.deviceId() : "d_" + SwitchboardConfig.randomId(12);
    // One live connection per (user, device) across the cluster: register before the 101, so that
    // a client which saw its `connected` frame is already the newest, and a later connection of the
    // same device anywhere replaces it (4009), never the other way round.
    node.local().expect(connectionId);
    node.directory().connected(owner.context(), principal.userId(), device, connectionId).onComplete(reg -> {
      if (reg.failed()) {
        // unregistered, it would escape the one-connection-per-device rule both ways: refuse, the client retries
        node.local().forget(connectionId);
        node.policy().releaseUser(principal.userId());
        node.policy().releaseConnection();
        if (!req.response().ended() && !req.response().headWritten()) {
          respond(req, Rejection.of(503, ErrorCode.UNAVAILABLE, "the device registry is unavailable, retry"));
        }
        return;
      }
      if (reg.result() != null) {
        node.closeRemote(reg.result().node(), reg.result().conn(), dev.switchboard.protocol.CloseCode.REPLACED);
      }
      Future<ServerWebSocket> upgraded;
      try {
        upgraded = req.toWebSocket();
      } catch (RuntimeException e) {
        upgraded = Future.failedFuture(e);
      }
      upgraded.onComplete(wsr -> {
        if (wsr.failed()) {
          node.local().forget(connectionId);
          node.policy().releaseUser(principal.userId());
          node.policy().releaseConnection();
          node.directory().disconnected(owner.context(), principal.userId(), device, connectionId);
          if (!req.response().ended() && !req.response().headWritten()) {
            respond(req, Rejection.of(503, ErrorCode.UNAVAILABLE, "the upgrade could not be completed"));
          }
          return;
        }
        // the warm-up's own loopback rounds (WarmUp) are not clients: their connections are not logged
        open(wsr.result(), principal, device, connectionId, resumeId, resume, WarmUp.isOwn(req.getHeader(WarmUp.HEADER)));
      });
    });
  }

  private void open(ServerWebSocket ws, Principal principal, String device, String connectionId, String resumeId,
                    Sessions.Stored resume, boolean warmUp) {
    FrameCodec codec = FrameCodec.CBOR_SUBPROTOCOL.equals(ws.subProtocol()) ? cbor : json;
    UpgradeResidue.drop(ws);
    Connection c = new Connection(node, owner, ws, principal, connectionId,
        resumeId != null ? resumeId : "s_" + SwitchboardConfig.randomId(20), device, codec, dispatcher);
    owner.add(c);
    dev.switchboard.protocol.CloseCode replaced = node.local().add(c);
    // Cleanup runs once, from whichever comes first: Vert.x's close handler, or the channel's own
    // close (Vert.x holds its close handler back while a close frame waits in its write queue,
    // which for a client that stopped reading is until that client goes away).
    boolean[] done = {false};
    Runnable cleanup = () -> {
      if (done[0]) {
        return;
      }
      done[0] = true;
      // A client close with 1000 ends the session; any other end keeps it (with the positions
      // delivered so far) for session_ttl. Before closed(), which drops the subscriptions.
      Short code = closeCode(ws);
      if (!warmUp) {
        events.closed(c, code);
      }
      if (code != null && code == 1000) {
        c.endSession();
      } else {
        c.saveSessionAtClose();
      }
      owner.remove(c);
      node.local().remove(c);
      c.closed();
      node.policy().releaseUser(principal.userId());
      node.policy().releaseConnection();
      node.directory().disconnected(owner.context(), principal.userId(), device, c.connectionId());
    };
    ws.closeHandler(v -> cleanup.run());
    ((io.vertx.core.internal.http.WebSocketInternal) ws).channelHandlerContext().channel().closeFuture()
        .addListener(f -> owner.context().runOnContext(v -> cleanup.run()));
    if (replaced != null) {
      c.close(replaced); // a newer connection of this device registered while this one was opening
      return;
    }
    c.start(resume);
  }

  /** The close code the client sent, or null (Vert.x 5.0 throws instead of answering null before a close frame). */
  private static Short closeCode(ServerWebSocket ws) {
    try {
      return ws.closeStatusCode();
    } catch (NullPointerException noCloseFrameYet) {
      return null;
    }
  }

  /** Header, then query, then cookie: the first source present is the one used, even if it is bad. */
  static String credentials(HttpServerRequest req, Map<String, List<String>> query) {
    String header = req.getHeader(HttpHeaders.AUTHORIZATION);
    if (header != null) {
      return header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim() : "";
    }
    String fromQuery = first(query, "token");
    if (fromQuery != null) {
      return fromQuery;
    }
    Cookie cookie = req.getCookie("sb_token");
    return cookie != null ? cookie.getValue() : null;
  }

  private static String first(Map<String, List<String>> query, String name) {
    List<String> values = query.get(name);
    return values == null || values.isEmpty() ? null : values.get(0);
  }

  private static String ip(HttpServerRequest req) {
    SocketAddress remote = req.remoteAddress();
    return remote == null || remote.hostAddress() == null ? "unknown" : remote.hostAddress();
  }

  void respond(HttpServerRequest req, Rejection r) {
    req.resume(); // paused while the token was verified: let the connection read on (no-op otherwise)
    node.metrics().upgradeRejected(r.status());
    events.refused(r, ip(req));
    var resp = req.response().setStatusCode(r.status()).putHeader(HttpHeaders.CONTENT_TYPE, "application/json");
    if (r.retryAfterSeconds() > 0) {
      resp.putHeader(HttpHeaders.RETRY_AFTER, String.valueOf(r.retryAfterSeconds()));
    }
    resp.end(Json.MAPPER.createObjectNode().put("code", r.code().name()).put("message", r.message()).toString());
  }
}
