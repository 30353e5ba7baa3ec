package dev.switchboard.transport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.switchboard.NodeContext;
import dev.switchboard.auth.Principal;
import dev.switchboard.auth.TokenBucket;
import dev.switchboard.protocol.CloseCode;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.FrameCodec;
import dev.switchboard.protocol.Frames;
import dev.switchboard.protocol.WireFrames;
import dev.switchboard.protocol.SwitchboardException;
import dev.switchboard.routing.Client;
import dev.switchboard.routing.Dispatcher;
import dev.switchboard.cluster.Sessions;
import dev.switchboard.topics.Subscriber;
import dev.switchboard.topics.Subscriptions;
import dev.switchboard.topics.TopicEvent;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.epoll.EpollSocketChannel;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.internal.http.WebSocketInternal;

/**
 * One client socket: reassembles inbound messages within the size limits, hands them to the
 * dispatcher, writes outbound frames with a bounded queue, and keeps the liveness and token
 * clocks (driven by its verticle's tick, not by a timer per socket). All state is touched on the
 * socket's event loop only.
 */
final class Connection implements Client, Subscriber {
  /** Unflushed bytes past which a socket is flushed at once instead of at the end of the turn. */
  static final int FLUSH_EARLY_BYTES = 64 * 1024;

  private final NodeContext node;
  private final GatewayVerticle owner;
  private final ServerWebSocket ws;
  private final Context context;
  private final FrameCodec codec;
  private final Dispatcher dispatcher;
  private final String connectionId;
  private final String sessionId;
  private final String deviceId;
  private final TokenBucket bucket;
  private final int maxMessageBytes;
  private final int hardMessageBytes;
  private final long outboundLimit;
  private final Subscriptions subscriptions;
  private final ChannelHandlerContext channel;
  /**
   * Where pre-built frames are written: the WebSocket encoder's context, so that they pass the
   * handlers between it and the transport (none, or TLS) but not the encoder itself, which would
   * only look at each buffer and pass it on.
   */
  private final ChannelHandlerContext out;
  private Principal principal;

  private long lastInboundNanos = System.nanoTime();
  private long nextPingNanos;
  private final ReadAcks acks;
  /** The close code of the close frame this node sent (null: none sent). */
  private CloseCode closeSent;
  private boolean expiringSent;
  private volatile boolean closing;
  private boolean flushQueued;
  private int unflushedBytes;
  /** Bytes handed to Vert.x whose write has not completed yet (queued in Vert.x or in the channel). */
  private final SessionKeeper session;
  private int strikes;
  private long generatedIds;

  private final Reassembly reassembly;

  Connection(NodeContext node, GatewayVerticle owner, ServerWebSocket ws, Principal principal, String connectionId,
             String sessionId, String deviceId, FrameCodec codec, Dispatcher dispatcher) {
    this.node = node;
    this.owner = owner;
    this.ws = ws;
    this.context = owner.context();
    this.principal = principal;
    this.connectionId = connectionId;
    this.sessionId = sessionId;
    this.deviceId = deviceId;
    this.codec = codec;
    this.dispatcher = dispatcher;
    this.bucket = node.policy().requestBucket();
    this.maxMessageBytes = node.config().limits().maxMessageBytes();
    this.hardMessageBytes = node.config().limits().maxFrameBytes();
    this.outboundLimit = node.config().limits().outboundQueueBytes();
    this.nextPingNanos = lastInboundNanos + node.config().limits().heartbeatMs() * 1_000_000L;
    this.acks = new ReadAcks(lastInboundNanos);
    this.subscriptions = new Subscriptions(this, node.config().limits().maxSubscriptions());
    this.channel = ((WebSocketInternal) ws).channelHandlerContext();
    ChannelHandlerContext encoder = channel.pipeline().context(io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder.class);
    this.out = encoder != null ? encoder : channel;
    this.session = new SessionKeeper(node, context, owner.sessionWriter(), this, subscriptions);
    this.reassembly = new Reassembly(maxMessageBytes, hardMessageBytes, new Reassembly.Sink() {
      @Override
      public void message(Buffer message, boolean binary) {
        onMessage(message, binary);
      }

      @Override
      public void tooLarge(int size) {
        Connection.this.tooLarge(size);
      }

      @Override
      public void close(CloseCode code) {
        Connection.this.close(code);
      }
    });
  }

