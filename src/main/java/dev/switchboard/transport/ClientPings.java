package dev.switchboard.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameDecoder;

/**
 * Takes a socket's inbound pings before Vert.x sees them, so that the connection answers them on
 * its own outbound path. Vert.x answers a ping by queueing a pong in a queue of its own while the
 * channel is backed up, unbounded and unseen by the outbound limit: a client that sends pings and
 * never reads grew the node's memory without end (PingFloodTest). Sits right after the WebSocket
 * decoder; runs on the socket's event loop, like the connection.
 */
final class ClientPings extends ChannelInboundHandlerAdapter {
  private final Connection connection;

  private ClientPings(Connection connection) {
    this.connection = connection;
  }

  /** Puts the handler into the socket's pipeline (after the upgrade: the decoder is there). */
  static void install(ChannelHandlerContext socket, Connection connection) {
    ChannelHandlerContext decoder = socket.pipeline().context(WebSocketFrameDecoder.class);
    if (decoder != null && socket.pipeline().get(ClientPings.class) == null) {
      socket.pipeline().addAfter(decoder.name(), "sb-client-pings", new ClientPings(connection));
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof PingWebSocketFrame ping) {
      try {
        connection.pinged(ping.content());
      } finally {
        ping.release();
      }
    } else {
      ctx.fireChannelRead(msg);
    }
  }
}
