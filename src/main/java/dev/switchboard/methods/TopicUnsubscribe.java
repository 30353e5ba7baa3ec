package dev.switchboard.methods;

import dev.switchboard.auth.Access;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.Json;
import dev.switchboard.protocol.SwitchboardException;
import dev.switchboard.routing.Call;
import dev.switchboard.routing.Method;
import dev.switchboard.routing.ParamSchema;
import dev.switchboard.topics.TopicNames;

/** {@code topic.unsubscribe {topic}} → {topic}; unsubscribing from a topic one is not on is not an error. */
public final class TopicUnsubscribe implements Method {
  private static final ParamSchema PARAMS = ParamSchema.of(TopicNames.topicParam());

  @Override
  public String name() {
    return "topic.unsubscribe";
  }

  @Override
  public ParamSchema params() {
    return PARAMS;
  }

  @Override
  public Access access() {
    return Access.CONNECTED; // only ever removes the caller's own subscription
  }

  @Override
  public void handle(Call call) {
    String topic = call.params().string("topic");
    var subs = call.client().subscriptions();
    if (subs == null) {
      throw new SwitchboardException(ErrorCode.UNAVAILABLE, "topics are not available on this connection");
    }
    if (subs.release(topic)) {
      call.node().topics().unsubscribe(subs.subscriber(), topic);
      call.client().subscriptionsChanged();
    }
    call.reply().result(Json.MAPPER.createObjectNode().put("topic", topic));
  }
}