  void start(Sessions.Stored resume) {
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
    // 101 response; later frames are written to the channel directly (see write). Writing this one
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
    lastInboundNanos = System.nanoTime();
    if (frame.type() == WebSocketFrameType.PONG) {
      onPong(frame.binaryData());
    } else if (frame.type() == WebSocketFrameType.CLOSE && !closing) {
      settle();
    } else if (frame.type() == WebSocketFrameType.CLOSE && closeSent != null && closeSent != CloseCode.INTERNAL) {
      // The client answered our close frame: it read every frame before it, and nothing of ours
      // is written after it. Everything written counts (a drain resumes exactly elsewhere).
      subscriptions.allWrittenReceived();
    }
    if (!closing) {
      reassembly.frame(frame); // pings, pongs and close frames only count as liveness
    }
  }

  private void tooLarge(int size) {
    node.metrics().frameIn(size);
    dispatcher.sendError(this, null, new SwitchboardException(ErrorCode.MESSAGE_TOO_LARGE,
        "message exceeds " + maxMessageBytes + " bytes"));
  }

  /**
   * Socket errors end in closeHandler. A frame the decoder refused (over the frame limit, bad
   * framing) is followed at once by Vert.x dropping the TCP connection: the close frame with the
   * decoder's status (1009 for a frame over the limit) is written straight to the channel first,
   * because a close through Vert.x would only be flushed after the drop.
   */
  private void onSocketError(Throwable err) {
    if (err instanceof CorruptedWebSocketFrameException bad && !closing) {
      closing = true;
      int code = bad.closeStatus().code();
      if (code == CloseCode.TOO_BIG.code()) {
        node.metrics().close(CloseCode.TOO_BIG);
      }
      channel.writeAndFlush(new CloseWebSocketFrame(code, bad.closeStatus().reasonText()));
    }
  }

  private void onMessage(Buffer message, boolean binary) {
    int size = message.length();
    if (size > maxMessageBytes) {
      tooLarge(size);
      return;
    }
    node.metrics().frameIn(size);
    if (!binary && !ByteBufUtil.isText(((BufferInternal) message).getByteBuf(), java.nio.charset.StandardCharsets.UTF_8)) {
      close(CloseCode.INVALID_UTF8); // RFC 6455 section 8.1: a text message must be valid UTF-8
      return;
    }
    if (binary != codec.binary()) {
      dispatcher.sendError(this, null, new SwitchboardException(ErrorCode.INVALID_REQUEST,
          codec.binary() ? "this connection speaks CBOR in binary frames" : "this connection speaks JSON in text frames"));
      return;
    }
    JsonNode doc;
    try {
      doc = codec.decode(message);
    } catch (SwitchboardException e) {
      dispatcher.sendError(this, null, e);
      return;
    }
    boolean limited = dispatcher.dispatch(this, doc, bucket, this::nextId);
    if (!limited) {
      strikes = 0;
    } else if (++strikes >= node.policy().maxRequestStrikes()) {
      // A client that keeps sending while being told to back off is flooding.
      close(CloseCode.SLOW_CONSUMER);
    }
  }

  private JsonNode nextId() {
    return TextNode.valueOf("_" + (++generatedIds));
  }

  // ------------------------------------------------------------------ outbound

  @Override
  public void send(ObjectNode frame) {
    if (Io.onContext(context)) {
      write(frame);
    } else {
      context.runOnContext(v -> write(frame));
    }
  }

  /**
   * Every frame of a connection (replies, errors, events, token and drain notices) goes straight
   * to the socket's channel as pre-built WebSocket bytes and is flushed at the end of the loop
   * turn. One path keeps them in order: Vert.x's own write path would hold frames in a queue of
   * its own while the channel is backed up and let later direct writes overtake them.
   */
  private void write(ObjectNode frame) {
    if (closing) {
      return;
    }
    byte[] payload;
    if (codec.binary()) {
      Buffer b = codec.encode(frame);
      payload = b.getBytes();
    } else {
      payload = frame.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }
    writeFrame(WireFrames.message(codec.binary(), payload), 1);
  }

  /** Writes {@code frames} pre-built WebSocket frames (one buffer) to the channel, flushed later. */
  private void writeFrame(ByteBuf bytes, int frames) {
    int size = bytes.readableBytes();
    owner.countOut(frames, size);
    out.write(bytes, out.voidPromise());
    unflushedBytes += size;
    if (unflushedBytes >= FLUSH_EARLY_BYTES) {
      flush(); // a large burst goes out as it is written, not all at the end of the turn
    } else if (!flushQueued) {
      flushQueued = true;
      owner.flushLater(this);
    }
  }


