package dev.switchboard.operations;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.auth.Principal;
import dev.switchboard.cluster.Addresses;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.SwitchboardException;
import dev.switchboard.routing.Client;
import dev.switchboard.routing.ReplySink;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;

import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the operation methods do on a client's node: start (or join, when deduplicated), attach,
 * cancel and look up operations anywhere in the cluster.
 */
public final class Operations {
  static final long CONTROL_TIMEOUT_MS = 10_000;

  private final Vertx vertx;
  private final OpHub hub;

  public Operations(Vertx vertx, OpHub hub) {
    this.vertx = vertx;
    this.hub = hub;
  }

  public OpHub hub() {
    return hub;
  }

  /** Starts an operation for a request, or attaches it to an identical one in flight. */
  public void start(Context ctx, OperationKind kind, ObjectNode params, Client client, ReplySink sink) {
    String user = client.principal().userId();
    JsonObject p = new JsonObject(params.toString());
    String opId = "op_" + SwitchboardConfig.randomId(16);
    String key = switch (kind.dedupe()) {
      case NONE -> null;
      case USER -> "u:" + user + "|" + kind.name() + "|" + canonical(params);
      case GLOBAL -> "g|" + kind.name() + "|" + canonical(params);
    };
    Future<String> existing = key == null ? Future.succeededFuture() : hub.registry().claim(key, opId);
    existing.onComplete(ar -> {
      if (ar.failed()) {
        sink.error(new SwitchboardException(ErrorCode.UNAVAILABLE, "operations are unavailable, retry"));
      } else if (ar.result() != null) {
        attach(ctx, ar.result(), 0, client, sink, true, true);
      } else {
        launch(kind, opId, user, p, key, client, sink);
      }
    });
  }

  private void launch(OperationKind kind, String opId, String user, JsonObject params, String key, Client client,
                      ReplySink sink) {
    String att = "a_" + SwitchboardConfig.randomId(12);
    OpClients.Attachment a = hub.clients().add(att, opId, client, sink, false);
    JsonObject work = new JsonObject().put("op_id", opId).put("user", user).put("method", kind.name())
        .put("params", params).put("dedupe", key)
        .put("attach", new JsonObject().put("node", hub.nodeId()).put("member", hub.memberId()).put("att", att));
    vertx.eventBus().<JsonObject>request(Addresses.work(kind.name()), work,
        new DeliveryOptions().setSendTimeout(CONTROL_TIMEOUT_MS)).onComplete(ar -> {
          if (ar.succeeded()) {
            a.workerNode = ar.result().body().getString("node");
            a.workerMember = ar.result().body().getString("member");
            client.subscriptionsChanged(); // the session now follows this operation
            return;
          }
          hub.clients().remove(att);
          hub.registry().release(key, opId);
          sink.error(startFailure(ar.cause()));
        });
  }

  private static SwitchboardException startFailure(Throwable err) {
    if (err instanceof ReplyException r) {
      if (r.failureType() == ReplyFailure.RECIPIENT_FAILURE && r.failureCode() == 429) {
        return SwitchboardException.rateLimited("no operation capacity, retry later", 1000);
      }
      if (r.failureType() == ReplyFailure.RECIPIENT_FAILURE && r.failureCode() == 400) {
        return new SwitchboardException(ErrorCode.INVALID_PARAMS, r.getMessage());
      }
      if (r.failureType() == ReplyFailure.NO_HANDLERS) {
        return new SwitchboardException(ErrorCode.UNAVAILABLE, "no worker runs this operation now");
      }
    }
    return new SwitchboardException(ErrorCode.UNAVAILABLE, "the operation could not be started, retry");
  }

  /**
   * Follows an operation: frames after {@code afterSeq}, then live ones, then its terminal (which
   * is also this request's terminal).
   */
  public void attach(Context ctx, String opId, long afterSeq, Client client, ReplySink sink, boolean deduplicated,
                     boolean sameUserOnly) {
    attach(ctx, opId, afterSeq, client, sink, deduplicated, sameUserOnly, deduplicated ? 40 : 0);
  }

