package dev.switchboard.transport;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.NodeContext;
import dev.switchboard.auth.Principal;
import dev.switchboard.protocol.CloseCode;
import dev.switchboard.protocol.FrameCodec;
import dev.switchboard.protocol.Frames;
import dev.switchboard.routing.Client;
import dev.switchboard.routing.Dispatcher;
import dev.switchboard.cluster.Sessions;
import dev.switchboard.topics.Subscriber;
import dev.switchboard.topics.Subscriptions;
import dev.switchboard.topics.TopicEvent;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.channel.ChannelHandlerContext;
import io.vertx.core.Context;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.internal.http.WebSocketInternal;

/**
 * One client socket: reassembles inbound messages within the size limits and hands them to the
 * dispatcher ({@link Requests}), writes outbound frames with a bounded queue ({@link Outbound}),
 * keeps the liveness and token clocks ({@link Clocks}: driven by its verticle's tick, not by a timer
 * per socket), and runs the closing handshake. All state is touched on the socket's event loop only.
 */
final class Connection implements Client, Subscriber {
  private final NodeContext node;
  private final ServerWebSocket ws;
  private final Context context;
  private final FrameCodec codec;
  private final String connectionId;
  private final String sessionId;
  private final String deviceId;
  private final Subscriptions subscriptions;
  private final ChannelHandlerContext channel;
  private final Outbound outbound;
  private Principal principal;

  private final Clocks clocks;
  /** The close code of the close frame this node sent (null: none sent). */
  private CloseCode closeSent;
  /** The code that close frame carried: the catalog's, or an administrator's choice (see close(kind, code, reason)). */
  private short closeSentCode;
  private volatile boolean closing;
  private final SessionKeeper session;

  private final Reassembly reassembly;
  private final Requests requests;
  private final long openedNanos = System.nanoTime();
  private final long openedAtMs = System.currentTimeMillis();

  Connection(NodeContext node, GatewayVerticle owner, ServerWebSocket ws, Principal principal, String connectionId,
             String sessionId, String deviceId, FrameCodec codec, Dispatcher dispatcher) {
    this.node = node;
    this.ws = ws;
    this.context = owner.context();
    this.principal = principal;
    this.connectionId = connectionId;
    this.sessionId = sessionId;
    this.deviceId = deviceId;
    this.codec = codec;
    this.subscriptions = new Subscriptions(this, node.config().limits().maxSubscriptions());
    this.channel = ((WebSocketInternal) ws).channelHandlerContext();
    this.outbound = new Outbound(owner, this, codec, channel, node.config().limits().outboundQueueBytes());
    this.session = new SessionKeeper(node, context, owner.sessionWriter(), this, subscriptions);
    this.clocks = new Clocks(node, this, session, subscriptions, outbound, channel);
    this.requests = new Requests(node, this, codec, dispatcher);
    this.reassembly = new Reassembly(node.config().limits().maxMessageBytes(), node.config().limits().maxFrameBytes(),
        requests);
  }

  void start(Sessions.Stored resume) {
    ClientPings.install(channel, this);
    ws.frameHandler(this::onFrame);
    ws.exceptionHandler(this::onSocketError);
    ObjectNode hello = Frames.connected()
        .put("connection_id", connectionId)
        .put("session_id", sessionId)
        .put("node_id", node.nodeId())
        .put("user_id", principal.userId())
        .put("device_id", deviceId)
        .put("protocol_version", 1)
        .put("server_version", node.config().node().serverVersion())
        .put("heartbeat_ms", node.config().limits().heartbeatMs())
        .put("resumed", resume != null);
    // The first frame goes through Vert.x's own write path, which orders it after the handshake's
    // 101 response; later frames are written to the channel directly (see Outbound). Writing this one
    // directly too lost it now and then under load (a connection that never got its connected frame).
    node.metrics().frameOut(0);
    if (codec.binary()) {
      ws.writeBinaryMessage(codec.encode(hello));
    } else {
      ws.writeTextMessage(hello.toString());
    }
    if (resume != null) {
      session.restore(resume);
    }
    // nothing to save yet: the session is written when subscriptions change and at close
  }

  @Override
  public void subscriptionsChanged() {
    if (Io.onContext(context)) {
      saveSession();
    } else {
      context.runOnContext(v -> saveSession());
    }
  }

  @Override
  public io.vertx.core.Future<Void> sessionSaved() {
    io.vertx.core.Promise<Void> landed = io.vertx.core.Promise.promise();
    execute(() -> session.saveNow().onComplete(landed));
    return landed.future();
  }