  // ------------------------------------------------------------------ topic deliveries

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
    writeFrame(frames.retainedDuplicate(), count);
    if (last != null) {
      subscriptions.delivered(last.topic(), last.offset(), last.epoch()); // once written
    }
    return true;
  }


  /**
   * Flushes, then judges the client: what the kernel did not take is what the client has not read.
   * Past the outbound limit the connection is closed as a slow consumer (4008) rather than let its
   * queue grow the heap. (Judged after the flush: unflushed bytes of this turn are not the client's fault.)
   */
  void flush() {
    flushQueued = false;
    unflushedBytes = 0;
    out.flush();
    if (!closing && pendingOutboundBytes() > outboundLimit) {
      close(CloseCode.SLOW_CONSUMER);
    }
  }

  @Override
  public boolean isClosing() {
    return closing;
  }

  @Override
  public boolean congested() {
    return closing || pendingOutboundBytes() > outboundLimit / 2;
  }

  @Override
  public Subscriptions subscriptions() {
    return subscriptions;
  }

  /** Bytes written to the socket but not yet taken by the kernel. */
  private long pendingOutboundBytes() {
    ChannelOutboundBuffer out = channel.channel().unsafe().outboundBuffer();
    // All our frames are written to the channel directly (see write), never into Vert.x's own
    // queue, so the channel's outbound buffer holds everything that is unsent.
    return out == null ? 0 : out.totalPendingWriteBytes();
  }

  // ------------------------------------------------------------------ clocks

  /** Called on the event loop by the verticle's tick: pings, idle timeout, token expiry. */
  void tick(long nowNanos, long nowMs) {
    if (closing) {
      return;
    }
    long idleNanos = node.config().limits().idleTimeoutMs() * 1_000_000L;
    if (nowNanos - lastInboundNanos > idleNanos) {
      close(CloseCode.IDLE_TIMEOUT);
      return;
    }
    long exp = principal.expiresAtMs();
    if (exp > 0) {
      if (nowMs >= exp) {
        close(CloseCode.TOKEN_EXPIRED);
        return;
      }
      if (!expiringSent && exp - nowMs <= node.config().limits().tokenExpiringMs()) {
        expiringSent = true;
        send(Frames.tokenExpiring(exp - nowMs));
      }
    }
    session.tick(nowMs);
    long heartbeatNanos = node.config().limits().heartbeatMs() * 1_000_000L;
    boolean ask = acks.due(nowNanos) && subscriptions.mark();
    if (ask || nowNanos >= nextPingNanos) {
      nextPingNanos = nowNanos + heartbeatNanos;
      long id = acks.nextPing(ask, nowNanos);
      // Written after the events it acknowledges, on the same stream: its pong proves they were read.
      // Straight to the channel like the events, so it goes out in the same write as any of this turn.
      writeFrame(channel.alloc().buffer(10).writeByte(0x89).writeByte(8).writeLong(id), 0);
    }
  }

  private void onPong(Buffer payload) {
    if (payload.length() == 8 && acks.pong(payload.getLong(0))) {
      subscriptions.acknowledged();
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
    Channel ch = channel.channel();
    ChannelOutboundBuffer pending = ch.unsafe().outboundBuffer();
    if (!ch.isActive() || pending == null || flushQueued || pending.current() != null) {
      return;
    }
    if (acks.stalled(System.nanoTime())) {
      return; // a client that stopped reading: what its TCP stack holds may never have been read
    }
    if (ch instanceof EpollSocketChannel epoll) {
      try {
        if (epoll.tcpInfo().unacked() != 0) {
          return;
        }
      } catch (RuntimeException gone) {
        return;
      }
    }
    subscriptions.allWrittenReceived();
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
    this.expiringSent = false;
  }

  @Override
  public void close(CloseCode code) {
    if (Io.onContext(context)) {
      doClose(code);
    } else {
      context.runOnContext(v -> doClose(code));
    }
  }

  private void doClose(CloseCode code) {
    if (closing) {
      return;
    }
    if (code != CloseCode.INTERNAL) {
      settle(); // (a failed delivery closes with 1011: what it was writing is not known to be sent)
    }
    closing = true;
    closeSent = code;
    node.metrics().close(code);
    try {
      ws.close(code.code(), code.reason());
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
}
