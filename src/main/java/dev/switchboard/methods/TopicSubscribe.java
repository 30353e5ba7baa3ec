package dev.switchboard.methods;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.auth.Access;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.Json;
import dev.switchboard.protocol.SwitchboardException;
import dev.switchboard.routing.Call;
import dev.switchboard.routing.SimpleMethod;
import dev.switchboard.routing.ParamSchema;
import dev.switchboard.topics.TopicHub;
import dev.switchboard.topics.TopicNames;

/**
 * {@code topic.subscribe {topic, [since]}} → {topic, offset, epoch, recovered, missed}. The result
 * frame comes first, then the replayed events (with since), then live events: all on the
 * connection's event loop in that order.
 */
public final class TopicSubscribe extends SimpleMethod {
  public TopicSubscribe() {
    super("topic.subscribe", PARAMS, Access.subscribe("topic"));
  }
  private static final ParamSchema PARAMS = ParamSchema.of(TopicNames.topicParam(), TopicNames.sinceParam());

  @Override
  public void handle(Call call) {
    String topic = call.params().string("topic");
    JsonNode since = call.params().node("since");
    Long sinceOffset = since == null ? null : since.get("offset").longValue();
    String sinceEpoch = since == null ? null : since.get("epoch").textValue();
    var subs = call.client().subscriptions();
    if (subs == null) {
      throw new SwitchboardException(ErrorCode.UNAVAILABLE, "topics are not available on this connection");
    }
    // With since, the session holds that position until the answer says where the subscription starts:
    // a connection lost before the answer resumes from since (not live from the newest offset).
    Object reserved = subs.reserve(topic, since == null ? null
        : new dev.switchboard.topics.Subscriptions.Position(sinceOffset, sinceEpoch));
    if (reserved == null) {
      throw SwitchboardException.rateLimited("too many subscriptions on this connection", 1000);
    }
    TopicHub hub = call.node().topics();
    // The result goes out from the hub's answer, on this connection's loop, ahead of every event.
    hub.subscribe(subs.subscriber(), topic, sinceOffset, sinceEpoch, r -> call.reply().result(result(topic, r)))
        .onComplete(ar -> {
          if (ar.failed()) {
            subs.release(topic, reserved);
            call.reply().error(new SwitchboardException(ErrorCode.UNAVAILABLE, "topic is unavailable, retry"));
            return;
          }
          if (ar.result().repeat()) {
            return; // already followed: its position is the first subscription's
          }
          // recovered: the replay runs on from sinceOffset, and the position moves as it is delivered
          if (subs.startsAt(topic, reserved, ar.result().recovered() && sinceOffset != null ? sinceOffset
              : ar.result().offset(), ar.result().epoch())) {
            call.client().subscriptionsChanged();
          }
        });
  }

  private static JsonNode result(String topic, TopicHub.Subscribed r) {
    return Json.MAPPER.createObjectNode().put("topic", topic).put("offset", r.offset()).put("epoch", r.epoch())
        .put("recovered", r.recovered()).put("missed", r.missed());
  }
}
