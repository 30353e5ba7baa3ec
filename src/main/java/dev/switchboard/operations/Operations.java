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
import java.util.List;
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
  private final OpAttach attacher;

  public Operations(Vertx vertx, OpHub hub) {
    this.vertx = vertx;
    this.hub = hub;
    this.attacher = new OpAttach(vertx, hub);
  }
  /** This node was cut off from the cluster's majority: the operations running here are abandoned (see OpWorker#abandon). */
  public void cutOff() {
    hub.worker().abandon();
  }


  public OpHub hub() {
    return hub;
  }

  /**
   * Starts an operation for a request, or attaches it to an identical one in flight; refused
   * (UNAVAILABLE, retryable) while this node's side does not serve (see {@link OpHub#serving}), when
   * the request comes and again once the session holds the operation (that write may have waited for
   * a cut-off partition owner).
   */
  public void start(Context ctx, OperationKind kind, ObjectNode params, Client client, ReplySink sink) {
    start(ctx, kind, params, client, sink, 0);
  }

  /**
   * As {@link #start(Context, OperationKind, ObjectNode, Client, ReplySink)}, within the user's cap of
   * {@code maxPerUser} live operations cluster-wide (0: none), which the worker that takes the
   * operation enforces (see {@link OpSlots}); a request that joins an identical operation in flight
   * (dedupe) starts nothing and is not refused by it.
   */
  public void start(Context ctx, OperationKind kind, ObjectNode params, Client client, ReplySink sink, int maxPerUser) {
    if (!hub.serving()) {
      sink.error(notServing());
      return;
    }
    String user = client.principal().userId();
    JsonObject p = new JsonObject(params.toString());
    String opId = "op_" + SwitchboardConfig.randomId(16);
    String key = switch (kind.dedupe()) {
      case NONE -> null;
      case USER -> "u:" + user + "|" + kind.name() + "|" + digest(canonical(params));
      case GLOBAL -> "g|" + kind.name() + "|" + digest(canonical(params));
    };
    Future<String> existing = key == null ? Future.succeededFuture() : hub.registry().claim(key, opId);
    existing.onComplete(ar -> {
      if (ar.failed()) {
        sink.error(new SwitchboardException(ErrorCode.UNAVAILABLE, "operations are unavailable, retry"));
      } else if (ar.result() != null) {
        attacher.attach(ctx, ar.result(), 0, client, sink, true, true);
      } else {
        launch(kind, opId, user, p, key, client, sink, maxPerUser);
      }
    });
  }

  private void launch(OperationKind kind, String opId, String user, JsonObject params, String key, Client client,
                      ReplySink sink, int maxPerUser) {
    String att = "a_" + SwitchboardConfig.randomId(12);
    Attachment a = hub.clients().add(att, opId, client, sink, false);
    a.startedMethod = kind.name();
    a.startedDedupe = key;
    // The session holds the operation before it starts, so before its client can see the op_id: a
    // client whose connection goes at any point after gets it back (or its start failure) on resume.
    client.sessionSaved().onComplete(saved -> {
      if (!hub.serving()) {
        hub.registry().release(key, opId);
        hub.clients().fail(a, notServing(), false);
        return;
      }
      JsonObject work = new JsonObject().put("op_id", opId).put("user", user).put("method", kind.name())
          .put("params", params).put("dedupe", key);
      if (maxPerUser > 0) {
        work.put("max_per_user", maxPerUser);
      }
      if (hub.clients().isLive(a)) {
        work.put("attach", new JsonObject().put("node", hub.nodeId()).put("member", hub.memberId()).put("att", att));
      } // else its connection closed meanwhile: it runs unattached (an orphan unless the session resumes)
      sendWork(kind, work, a, key, opId, client, DRAINING_RETRIES);
    });
  }

  private static SwitchboardException notServing() {
    return new SwitchboardException(ErrorCode.UNAVAILABLE, "cut off from the cluster's majority, retry");
  }

  /** A worker that is draining refuses new work (503): it goes to another one, a few times at most. */
  static final int DRAINING_RETRIES = 3;

  private void sendWork(OperationKind kind, JsonObject work, Attachment a, String key, String opId,
                        Client client, int retries) {
    vertx.eventBus().<JsonObject>request(Addresses.work(kind.name()), work,
        new DeliveryOptions().setSendTimeout(CONTROL_TIMEOUT_MS)).onComplete(ar -> {
          if (ar.failed() && retries > 0 && ar.cause() instanceof ReplyException r
              && r.failureType() == ReplyFailure.RECIPIENT_FAILURE && r.failureCode() == 503) {
            sendWork(kind, work, a, key, opId, client, retries - 1);
            return;
          }
          if (ar.failed()) {
            hub.registry().release(key, opId);
            hub.clients().fail(a, startFailure(ar.cause()), false);
            return;
          }
          a.workerNode = ar.result().body().getString("node");
          a.workerMember = ar.result().body().getString("member");
          if (!hub.isMember(a.workerMember)) {
            hub.clients().memberLost(a.workerMember); // it left before this node knew where the operation ran
          } else if (hub.clients().isLive(a)) {
            client.subscriptionsChanged(); // the session records where it runs
          } else if (work.containsKey("attach")) {
            hub.clients().detach(a); // its connection closed while it started: the worker may orphan it
          }
        });
  }

  private static SwitchboardException startFailure(Throwable err) {
    if (err instanceof ReplyException r) {
      if (r.failureType() == ReplyFailure.RECIPIENT_FAILURE && r.failureCode() == OpWorker.USER_CAP) {
        return SwitchboardException.rateLimited("too many operations for this user", 1000);
      }
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
   * is also this request's terminal). See {@link OpAttach}.
   */
  public void attach(Context ctx, String opId, long afterSeq, Client client, ReplySink sink, boolean deduplicated,
                     boolean sameUserOnly) {
    attacher.attach(ctx, opId, afterSeq, client, sink, deduplicated, sameUserOnly);
  }

  /** Re-attaches an operation of a resumed session from its stored entry (see {@link OpAttach#resume}). */
  public void resume(Context ctx, String opId, JsonObject stored, Client client, ReplySink sink) {
    attacher.resume(ctx, opId, stored, client, sink);
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

  /**
   * {@code op.status}: the registry says who may see it and where it runs; a running operation's
   * state, stage and seq come from its worker's node as they are now (the registry's copy, at most
   * {@link OpRecords#EVERY_MS} behind, when that node does not answer in time).
   */
  public Future<JsonObject> status(Context ctx, String opId, Principal who) {
    return hub.registry().get(ctx, opId).compose(op -> {
      SwitchboardException denied = check(op, who, true);
      return denied != null ? Future.failedFuture(denied) : withLiveFigures(List.of(op)).map(ops -> ops.get(0));
    });
  }

  /** {@code op.list}: the user's queued and running operations, with their live figures (see {@link #status}). */
  public Future<List<JsonObject>> live(String user) {
    return hub.registry().live(user).compose(this::withLiveFigures)
        .map(ops -> ops.stream().filter(o -> !OpRegistry.isFinal(o.getString("state"))).toList());
  }

  /** How long op.status and op.list wait for a worker's live figures before using the registry's. */
  static final long LIVE_FIGURES_MS = 1_000;

  /**
   * Asks the nodes running these operations (one request per node) for their state, stage and seq
   * now, and puts them in; an operation that is final in the registry, or whose node is gone or
   * does not answer in time, keeps the registry's figures.
   */
  private Future<List<JsonObject>> withLiveFigures(List<JsonObject> ops) {
    Map<String, List<JsonObject>> byNode = new java.util.HashMap<>();
    for (JsonObject op : ops) {
      if (!OpRegistry.isFinal(op.getString("state")) && hub.isMember(op.getString("member"))) {
        byNode.computeIfAbsent(op.getString("node"), n -> new java.util.ArrayList<>()).add(op);
      }
    }
    List<Future<?>> asks = new java.util.ArrayList<>();
    byNode.forEach((node, list) -> {
      io.vertx.core.json.JsonArray ids = new io.vertx.core.json.JsonArray();
      list.forEach(op -> ids.add(op.getString("op_id")));
      asks.add(vertx.eventBus().<JsonObject>request(Addresses.opsNode(node), new JsonObject().put("op", "status")
              .put("op_ids", ids), new DeliveryOptions().setSendTimeout(LIVE_FIGURES_MS))
          .onSuccess(m -> {
            JsonObject now = m.body().getJsonObject("ops", new JsonObject());
            for (JsonObject op : list) {
              JsonObject f = now.getJsonObject(op.getString("op_id"));
              if (f != null) {
                op.put("state", f.getString("state")).put("stage", f.getString("stage")).put("seq", f.getLong("seq"));
              }
            }
          }));
    });
    return Future.join(asks).transform(ar -> Future.succeededFuture(ops));
  }

  static SwitchboardException check(JsonObject op, Principal who, boolean sameUserOnly) {
    if (op == null || op.getString("node") == null) {
      return new SwitchboardException(ErrorCode.UNKNOWN_OPERATION, "unknown operation");
    }
    if (sameUserOnly && !who.isAdmin() && !who.userId().equals(op.getString("user"))) {
      return new SwitchboardException(ErrorCode.FORBIDDEN, "not your operation");
    }
    return null;
  }

  /**
   * SHA-256 of the canonical params, base64url: a dedupe key stays short whatever the params (it is
   * kept in the dedupe map and, while the start is in flight, in the client's session).
   */
  static String digest(String canonical) {
    try {
      byte[] h = java.security.MessageDigest.getInstance("SHA-256")
          .digest(canonical.getBytes(java.nio.charset.StandardCharsets.UTF_8));
      return java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(h);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e); // every Java platform has SHA-256
    }
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
