package dev.switchboard.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.NodeContext;
import dev.switchboard.auth.Principal;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.Json;
import dev.switchboard.protocol.SwitchboardException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.util.Map;

/**
 * The admin API over HTTP, under {@code /api/v1/admin/} (docs/admin.md). The token check and the
 * role gate (role {@code admin}, through Policy) run before these routes (ServiceApi#authenticate);
 * here the path, query and body become one params object for {@link AdminActions}, which checks
 * them with the action's schema like any other door. Errors: {@code {"code","message",["field"]}}.
 */
final class AdminRoutes {
  private final AdminActions actions;
  private final ObjectMapper strict;
  private final int maxDepth;

  private AdminRoutes(NodeContext node) {
    this.actions = new AdminActions(node);
    this.maxDepth = node.config().limits().maxJsonDepth();
    this.strict = Json.strictJson(maxDepth, node.config().limits().maxMessageBytes());
  }

  /** Mounted after ServiceApi's authentication handler (which covers {@code /api/v1/*}). */
  static void mount(Router router, NodeContext node) {
    AdminRoutes r = new AdminRoutes(node);
    String at = ServiceApi.ADMIN_PREFIX;
    router.get(at + "cluster").handler(ctx -> r.run(ctx, "cluster", Map.of(), 200));
    router.get(at + "topics").handler(ctx -> r.run(ctx, "topics", Map.of(), 200));
    router.get(at + "topics/:topic/subscribers").handler(ctx -> r.run(ctx, "topic_subscribers",
        Map.of("topic", ctx.pathParam("topic")), 200));
    router.get(at + "users/:user/connections").handler(ctx -> r.run(ctx, "user_connections",
        Map.of("user", ctx.pathParam("user")), 200));
    router.get(at + "ops").handler(ctx -> r.run(ctx, "ops", Map.of(), 200));
    router.post(at + "ops/:op/cancel").handler(ctx -> r.run(ctx, "cancel_op", Map.of("op_id", ctx.pathParam("op")), 200));
    router.post(at + "connections/:conn/disconnect").handler(ctx -> r.run(ctx, "disconnect",
        Map.of("conn", ctx.pathParam("conn")), 200));
    router.post(at + "users/:user/disconnect").handler(ctx -> r.run(ctx, "disconnect",
        Map.of("user", ctx.pathParam("user")), 200));
    router.post(at + "nodes/:node/drain").handler(ctx -> r.run(ctx, "drain", Map.of("node", ctx.pathParam("node")), 202));
  }

  /** Params: the query string (GET) or the JSON body (POST), then the path's ids over them. */
  private void run(RoutingContext ctx, String action, Map<String, String> path, int okStatus) {
    ObjectNode params;
    try {
      params = "GET".equals(ctx.request().method().name()) ? query(ctx) : body(ctx);
    } catch (SwitchboardException e) {
      fail(ctx, e);
      return;
    }
    path.forEach(params::put);
    Principal p = ctx.get("principal");
    actions.run(action, params, p.userId()).onComplete(ar -> {
      if (ar.succeeded()) {
        ctx.response().setStatusCode(okStatus).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
            .end(ar.result().encode());
      } else if (ar.cause() instanceof SwitchboardException e) {
        fail(ctx, e);
      } else {
        fail(ctx, new SwitchboardException(ErrorCode.UNAVAILABLE, "temporarily unavailable, retry"));
      }
    });
  }

  /** The query string as params: integer params parsed (a non-number stays a string, and the schema names it). */
  private static ObjectNode query(RoutingContext ctx) {
    ObjectNode out = Json.MAPPER.createObjectNode();
    for (Map.Entry<String, String> e : ctx.queryParams()) {
      if (out.has(e.getKey())) {
        throw SwitchboardException.invalidParams(e.getKey(), e.getKey() + " is given twice");
      }
      String v = e.getValue();
      if (AdminActions.INTEGERS.contains(e.getKey()) && v.matches("-?[0-9]{1,18}")) {
        out.put(e.getKey(), Long.parseLong(v));
      } else {
        out.put(e.getKey(), v);
      }
    }
    return out;
  }

  /** A JSON object body (empty: no params), read as strictly as a WebSocket request. */
  private ObjectNode body(RoutingContext ctx) {
    if (ctx.body().buffer() == null || ctx.body().buffer().length() == 0) {
      return Json.MAPPER.createObjectNode();
    }
    JsonNode b;
    try {
      b = strict.readTree(ctx.body().buffer().getBytes());
    } catch (Exception e) {
      b = null;
    }
    if (b == null || !b.isObject()) {
      throw SwitchboardException.invalidParams("body", "body must be a JSON object, without duplicate keys, nested at most "
          + maxDepth + " deep");
    }
    return (ObjectNode) b;
  }

  static void fail(RoutingContext ctx, SwitchboardException e) {
    if (ctx.response().ended()) {
      return;
    }
    JsonObject body = new JsonObject().put("code", e.code().name()).put("message", e.getMessage());
    if (e.details() != null && e.details().has("field")) {
      body.put("field", e.details().get("field").asText());
    }
    ctx.response().setStatusCode(status(e.code())).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
        .end(body.encode());
  }

  /** The HTTP status of an error code (the event-bus door uses the same as its failure codes). */
  static int status(ErrorCode code) {
    return switch (code) {
      case INVALID_PARAMS, INVALID_REQUEST -> 400;
      case UNAUTHORIZED -> 401;
      case FORBIDDEN -> 403;
      case NOT_FOUND, UNKNOWN_OPERATION -> 404;
      case MESSAGE_TOO_LARGE -> 413;
      case RATE_LIMITED -> 429;
      case UNAVAILABLE, TIMEOUT, NODE_LOST -> 503;
      default -> 500;
    };
  }
}