  @Override
  public void acknowledgeSoon() {
    execute(clocks.acks::soon);
  }

  @Override
  public void execute(Runnable r) {
    if (Io.onContext(context)) {
      r.run();
    } else {
      context.runOnContext(v -> r.run());
    }
  }

  /** Writes the session now (see {@link SessionKeeper}). */
  void saveSession() {
    session.save();
  }

  void saveSessionAtClose() {
    session.saveAtClose();
  }

  void endSession() {
    session.end();
  }

  // ------------------------------------------------------------------ inbound

  private void onFrame(WebSocketFrame frame) {
    clocks.heard();
    if (frame.type() == WebSocketFrameType.PONG) {
      clocks.pong(frame.binaryData());
    } else if (frame.type() == WebSocketFrameType.CLOSE && !closing) {
      settle();
    } else if (frame.type() == WebSocketFrameType.CLOSE && closeSent != null && closeSent != CloseCode.INTERNAL) {
      // The client answered our close frame: it read every frame before it, and nothing of ours
      // is written after it. Everything written counts (a drain resumes exactly elsewhere).
      allWrittenReceived();
    }
    if (!closing) {
      reassembly.frame(frame); // pings, pongs and close frames only count as liveness
    }
  }

  /**
   * A client ping (see {@link ClientPings}): answered through the outbound queue like every frame of
   * ours, so that unread pongs count against the outbound limit (4008 past it). A ping counts as
   * life. None is answered once closing: nothing follows our close frame.
   */
  void pinged(ByteBuf payload) {
    clocks.heard();
    if (closing) {
      return;
    }
    int n = payload.readableBytes(); // at most 125: the decoder refuses longer control frames
    ByteBuf pong = channel.alloc().buffer(2 + n).writeByte(0x8A).writeByte(n);
    pong.writeBytes(payload, payload.readerIndex(), n);
    outbound.writeFrame(pong, 0);
  }

  /**
   * Socket errors end in closeHandler. A frame the decoder refused (over the frame limit, bad
   * framing) is followed at once by Vert.x dropping the TCP connection: the close frame is written
   * straight to the channel first, because a close through Vert.x would only be flushed after the drop.
   */
  private void onSocketError(Throwable err) {
    if (err instanceof CorruptedWebSocketFrameException bad && !closing) {
      closing = true;
      CloseCode code = decoderVerdict(bad.closeStatus().code());
      node.metrics().close(code);
      channel.writeAndFlush(new CloseWebSocketFrame(code.code(), code.reason()));
    }
  }

  /**
   * The decoder's verdict in the contract's catalog: 1009 (a frame over the limit) and 1007 (a close
   * reason that is not UTF-8) as they are; its 1002 (reserved bits, unknown opcodes, unmasked frames,
   * fragmented or long control frames, lengths not minimally encoded or negative, fragments out of
   * order, close codes that may not be sent) is 1008, as Reassembly answers fragments out of order:
   * 1002 is not among the close codes clients of the contract know.
   */
  private static CloseCode decoderVerdict(int status) {
    if (status == CloseCode.TOO_BIG.code()) {
      return CloseCode.TOO_BIG;
    }
    return status == CloseCode.INVALID_UTF8.code() ? CloseCode.INVALID_UTF8 : CloseCode.POLICY;
  }

  // ------------------------------------------------------------------ outbound and topic deliveries

  @Override
  public void send(ObjectNode frame) {
    if (Io.onContext(context)) {
      outbound.write(frame);
    } else {
      context.runOnContext(v -> outbound.write(frame));
    }
  }

  @Override
  public Context context() {
    return context;
  }

  @Override
  public String userId() {
    return principal.userId();
  }

  @Override
  public boolean binary() {
    return codec.binary();
  }

  /**
   * Writes shared, pre-encoded WebSocket frames straight to the channel, below Vert.x's per-frame
   * encode and flush: the verticle flushes each written socket once at the end of the loop turn.
   * Safe because it runs on the socket's own event loop, like every other write to it.
   */
  @Override
  public boolean deliver(TopicEvent last, ByteBuf frames, int count) {
    if (closing) {
      return false;
    }
    outbound.writeFrame(frames.retainedDuplicate(), count);
    if (last != null) {
      subscriptions.delivered(last.topic(), last.offset(), last.epoch()); // once written
    }
    return true;
  }

  @Override
  public boolean isClosing() {
    return closing;
  }

