package dev.switchboard.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.NodeContext;
import dev.switchboard.auth.Principal;
import dev.switchboard.cluster.Addresses;
import dev.switchboard.cluster.DirectSender;
import dev.switchboard.methods.TopicPresence;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.Ids;
import dev.switchboard.protocol.Json;
import dev.switchboard.protocol.SwitchboardException;
import dev.switchboard.routing.ParamSchema;
import dev.switchboard.routing.Params;
import dev.switchboard.topics.TopicNames;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * The service API for JVM services that are members of the cluster: the same operations as the
 * HTTP API, as request/reply on the addresses in {@link Addresses}. Cluster members are trusted
 * (they could read Hazelcast directly), so no token is asked for here; but their input is checked
 * like a client's (same param rules, same size and depth limits), and every request gets a reply:
 * bad input fails with 400 (413 when too large) and a stable code, anything unexpected with 500
 * {@code INTERNAL}, never a silent timeout. See docs/services.md.
 */
public final class EventBusApi {
  private static final Logger LOG = LoggerFactory.getLogger(EventBusApi.class);

  private static final ParamSchema.Param FROM =
      ParamSchema.string("from").maxLength(Ids.MAX_USER_CHARS).pattern(Ids.NON_EMPTY);
  private static final ParamSchema PUBLISH = ParamSchema.of(TopicNames.topicParam(),
      ParamSchema.any("data").required(), FROM);
  private static final ParamSchema SEND = ParamSchema.of(
      ParamSchema.string("user").required().maxLength(Ids.MAX_USER_CHARS).pattern(Ids.NON_EMPTY),
      ParamSchema.any("data").required(), ParamSchema.string("device_id").pattern(Ids.DEVICE_ID), FROM);
  private static final ParamSchema PRESENCE = ParamSchema.of(TopicNames.topicParam());
  private static final ParamSchema CANCEL = ParamSchema.of(ParamSchema.string("op_id").required().maxLength(64));
  /** Who cancels over the bus: a trusted cluster member, so the operation's owner is not checked (as over HTTP). */
  private static final Principal SERVICE = new Principal("service", null, Set.of(Principal.ROLE_SERVICE),
      List.of(), List.of(), 0, false);

  private final NodeContext node;
  /** The WebSocket side's parser settings: nesting depth bounded, duplicate keys refused. */
  private final ObjectMapper strict;
  private final int maxBytes;

  private EventBusApi(NodeContext node) {
    this.node = node;
    this.maxBytes = node.config().limits().maxMessageBytes();
    this.strict = Json.strictJson(node.config().limits().maxJsonDepth(), maxBytes);
    this.adminActions = new AdminActions(node);
  }

  public static Future<Void> register(NodeContext node) {
    EventBusApi api = new EventBusApi(node);
    var bus = node.vertx().eventBus();
    return Future.all(
        bus.consumer(Addresses.API_PUBLISH, m -> api.serve(m, PUBLISH, api::publish)).completion(),
        bus.consumer(Addresses.API_SEND, m -> api.serve(m, SEND, api::send)).completion(),
        bus.consumer(Addresses.API_PRESENCE, m -> api.serve(m, PRESENCE, api::presence)).completion(),
        bus.consumer(Addresses.API_CANCEL, m -> api.serve(m, CANCEL, api::cancel)).completion(),
        bus.<Object>consumer(Addresses.API_ADMIN, api::admin).completion()).mapEmpty();
  }

  private final AdminActions adminActions;

  /**
   * The admin API for JVM services: {@code {"action","params",["by"]}} → the HTTP admin API's answer
   * for that action. {@code by} names the service in the action log (default "service"). A bad param
   * fails 400 with the message {@code INVALID_PARAMS:<field>}.
   */
  private void admin(Message<Object> m) {
    Future<JsonObject> answer;
    try {
      if (!(m.body() instanceof JsonObject request)) {
        throw SwitchboardException.invalidParams("", "the request must be a JsonObject");
      }
      Buffer encoded = request.toBuffer();
      if (encoded.length() > maxBytes) {
        throw new SwitchboardException(ErrorCode.MESSAGE_TOO_LARGE, "request exceeds " + maxBytes + " bytes");
      }
      JsonNode tree = strict.readTree(encoded.getBytes());
      JsonNode params = tree.get("params");
      JsonNode by = tree.get("by");
      if (params != null && !params.isObject()) {
        throw SwitchboardException.invalidParams("params", "params must be an object");
      }
      answer = adminActions.run(tree.path("action").asText(""),
          params == null ? Json.MAPPER.createObjectNode() : (ObjectNode) params,
          by != null && by.isTextual() && !by.textValue().isEmpty() ? by.textValue() : "service");
    } catch (SwitchboardException e) {
      answer = Future.failedFuture(e);
    } catch (java.io.IOException | RuntimeException e) {
      answer = Future.failedFuture(SwitchboardException.invalidParams("", "the request is not acceptable JSON"));
    }
    answer.onComplete(ar -> {
      if (ar.succeeded()) {
        m.reply(ar.result());
      } else if (ar.cause() instanceof SwitchboardException e) {
        String field = e.details() != null && e.details().has("field") ? ":" + e.details().get("field").asText() : "";
        m.fail(AdminRoutes.status(e.code()), e.code().name() + (e.code() == ErrorCode.INVALID_PARAMS ? field : ""));
      } else {
        LOG.error("admin request on the event bus failed", ar.cause());
        m.fail(500, ErrorCode.INTERNAL.name());
      }
    });
  }

