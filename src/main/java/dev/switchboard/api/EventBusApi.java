package dev.switchboard.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.NodeContext;
import dev.switchboard.cluster.Addresses;
import dev.switchboard.cluster.DirectSender;
import dev.switchboard.methods.TopicPresence;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.Json;
import dev.switchboard.topics.TopicNames;
import io.vertx.core.Future;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;

/**
 * The service API for JVM services that are members of the cluster: the same operations as the
 * HTTP API, as request/reply on the addresses in {@link Addresses}. Cluster members are trusted
 * (they could read Hazelcast directly), so no token is asked for here; bad input still fails
 * with 400 and a stable code. See docs/services.md.
 */
public final class EventBusApi {
  private EventBusApi() {
  }

  public static Future<Void> register(NodeContext node) {
    var bus = node.vertx().eventBus();
    return Future.all(
        bus.<JsonObject>consumer(Addresses.API_PUBLISH, m -> publish(node, m)).completion(),
        bus.<JsonObject>consumer(Addresses.API_SEND, m -> send(node, m)).completion(),
        bus.<JsonObject>consumer(Addresses.API_PRESENCE, m -> presence(node, m)).completion()).mapEmpty();
  }

  private static void publish(NodeContext node, Message<JsonObject> m) {
    JsonObject b = m.body();
    String topic = b == null ? null : b.getString("topic");
    if (topic == null || !TopicNames.NAME.matcher(topic).matches() || !b.containsKey("data")) {
      m.fail(400, ErrorCode.INVALID_PARAMS.name());
      return;
    }
    node.topics().publish(topic, tree(b.getValue("data")), b.getString("from", "service"))
        .onSuccess(p -> m.reply(new JsonObject().put("offset", p.offset()).put("epoch", p.epoch())))
        .onFailure(err -> m.fail(503, ErrorCode.UNAVAILABLE.name()));
  }

  private static void send(NodeContext node, Message<JsonObject> m) {
    JsonObject b = m.body();
    String user = b == null ? null : b.getString("user");
    if (user == null || user.isEmpty() || !b.containsKey("data")) {
      m.fail(400, ErrorCode.INVALID_PARAMS.name());
      return;
    }
    node.directs().send(user, b.getString("device_id"), null, tree(b.getValue("data")), b.getString("from", "service"), null)
        .recover(err -> err instanceof DirectSender.NoSuchDevice ? Future.succeededFuture(0) : Future.failedFuture(err))
        .onSuccess(n -> m.reply(new JsonObject().put("delivered", n)))
        .onFailure(err -> m.fail(503, ErrorCode.UNAVAILABLE.name()));
  }

  private static void presence(NodeContext node, Message<JsonObject> m) {
    String topic = m.body() == null ? null : m.body().getString("topic");
    if (topic == null || !TopicNames.NAME.matcher(topic).matches()) {
      m.fail(400, ErrorCode.INVALID_PARAMS.name());
      return;
    }
    node.directory().members(topic)
        .onSuccess(members -> m.reply(new JsonObject(TopicPresence.result(members).toString())))
        .onFailure(err -> m.fail(503, ErrorCode.UNAVAILABLE.name()));
  }

  private static JsonNode tree(Object vertxJson) {
    return Json.MAPPER.valueToTree(vertxJson instanceof JsonObject ? ((JsonObject) vertxJson).getMap()
        : vertxJson instanceof io.vertx.core.json.JsonArray ? ((io.vertx.core.json.JsonArray) vertxJson).getList() : vertxJson);
  }
}
