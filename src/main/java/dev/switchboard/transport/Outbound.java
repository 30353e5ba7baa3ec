package dev.switchboard.transport;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.protocol.CloseCode;
import dev.switchboard.protocol.FrameCodec;
import dev.switchboard.protocol.WireFrames;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.epoll.EpollSocketChannel;
import io.vertx.core.buffer.Buffer;

/**
 * One socket's outbound queue: every frame of a connection (replies, errors, events, pings, token and
 * drain notices) goes straight to the socket's channel as pre-built WebSocket bytes and is flushed at
 * the end of the loop turn, and what the kernel did not take is judged against the outbound limit (a
 * slow consumer is closed rather than let its queue grow the heap). Its own class so that the
 * connection keeps the socket's state and lifecycle, and this the bytes on their way out; a final
 * class the connection calls directly, so the fan-out path gains no dispatch and no allocation.
 * Loop-confined, except {@link #congested}.
 */
final class Outbound {
  /** Unflushed bytes past which a socket is flushed at once instead of at the end of the turn. */
  static final int FLUSH_EARLY_BYTES = 64 * 1024;

  private final GatewayVerticle owner;
  private final Connection connection;
  private final FrameCodec codec;
  private final ChannelHandlerContext channel;
  /**
   * Where pre-built frames are written: the WebSocket encoder's context, so that they pass the
   * handlers between it and the transport (none, or TLS) but not the encoder itself, which would
   * only look at each buffer and pass it on.
   */
  private final ChannelHandlerContext out;
  private final long limit;
  private boolean flushQueued;
  /** Frames written to this socket (for the close event's log line). */
  private long framesWritten;
  private int unflushedBytes;

  Outbound(GatewayVerticle owner, Connection connection, FrameCodec codec, ChannelHandlerContext channel,
           long limit) {
    this.owner = owner;
    this.connection = connection;
    this.codec = codec;
    this.channel = channel;
    ChannelHandlerContext encoder = channel.pipeline().context(io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder.class);
    this.out = encoder != null ? encoder : channel;
    this.limit = limit;
  }

  Connection connection() {
    return connection;
  }

  /**
   * Encodes a frame with the connection's codec and writes it, flushed at the end of the loop turn.
   * One path for every frame keeps them in order: Vert.x's own write path would hold frames in a
   * queue of its own while the channel is backed up and let later direct writes overtake them.
   */
  void write(ObjectNode frame) {
    if (connection.isClosing()) {
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
  void writeFrame(ByteBuf bytes, int frames) {
    int size = bytes.readableBytes();
    owner.countOut(frames, size);
    framesWritten += frames;
    out.write(bytes, out.voidPromise());
    unflushedBytes += size;
    if (unflushedBytes >= FLUSH_EARLY_BYTES) {
      flush(); // a large burst goes out as it is written, not all at the end of the turn
    } else if (!flushQueued) {
      flushQueued = true;
      owner.flushLater(this);
    }
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
    if (!connection.isClosing() && pendingBytes() > limit) {
      connection.close(CloseCode.SLOW_CONSUMER);
    }
  }

  /** Past half the outbound limit: too full to take a replay's next chunk (may be read off the loop). */
  boolean congested() {
    return pendingBytes() > limit / 2;
  }

  /** What the queue takes before it passes the limit; unbounded while nothing is unsent (see Subscriber#room). */
  long room() {
    long pending = pendingBytes();
    return pending == 0 ? Long.MAX_VALUE : Math.max(0, limit - pending);
  }

  /** Bytes waiting in the channel (may be read off the loop: an estimate there). */
  long queued() {
    return pendingBytes();
  }

  long framesWritten() {
    return framesWritten;
  }

  /** Bytes written to the socket but not yet taken by the kernel. */
  private long pendingBytes() {
    ChannelOutboundBuffer out = channel.channel().unsafe().outboundBuffer();
    // All our frames are written to the channel directly (see write), never into Vert.x's own
    // queue, so the channel's outbound buffer holds everything that is unsent.
    return out == null ? 0 : out.totalPendingWriteBytes();
  }

  /**
   * Every frame of ours has left the process: none waits for a flush or in the channel (what may
   * still wait unflushed is only Vert.x's own closing frame), and the channel is still up.
   */
  boolean allSent() {
    Channel ch = channel.channel();
    ChannelOutboundBuffer pending = ch.unsafe().outboundBuffer();
    return ch.isActive() && pending != null && !flushQueued && pending.current() == null;
  }

  /** The client's TCP stack has acknowledged every byte sent (known on epoll; taken as so elsewhere). */
  boolean allAcknowledged() {
    if (channel.channel() instanceof EpollSocketChannel epoll) {
      try {
        return epoll.tcpInfo().unacked() == 0;
      } catch (RuntimeException gone) {
        return false;
      }
    }
    return true;
  }
}