  /** Checks the request, runs the operation, and answers: a reply, or a failure with a stable code. */
  private void serve(Message<Object> m, ParamSchema schema, Function<Params, Future<JsonObject>> op) {
    Future<JsonObject> answer;
    try {
      answer = op.apply(read(m.body(), schema));
    } catch (RuntimeException e) {
      answer = Future.failedFuture(e);
    }
    answer.onComplete(ar -> {
      if (ar.succeeded()) {
        m.reply(ar.result());
      } else if (ar.cause() instanceof SwitchboardException e) {
        m.fail(status(e.code()), e.code().name());
      } else {
        LOG.error("event-bus API request on " + m.address() + " failed", ar.cause());
        m.fail(500, ErrorCode.INTERNAL.name());
      }
    });
  }

  /**
   * The body as a JSON tree, through the encoded form: this bounds its size and depth like a
   * WebSocket message, and turns the JsonObject/JsonArray values of a locally delivered body (a
   * copy, not a decoded one) into plain JSON rather than Java beans.
   */
  private Params read(Object body, ParamSchema schema) {
    if (!(body instanceof JsonObject request)) {
      throw SwitchboardException.invalidParams("", "the request must be a JsonObject");
    }
    Buffer encoded = request.toBuffer();
    if (encoded.length() > maxBytes) {
      throw new SwitchboardException(ErrorCode.MESSAGE_TOO_LARGE, "request exceeds " + maxBytes + " bytes");
    }
    JsonNode tree;
    try {
      tree = strict.readTree(encoded.getBytes());
    } catch (java.io.IOException e) {
      throw SwitchboardException.invalidParams("", "the request is not acceptable JSON");
    }
    return schema.validate((ObjectNode) tree);
  }

  private Future<JsonObject> publish(Params p) {
    if (TopicNames.reserved(p.string("topic"))) {
      return Future.failedFuture(new SwitchboardException(ErrorCode.FORBIDDEN, "reserved topic"));
    }
    return node.topics().publish(p.string("topic"), p.node("data"), from(p))
        .recover(EventBusApi::unavailable)
        .map(pos -> new JsonObject().put("offset", pos.offset()).put("epoch", pos.epoch()));
  }

  private Future<JsonObject> send(Params p) {
    return node.directs().send(p.string("user"), p.string("device_id"), null, p.node("data"), from(p), null)
        .recover(err -> err instanceof DirectSender.NoSuchDevice ? Future.succeededFuture(0) : unavailable(err))
        .map(n -> new JsonObject().put("delivered", n));
  }

  private Future<JsonObject> presence(Params p) {
    if (TopicNames.reserved(p.string("topic"))) {
      return Future.failedFuture(new SwitchboardException(ErrorCode.FORBIDDEN, "reserved topic"));
    }
    if (!node.topics().namespaces().of(p.string("topic")).presence()) { // as topic.presence
      return Future.failedFuture(SwitchboardException.invalidParams("topic", "presence is not enabled for this topic's namespace"));
    }
    return node.directory().members(p.string("topic"))
        .recover(EventBusApi::unavailable)
        .map(members -> new JsonObject(TopicPresence.result(members).toString()));
  }

  private Future<JsonObject> cancel(Params p) {
    return node.ops().cancel(Vertx.currentContext(), p.string("op_id"), SERVICE, false)
        .recover(err -> err instanceof SwitchboardException e && e.code() == ErrorCode.UNKNOWN_OPERATION
            ? Future.failedFuture(err) : unavailable(err))
        .map(r -> new JsonObject().put("op_id", r.getString("op_id")).put("state", r.getString("state")));
  }

  private static String from(Params p) {
    return p.has("from") ? p.string("from") : "service";
  }

  private static <T> Future<T> unavailable(Throwable err) {
    return Future.failedFuture(new SwitchboardException(ErrorCode.UNAVAILABLE, "temporarily unavailable, retry"));
  }

  /** The {@code ReplyException} failure code: the HTTP API's status for the same error. */
  private static int status(ErrorCode code) {
    return switch (code) {
      case INVALID_PARAMS -> 400;
      case FORBIDDEN -> 403;
      case NOT_FOUND, UNKNOWN_OPERATION -> 404;
      case MESSAGE_TOO_LARGE -> 413;
      case UNAVAILABLE -> 503;
      default -> 500;
    };
  }
}
