package dev.switchboard.methods;

import dev.switchboard.auth.Access;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.Json;
import dev.switchboard.protocol.SwitchboardException;
import dev.switchboard.routing.Call;
import dev.switchboard.routing.SimpleMethod;
import dev.switchboard.routing.ParamSchema;
import dev.switchboard.topics.TopicNames;

/** {@code topic.publish {topic, data}} → {offset, epoch} once the event is in the topic's history. */
public final class TopicPublish extends SimpleMethod {
  public TopicPublish() {
    super("topic.publish", PARAMS, Access.publish("topic"));
  }
  private static final ParamSchema PARAMS = ParamSchema.of(TopicNames.topicParam(), ParamSchema.any("data").required());

  @Override
  public void handle(Call call) {
    call.node().topics().publish(call.params().string("topic"), call.params().node("data"),
        call.client().principal().userId()).onComplete(ar -> {
          if (ar.failed()) {
            call.reply().error(new SwitchboardException(ErrorCode.UNAVAILABLE, "publish failed, retry"));
          } else {
            call.reply().result(Json.MAPPER.createObjectNode().put("offset", ar.result().offset())
                .put("epoch", ar.result().epoch()));
          }
        });
  }
}
