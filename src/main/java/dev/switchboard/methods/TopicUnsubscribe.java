package dev.switchboard.methods;

import dev.switchboard.auth.Access;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.Json;
import dev.switchboard.protocol.SwitchboardException;
import dev.switchboard.routing.Call;
import dev.switchboard.routing.SimpleMethod;
import dev.switchboard.routing.ParamSchema;
import dev.switchboard.topics.TopicNames;

/** {@code topic.unsubscribe {topic}} → {topic}; unsubscribing from a topic one is not on is not an error. */
public final class TopicUnsubscribe extends SimpleMethod {
  private static final ParamSchema PARAMS = ParamSchema.of(TopicNames.topicParam());

  // access: only ever removes the caller's own subscription
  public TopicUnsubscribe() {
    super("topic.unsubscribe", PARAMS, Access.CONNECTED);
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
