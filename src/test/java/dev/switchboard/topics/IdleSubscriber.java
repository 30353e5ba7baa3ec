package dev.switchboard.topics;

import io.vertx.core.Context;

/**
 * A subscriber that takes whatever it is given and never congests or closes: for tests and benches
 * that count what a subscription costs, not what it delivers.
 */
public record IdleSubscriber(Context context, String connectionId) implements Subscriber {
  @Override
  public String deviceId() {
    return "d";
  }

  @Override
  public String userId() {
    return "u";
  }

  @Override
  public boolean binary() {
    return false;
  }

  @Override
  public boolean deliver(TopicEvent last, io.netty.buffer.ByteBuf frames, int count) {
    return true;
  }

  @Override
  public boolean congested() {
    return false;
  }

  @Override
  public long room() {
    return Long.MAX_VALUE;
  }

  @Override
  public boolean isClosing() {
    return false;
  }

  @Override
  public void close(dev.switchboard.protocol.CloseCode code) {
  }
}