  /** {@code retries}: a deduplicated request may arrive before the first one's worker registered it. */
  private void attach(Context ctx, String opId, long afterSeq, Client client, ReplySink sink, boolean deduplicated,
                      boolean sameUserOnly, int retries) {
    hub.registry().get(ctx, opId).onComplete(ar -> {
      JsonObject op = ar.succeeded() ? ar.result() : null;
      if (ar.succeeded() && (op == null || op.getString("node") == null) && retries > 0) {
        vertx.setTimer(50, t -> attach(ctx, opId, afterSeq, client, sink, deduplicated, sameUserOnly, retries - 1));
        return;
      }
      if (ar.failed()) {
        sink.error(new SwitchboardException(ErrorCode.UNAVAILABLE, "operations are unavailable, retry"));
        return;
      }
      SwitchboardException denied = check(op, client.principal(), sameUserOnly);
      if (denied != null) {
        sink.error(denied);
        return;
      }
      String att = "a_" + SwitchboardConfig.randomId(12);
      OpClients.Attachment a = hub.clients().add(att, opId, client, sink, deduplicated);
      a.workerNode = op.getString("node");
      a.workerMember = op.getString("member");
      a.lastSeq = afterSeq;
      a.ackedSeq = afterSeq; // re-attached after what the client had acknowledged
      a.markedSeq = afterSeq;
      JsonObject req = new JsonObject().put("op", "attach").put("op_id", opId).put("node", hub.nodeId())
          .put("member", hub.memberId()).put("att", att).put("after_seq", afterSeq);
      vertx.eventBus().<JsonObject>request(Addresses.opsNode(op.getString("node")), req,
          new DeliveryOptions().setSendTimeout(CONTROL_TIMEOUT_MS)).onSuccess(r -> client.subscriptionsChanged())
          .onFailure(err -> {
            hub.clients().remove(att);
            if (err instanceof ReplyException r && r.failureCode() == 410) {
              sink.error(new SwitchboardException(ErrorCode.NOT_FOUND, "frames after that seq are no longer kept"));
            } else if (err instanceof ReplyException r && r.failureType() == ReplyFailure.NO_HANDLERS) {
              sink.error(new SwitchboardException(ErrorCode.NODE_LOST, "the node running the operation left the cluster"));
            } else {
              sink.error(new SwitchboardException(ErrorCode.UNKNOWN_OPERATION, "unknown operation"));
            }
          });
    });
  }

  /** Cancels from any node: {@code {op_id, state}}. {@code sameUserOnly} is false for services. */
  public Future<JsonObject> cancel(Context ctx, String opId, Principal who, boolean sameUserOnly) {
    return hub.registry().get(ctx, opId).compose(op -> {
      SwitchboardException denied = check(op, who, sameUserOnly);
      if (denied != null) {
        return Future.failedFuture(denied);
      }
      if (OpRegistry.isFinal(op.getString("state"))) {
        return Future.succeededFuture(new JsonObject().put("op_id", opId).put("state", op.getString("state")));
      }
      return vertx.eventBus().<JsonObject>request(Addresses.opsNode(op.getString("node")),
              new JsonObject().put("op", "cancel").put("op_id", opId),
              new DeliveryOptions().setSendTimeout(CONTROL_TIMEOUT_MS))
          .map(m -> new JsonObject().put("op_id", opId).put("state", m.body().getString("state")))
          .recover(err -> Future.failedFuture(
              // the worker does not know it (finished and gone): unknown; no answer (its node is
              // gone or busy, the registry not yet updated): retryable, not "unknown"
              err instanceof io.vertx.core.eventbus.ReplyException r && r.failureType() == io.vertx.core.eventbus.ReplyFailure.RECIPIENT_FAILURE
                  && r.failureCode() == 404
                  ? new SwitchboardException(ErrorCode.UNKNOWN_OPERATION, "unknown operation")
                  : new SwitchboardException(ErrorCode.UNAVAILABLE, "the operation's node did not answer, retry")));
    });
  }

  public Future<JsonObject> status(Context ctx, String opId, Principal who) {
    return hub.registry().get(ctx, opId).compose(op -> {
      SwitchboardException denied = check(op, who, true);
      return denied != null ? Future.failedFuture(denied) : Future.succeededFuture(op);
    });
  }

  private static SwitchboardException check(JsonObject op, Principal who, boolean sameUserOnly) {
    if (op == null || op.getString("node") == null) {
      return new SwitchboardException(ErrorCode.UNKNOWN_OPERATION, "unknown operation");
    }
    if (sameUserOnly && !who.isAdmin() && !who.userId().equals(op.getString("user"))) {
      return new SwitchboardException(ErrorCode.FORBIDDEN, "not your operation");
    }
    return null;
  }

  /** Params with object keys sorted at every level: identical requests give identical keys. */
  static String canonical(JsonNode n) {
    if (n.isObject()) {
      TreeMap<String, String> sorted = new TreeMap<>();
      Iterator<Map.Entry<String, JsonNode>> it = n.fields();
      while (it.hasNext()) {
        Map.Entry<String, JsonNode> e = it.next();
        sorted.put(e.getKey(), canonical(e.getValue()));
      }
      StringBuilder b = new StringBuilder("{");
      sorted.forEach((k, v) -> b.append(com.fasterxml.jackson.databind.node.TextNode.valueOf(k)).append(':').append(v).append(','));
      return b.append('}').toString();
    }
    if (n.isArray()) {
      StringBuilder b = new StringBuilder("[");
      n.forEach(x -> b.append(canonical(x)).append(','));
      return b.append(']').toString();
    }
    return n.toString();
  }
}
