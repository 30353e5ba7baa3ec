package dev.switchboard.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.NodeContext;
import dev.switchboard.auth.AuthFailure;
import dev.switchboard.auth.Principal;
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
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * The HTTP API for services (PROTOCOL.md section 8), under {@code /api/v1}. Every call needs a
 * token with role {@code service} (or {@code admin}): 401 without a valid token, 403 without the
 * role; bad input is 400 {@code INVALID_PARAMS}; bodies are JSON {@code {"code","message"}} on error.
 */
public final class ServiceApi {
  private static final ParamSchema PUBLISH = ParamSchema.of(TopicNames.topicParam(), ParamSchema.any("data").required());
  private static final ParamSchema SEND = ParamSchema.of(ParamSchema.any("data").required(),
      ParamSchema.string("device_id").pattern(Ids.DEVICE_ID));

  private final NodeContext node;
  private final int maxDepth;
  private final ObjectMapper strict;

  private ServiceApi(NodeContext node) {
    this.node = node;
    this.maxDepth = node.config().limits().maxJsonDepth();
    this.strict = Json.strictJson(maxDepth, node.config().limits().maxMessageBytes());
  }

  /** Where the admin API lives (see AdminRoutes): the same token check, role admin. */
  static final String ADMIN_PREFIX = "/api/v1/admin/";

  public static void mount(Router router, NodeContext node) {
    ServiceApi api = new ServiceApi(node);
    router.route("/api/v1/*").handler(api::authenticate);
    router.post("/api/v1/*").handler(BodyHandler.create(false).setBodyLimit(node.config().limits().maxMessageBytes()));
    router.post("/api/v1/publish").handler(api::publish);
    router.post("/api/v1/users/:user/send").handler(api::send);
    router.get("/api/v1/topics/:topic/presence").handler(api::presence);
    router.get("/api/v1/topics/:topic/history").handler(api::history);
    router.get("/api/v1/cluster").handler(api::cluster);
    router.post("/api/v1/ops/:op/cancel").handler(api::cancel);
    AdminRoutes.mount(router, node);
  }

  private void authenticate(RoutingContext ctx) {
    String header = ctx.request().getHeader(HttpHeaders.AUTHORIZATION);
    String token = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim() : null;
    if (token == null) {
      fail(ctx, 401, ErrorCode.UNAUTHORIZED, "a service token is required");
      return;
    }
    ctx.request().pause();
    node.verifier().verify(token).onComplete(ar -> {
      ctx.request().resume();
      if (ar.failed()) {
        node.metrics().authFailure(ar.cause() instanceof AuthFailure ? ((AuthFailure) ar.cause()).reason() : "error");
        fail(ctx, 401, ErrorCode.UNAUTHORIZED, ar.cause() instanceof AuthFailure ? ar.cause().getMessage() : "invalid token");
        return;
      }
      Principal p = ar.result();
      // the admin API (AdminRoutes) under the same prefix needs role admin; the rest role service
      String role = ctx.normalizedPath().startsWith(ADMIN_PREFIX) ? Principal.ROLE_ADMIN : Principal.ROLE_SERVICE;
      dev.switchboard.auth.Rejection denied = node.policy().admitApi(p, role);
      if (denied != null) {
        fail(ctx, denied.status(), denied.code(), denied.message());
        return;
      }
      ctx.put("principal", p);
      ctx.next();
    });
  }

  /**
   * The body checked as a WebSocket request's params are: parsed with the same strict settings
   * (duplicate keys refused, nesting within max_json_depth), then against the schema (types, null
   * data, unknown fields: a misspelt {@code device_id} must not widen a send). Null once a 400 is sent.
   */
  private Params body(RoutingContext ctx, ParamSchema schema) {
    JsonNode b;
    try {
      b = strict.readTree(ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes());
    } catch (Exception e) {
      b = null;
    }
    if (b == null || !b.isObject()) {
      fail(ctx, 400, ErrorCode.INVALID_PARAMS,
          "body must be a JSON object, without duplicate keys, nested at most " + maxDepth + " deep");
      return null;
    }
    try {
      return schema.validate((ObjectNode) b);
    } catch (SwitchboardException e) {
      fail(ctx, 400, ErrorCode.INVALID_PARAMS, e.getMessage());
      return null;
    }
  }

  private void publish(RoutingContext ctx) {
    Params b = body(ctx, PUBLISH);
    if (b == null) {
      return;
    }
    Principal p = ctx.get("principal");
    if (TopicNames.reserved(b.string("topic"))) {
      fail(ctx, 403, ErrorCode.FORBIDDEN, "reserved topic");
      return;
    }
    reply(ctx, node.topics().publish(b.string("topic"), b.node("data"), p.userId())
        .map(pos -> Json.MAPPER.createObjectNode().put("offset", pos.offset()).put("epoch", pos.epoch())));
  }

  private void send(RoutingContext ctx) {
    String user = ctx.pathParam("user");
    if (!Ids.isUserId(user)) {
      fail(ctx, 400, ErrorCode.INVALID_PARAMS, "user_id must be 1-" + Ids.MAX_USER_CHARS + " characters");
      return;
    }
    Params b = body(ctx, SEND);
    if (b == null) {
      return;
    }
    Principal p = ctx.get("principal");
    node.directs().send(user, b.string("device_id"), null, b.node("data"), p.userId(), null).onComplete(ar -> {
      if (ar.succeeded()) {
        ok(ctx, Json.MAPPER.createObjectNode().put("delivered", ar.result()));
      } else if (ar.cause() instanceof DirectSender.NoSuchDevice) {
        ok(ctx, Json.MAPPER.createObjectNode().put("delivered", 0));
      } else {
        fail(ctx, 503, ErrorCode.UNAVAILABLE, "send failed, retry");
      }
    });
  }

