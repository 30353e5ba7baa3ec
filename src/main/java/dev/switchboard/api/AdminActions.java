package dev.switchboard.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.NodeContext;
import dev.switchboard.auth.Principal;
import dev.switchboard.protocol.CloseCode;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.Ids;
import dev.switchboard.protocol.SwitchboardException;
import dev.switchboard.routing.ParamSchema;
import dev.switchboard.routing.Params;
import dev.switchboard.topics.TopicNames;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The admin API's actions, whichever door they came by (HTTP: {@link AdminRoutes}; event bus:
 * {@link Addresses#API_ADMIN}): each with one param schema, checked here, and one answer shape
 * (docs/admin.md). Reads gather from every node ({@link AdminGather}); every action that changes
 * something is logged with the admin's {@code sub}. Failures are {@link SwitchboardException}s:
 * INVALID_PARAMS (400, naming the field), NOT_FOUND / UNKNOWN_OPERATION (404), UNAVAILABLE (503).
 */
final class AdminActions {
  private static final Logger LOG = LoggerFactory.getLogger(AdminActions.class);
  /** Most rows one page of topics, subscribers or operations holds. */
  static final int MAX_LIMIT = 500;
  static final int DEFAULT_LIMIT = 100;
  /** RFC 6455: a close frame's reason is at most 123 bytes of UTF-8. */
  static final int MAX_REASON_BYTES = 123;
  private static final Pattern STATE = Pattern.compile("queued|running|done|error|cancelled");
  private static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9_.-]{1,64}");

  private static final ParamSchema.Param LIMIT = ParamSchema.integer("limit").range(1, MAX_LIMIT);
  private static final ParamSchema.Param USER = ParamSchema.string("user").maxLength(Ids.MAX_USER_CHARS).pattern(Ids.NON_EMPTY);
  private static final ParamSchema.Param CODE = ParamSchema.integer("code").range(CloseCode.ADMIN_MIN, CloseCode.ADMIN_MAX);
  private static final ParamSchema.Param REASON = ParamSchema.string("reason").maxLength(MAX_REASON_BYTES);

  /** Every action's params; a param not listed is refused, naming it. */
  static final Map<String, ParamSchema> SCHEMAS = Map.of(
      "cluster", ParamSchema.NONE,
      "topics", ParamSchema.of(LIMIT, ParamSchema.string("cursor").maxLength(200).pattern(TopicNames.NAME),
          ParamSchema.string("name").maxLength(200)),
      "topic_subscribers", ParamSchema.of(TopicNames.topicParam(), LIMIT),
      "user_connections", ParamSchema.of(ParamSchema.string("user").required().maxLength(Ids.MAX_USER_CHARS)
          .pattern(Ids.NON_EMPTY)),
      "ops", ParamSchema.of(ParamSchema.string("state").pattern(STATE), USER,
          ParamSchema.string("method").maxLength(200), ParamSchema.string("node").pattern(NODE_ID), LIMIT),
      "cancel_op", ParamSchema.of(ParamSchema.string("op_id").required().maxLength(64).pattern(Ids.NON_EMPTY)),
      "disconnect", ParamSchema.of(ParamSchema.string("conn").maxLength(64).pattern(Ids.NON_EMPTY), USER, CODE, REASON),
      "drain", ParamSchema.of(ParamSchema.string("node").required().pattern(NODE_ID)));
  /** Params that are integers (HTTP query strings are parsed as such before the schema sees them). */
  static final Set<String> INTEGERS = Set.of("limit", "code");

  private final NodeContext node;
  private final AdminGather gather;
  private final AdminReads reads;

  AdminActions(NodeContext node) {
    this.node = node;
    this.gather = new AdminGather(node);
    this.reads = new AdminReads(node, gather);
  }

  /** Runs an action for admin {@code by}; the params are checked against the action's schema first. */
  Future<JsonObject> run(String action, ObjectNode given, String by) {
    ParamSchema schema = SCHEMAS.get(action);
    if (schema == null) {
      return Future.failedFuture(SwitchboardException.invalidParams("action", "unknown action"));
    }
    Params p;
    try {
      p = schema.validate(given);
    } catch (SwitchboardException e) {
      return Future.failedFuture(e);
    }
    return switch (action) {
      case "cluster" -> reads.cluster();
      case "topics" -> reads.topics(p.string("cursor"), p.string("name"), (int) p.integer("limit", DEFAULT_LIMIT));
      case "topic_subscribers" -> reads.subscribers(p.string("topic"), (int) p.integer("limit", DEFAULT_LIMIT));
      case "user_connections" -> reads.connections(p.string("user"));
      case "ops" -> reads.ops(p.string("state"), p.string("user"), p.string("method"), p.string("node"),
          (int) p.integer("limit", DEFAULT_LIMIT));
      case "cancel_op" -> cancel(p.string("op_id"), by);
      case "disconnect" -> disconnect(p, by);
      case "drain" -> drain(p.string("node"), by);
      default -> Future.failedFuture(SwitchboardException.invalidParams("action", "unknown action"));
    };
  }

  private Future<JsonObject> cancel(String opId, String by) {
    Principal admin = new Principal(by, null, Set.of(Principal.ROLE_ADMIN), List.of(), List.of(), 0, false);
    return node.ops().cancel(Vertx.currentContext(), opId, admin, false)
        .map(r -> new JsonObject().put("op_id", r.getString("op_id")).put("state", r.getString("state")))
        .andThen(ar -> logged("cancel_op", by, ar.succeeded() ? "done" : outcome(ar.cause()))
            .addKeyValue("op", opId).log("admin {}: cancel operation {}", by, opId));
  }

  private Future<JsonObject> disconnect(Params p, String by) {
    boolean one = p.has("conn");
    if (one == p.has("user")) {
      return Future.failedFuture(SwitchboardException.invalidParams("conn", "give either conn or user"));
    }
    String reason = p.has("reason") ? p.string("reason") : CloseCode.DISCONNECTED.reason();
    if (reason.getBytes(StandardCharsets.UTF_8).length > MAX_REASON_BYTES) {
      return Future.failedFuture(SwitchboardException.invalidParams("reason", "reason must be at most "
          + MAX_REASON_BYTES + " bytes of UTF-8"));
    }
    int code = (int) p.integer("code", CloseCode.DISCONNECTED.code());
    JsonObject q = new JsonObject().put("q", "disconnect").put("code", code).put("reason", reason);
    q.put(one ? "conn" : "user", one ? p.string("conn") : p.string("user"));
    return gather.all(q).compose(g -> {
      int n = 0;
      for (JsonObject a : g.answers()) {
        n += a.getInteger("disconnected", 0);
      }
      var e = logged("disconnect", by, n > 0 ? "done" : "not_found").addKeyValue("code", code)
          .addKeyValue("closed", n);
      e = one ? e.addKeyValue("conn", p.string("conn")) : e.addKeyValue("user", p.string("user"));
      e.log("admin {}: disconnect, {} connection(s) closed with {}", by, n, code);
      if (n == 0 && g.silent().isEmpty()) {
        return Future.failedFuture(new SwitchboardException(ErrorCode.NOT_FOUND,
            one ? "no such connection" : "the user has no live connection"));
      }
      return Future.succeededFuture(new JsonObject().put("disconnected", n).put("code", code)
          .put("not_answering", new JsonArray(g.silent())));
    });
  }

  private Future<JsonObject> drain(String target, String by) {
    return node.directory().nodes().compose(nodes -> {
      boolean known = node.nodeId().equals(target);
      for (Object o : nodes) {
        known |= target.equals(((JsonObject) o).getString("node_id"));
      }
      if (!known) {
        logged("drain", by, "not_found").addKeyValue("target", target).log("admin {}: drain unknown node {}", by, target);
        return Future.failedFuture(new SwitchboardException(ErrorCode.NOT_FOUND, "no such node"));
      }
      return gather.one(target, new JsonObject().put("q", "drain"))
          .recover(err -> Future.failedFuture(new SwitchboardException(ErrorCode.UNAVAILABLE, "the node did not answer, retry")))
          .andThen(ar -> logged("drain", by, ar.succeeded() ? "started" : "no_answer").addKeyValue("target", target)
              .log("admin {}: drain node {}", by, target))
          .map(r -> new JsonObject().put("node_id", target).put("draining", true));
    });
  }

  private static org.slf4j.spi.LoggingEventBuilder logged(String action, String by, String outcome) {
    return LOG.atInfo().addKeyValue("admin", by).addKeyValue("action", action).addKeyValue("outcome", outcome);
  }

  private static String outcome(Throwable err) {
    return err instanceof SwitchboardException e ? e.code().name().toLowerCase() : "error";
  }
}