  @Override
  public boolean congested() {
    return closing || outbound.congested();
  }

  @Override
  public long room() {
    return closing ? 0 : outbound.room();
  }

  @Override
  public Subscriptions subscriptions() {
    return subscriptions;
  }

  // ------------------------------------------------------------------ clocks

  /** Called on the event loop by the verticle's tick: pings, idle timeout, token expiry (see {@link Clocks}). */
  void tick(long nowNanos, long nowMs) {
    if (!closing) {
      clocks.tick(nowNanos, nowMs);
    }
  }

  /**
   * At a closing handshake (the client's close frame, or ours): when every frame of ours has left
   * the process (what may still wait unflushed is only Vert.x's own closing frame), the client's TCP
   * stack has acknowledged every byte, and the client answered the acknowledgement pings (or the
   * last one went out too recently to tell), everything written counts for resume: a session resumed
   * after a clean drop continues exactly. Otherwise the positions stay those the client acknowledged
   * with a pong: a resume may then repeat events, never skip one.
   */
  private void settle() {
    if (!outbound.allSent()) {
      return;
    }
    if (clocks.acks.stalled(System.nanoTime())) {
      return; // a client that stopped reading: what its TCP stack holds may never have been read
    }
    if (!outbound.allAcknowledged()) {
      return;
    }
    allWrittenReceived();
  }

  /** Everything written was read: topic positions and operation frames alike. */
  private void allWrittenReceived() {
    subscriptions.allWrittenReceived();
    if (node.ops() != null) {
      node.ops().hub().clients().allWrittenReceived(this);
    }
  }

  // ------------------------------------------------------------------ Client

  @Override
  public String connectionId() {
    return connectionId;
  }

  @Override
  public String sessionId() {
    return sessionId;
  }

  @Override
  public String deviceId() {
    return deviceId;
  }

  @Override
  public Principal principal() {
    return principal;
  }

  @Override
  public void principal(Principal p) {
    this.principal = p;
    clocks.tokenChanged();
  }

  @Override
  public void close(CloseCode code) {
    close(code, code.code(), code.reason());
  }

  @Override
  public void close(CloseCode kind, int code, String reason) {
    if (Io.onContext(context)) {
      doClose(kind, (short) code, reason);
    } else {
      context.runOnContext(v -> doClose(kind, (short) code, reason));
    }
  }

  @Override
  public long connectedAt() {
    return openedAtMs;
  }

  @Override
  public long queuedBytes() {
    return outbound.queued();
  }

  private void doClose(CloseCode code, short wireCode, String reason) {
    if (closing) {
      return;
    }
    if (code != CloseCode.INTERNAL) {
      settle(); // (a failed delivery closes with 1011: what it was writing is not known to be sent)
    }
    closing = true;
    closeSent = code;
    closeSentCode = wireCode;
    node.metrics().close(code);
    try {
      ws.close(wireCode, reason);
    } catch (IllegalStateException alreadyClosed) {
      return; // the socket went away meanwhile: nothing to send, cleanup runs from its close
    }
    // The closing handshake may never happen (a client that does not read never gets our close
    // frame): drop the TCP connection after the closing timeout whatever the client does.
    context.owner().setTimer(GatewayVerticle.CLOSING_TIMEOUT_SECONDS * 1000L, t -> {
      if (channel.channel().isOpen()) {
        // At the transport, below the pipeline: Vert.x's handler would turn a close() into a
        // graceful one that first waits for the unsent data this client will never read.
        channel.channel().unsafe().close(channel.channel().voidPromise());
      }
    });
  }

  /** Called once when the socket is gone, whoever closed it. */
  void closed() {
    closing = true;
    reassembly.clear();
    for (String topic : subscriptions.clear()) {
      node.topics().unsubscribe(this, topic);
    }
    if (node.ops() != null) {
      node.ops().hub().clients().closed(this);
    }
  }

  ServerWebSocket socket() {
    return ws;
  }

  /** The close code this node sent, or null when it sent none. */
  CloseCode closeSent() {
    return closeSent;
  }

  /** The code on the close frame this node sent (meaningful when {@link #closeSent()} is not null). */
  short closeSentCode() {
    return closeSentCode;
  }

  long openMillis() {
    return (System.nanoTime() - openedNanos) / 1_000_000;
  }

  long messagesIn() {
    return requests.messagesIn();
  }

  /** Frames written: the {@code connected} frame (through Vert.x) and every frame after it. */
  long framesOut() {
    return 1 + outbound.framesWritten();
  }
}
