package dev.switchboard.methods;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.auth.Access;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.Json;
import dev.switchboard.protocol.SwitchboardException;
import dev.switchboard.routing.Call;
import dev.switchboard.routing.SimpleMethod;
import dev.switchboard.routing.ParamSchema;
import dev.switchboard.topics.TopicNames;

import java.util.List;
import java.util.Map;

/** {@code topic.presence {topic}} → {members:[{user_id, devices}], count}: cluster-wide, where the namespace has presence. */
public final class TopicPresence extends SimpleMethod {
  public TopicPresence() {
    super("topic.presence", PARAMS, Access.subscribe("topic"));
  }
  private static final ParamSchema PARAMS = ParamSchema.of(TopicNames.topicParam());

  @Override
  public void handle(Call call) {
    String topic = call.params().string("topic");
    if (!call.node().topics().namespaces().of(topic).presence()) {
      throw SwitchboardException.invalidParams("topic", "presence is not enabled for this topic's namespace");
    }
    call.node().directory().members(topic).onComplete(ar -> {
      if (ar.failed()) {
        call.reply().error(new SwitchboardException(ErrorCode.UNAVAILABLE, "presence unavailable, retry"));
      } else {
        call.reply().result(result(ar.result()));
      }
    });
  }

  /** The shared result shape of {@code topic.presence} and the HTTP presence endpoint. */
  public static ObjectNode result(Map<String, List<String>> members) {
    ObjectNode r = Json.MAPPER.createObjectNode();
    ArrayNode list = r.putArray("members");
    members.forEach((user, devices) -> {
      ObjectNode m = list.addObject().put("user_id", user);
      ArrayNode d = m.putArray("devices");
      devices.forEach(d::add);
    });
    r.put("count", members.size());
    return r;
  }
}
