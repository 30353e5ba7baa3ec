package dev.switchboard.methods;

import com.fasterxml.jackson.databind.JsonNode;
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

/**
 * {@code topic.history {topic, [limit ≤ 1000], [since]}} → {events[], offset, epoch}, oldest first.
 * Without since: the latest {@code limit} events. A since whose epoch differs, or that is older than
 * the history kept, is NOT_FOUND.
 */
public final class TopicHistory extends SimpleMethod {
  public TopicHistory() {
    super("topic.history", PARAMS, Access.subscribe("topic"));
  }
  public static final int MAX_LIMIT = 1000;
  private static final ParamSchema PARAMS = ParamSchema.of(TopicNames.topicParam(),
      ParamSchema.integer("limit").range(0, MAX_LIMIT), TopicNames.sinceParam());

  @Override
  public void handle(Call call) {
    String topic = call.params().string("topic");
    int limit = (int) call.params().integer("limit", 100);
    JsonNode since = call.params().node("since");
    long after = since == null ? -1 : since.get("offset").longValue();
    String epoch = since == null ? null : since.get("epoch").textValue();
    call.node().topics().history(topic, after, limit).onComplete(ar -> {
      if (ar.failed()) {
        call.reply().error(new SwitchboardException(ErrorCode.UNAVAILABLE, "history is unavailable, retry"));
        return;
      }
      var h = ar.result();
      if (epoch != null && !epoch.equals(h.epoch())) {
        call.reply().error(new SwitchboardException(ErrorCode.NOT_FOUND, "epoch differs: the history was reset"));
        return;
      }
      if (since != null && after + 1 < h.oldest() && after < h.offset()) {
        call.reply().error(new SwitchboardException(ErrorCode.NOT_FOUND, "position is older than the history kept"));
        return;
      }
      ObjectNode r = Json.MAPPER.createObjectNode();
      ArrayNode events = r.putArray("events");
      h.events().forEach(e -> events.add(e.toJson()));
      r.put("offset", h.offset());
      r.put("epoch", h.epoch());
      call.reply().result(r);
    });
  }
}