  private String topic(RoutingContext ctx) {
    String topic = ctx.pathParam("topic");
    if (topic == null || !TopicNames.NAME.matcher(topic).matches()) {
      fail(ctx, 400, ErrorCode.INVALID_PARAMS, "topic is invalid");
      return null;
    }
    if (TopicNames.reserved(topic)) {
      fail(ctx, 403, ErrorCode.FORBIDDEN, "reserved topic");
      return null;
    }
    return topic;
  }

  private void presence(RoutingContext ctx) {
    String topic = topic(ctx);
    if (topic != null && !node.topics().namespaces().of(topic).presence()) {
      fail(ctx, 400, ErrorCode.INVALID_PARAMS, "presence is not enabled for this topic's namespace"); // as topic.presence
    } else if (topic != null) {
      reply(ctx, node.directory().members(topic).map(TopicPresence::result));
    }
  }

  /** {@code ?limit=1..1000&since=<offset>&epoch=<epoch>}: the events after {@code since}, oldest first. */
  private void history(RoutingContext ctx) {
    String topic = topic(ctx);
    if (topic == null) {
      return;
    }
    long limit;
    long since;
    try {
      limit = Long.parseLong(ctx.request().getParam("limit", "100"));
      since = Long.parseLong(ctx.request().getParam("since", "-1"));
    } catch (NumberFormatException e) {
      fail(ctx, 400, ErrorCode.INVALID_PARAMS, "limit and since must be whole numbers");
      return;
    }
    if (limit < 0 || limit > 1000 || since < -1) {
      fail(ctx, 400, ErrorCode.INVALID_PARAMS, "limit must be 0..1000 and since >= 0");
      return;
    }
    String epoch = ctx.request().getParam("epoch");
    node.topics().history(topic, since, (int) limit).onComplete(ar -> {
      if (ar.failed()) {
        fail(ctx, 503, ErrorCode.UNAVAILABLE, "history unavailable, retry");
        return;
      }
      var h = ar.result();
      if ((epoch != null && !epoch.equals(h.epoch())) || (since >= 0 && since + 1 < h.oldest() && since < h.offset())) {
        fail(ctx, 404, ErrorCode.NOT_FOUND, "position is not in the history kept");
        return;
      }
      ObjectNode r = Json.MAPPER.createObjectNode();
      ArrayNode events = r.putArray("events");
      h.events().forEach(e -> events.add(e.toJson()));
      r.put("offset", h.offset()).put("epoch", h.epoch());
      ok(ctx, r);
    });
  }

  /** {@code POST /api/v1/ops/{op_id}/cancel} → {op_id, state}; 404 UNKNOWN_OPERATION. */
  private void cancel(RoutingContext ctx) {
    Principal p = ctx.get("principal");
    node.ops().cancel(io.vertx.core.Vertx.currentContext(), ctx.pathParam("op"), p, false).onComplete(ar -> {
      if (ar.succeeded()) {
        ok(ctx, Json.MAPPER.createObjectNode().put("op_id", ar.result().getString("op_id"))
            .put("state", ar.result().getString("state")));
      } else if (ar.cause() instanceof dev.switchboard.protocol.SwitchboardException e
          && e.code() == ErrorCode.UNKNOWN_OPERATION) {
        fail(ctx, 404, ErrorCode.UNKNOWN_OPERATION, "unknown operation");
      } else {
        fail(ctx, 503, ErrorCode.UNAVAILABLE, "temporarily unavailable, retry");
      }
    });
  }

  /** How long {@code GET /api/v1/cluster} waits for the node listing (a frozen member holds it up). */
  static final long CLUSTER_WAIT_MS = 5_000;

  private void cluster(RoutingContext ctx) {
    reply(ctx, node.directory().nodes().timeout(CLUSTER_WAIT_MS, java.util.concurrent.TimeUnit.MILLISECONDS).map(nodes -> {
      ObjectNode r = Json.MAPPER.createObjectNode();
      ArrayNode list = r.putArray("nodes");
      int total = 0;
      for (Object o : nodes) {
        io.vertx.core.json.JsonObject n = (io.vertx.core.json.JsonObject) o;
        if (node.nodeId().equals(n.getString("node_id"))) {
          n.put("connections", node.local().size()); // our own count is exact
        }
        total += n.getInteger("connections", 0);
        try {
          list.add(Json.MAPPER.readTree(n.encode()));
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }
      r.put("connections", total);
      return r;
    }));
  }

  private void reply(RoutingContext ctx, Future<? extends JsonNode> f) {
    f.onComplete(ar -> {
      if (ar.succeeded()) {
        ok(ctx, ar.result());
      } else {
        fail(ctx, 503, ErrorCode.UNAVAILABLE, "temporarily unavailable, retry");
      }
    });
  }

  private static void ok(RoutingContext ctx, JsonNode body) {
    ctx.response().putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body.toString());
  }

  static void fail(RoutingContext ctx, int status, ErrorCode code, String message) {
    if (ctx.response().ended()) {
      return;
    }
    ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .end(Json.MAPPER.createObjectNode().put("code", code.name()).put("message", message).toString());
  }
}
