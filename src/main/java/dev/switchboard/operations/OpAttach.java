package dev.switchboard.operations;

import dev.switchboard.cluster.Addresses;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.SwitchboardException;
import dev.switchboard.routing.Client;
import dev.switchboard.routing.ReplySink;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;

/**
 * How a request comes to follow an operation running anywhere in the cluster: {@code op.attach}, a
 * deduplicated request, and a resumed session's re-attach. The attachment is made first (for a
 * request, written into its connection's session before anything is asked; for a resume, before any
 * session write of the new connection can leave it out); then the registry says where the operation
 * runs, and its worker replays what the client has not acknowledged, then live frames.
 *
 * <p>Whatever fails, the request ends with exactly one terminal: the worker's own (replayed), the
 * one the registry kept of a finished operation whose worker is gone or forgot it, or one of ours
 * carrying the op_id and the next seq: NODE_LOST when its node left the cluster, NOT_FOUND when its
 * frames are no longer kept, UNKNOWN_OPERATION when nobody knows it. Runs on the connection's loop.
 */
final class OpAttach {
  /** Pause between two tries while the registry does not know the operation yet, or its node does not answer. */
  static final long RETRY_MS = 50;
  /**
   * A deduplicated request, or an attach by a client that was told the op_id by its starter, may
   * arrive before the worker's first registry write landed (seconds late while partitions settle
   * after a fault: the 10-minute chaos run's attaches answered UNKNOWN_OPERATION for operations that
   * then ran): the registry is asked again for this long before the answer is UNKNOWN_OPERATION.
   */
  static final long DEDUPE_WAIT_MS = 2_000;
  /**
   * A resumed session may hold an operation whose start was in flight when its connection went: the
   * registry learns of it within the start's own timeout, or never.
   */
  static final long START_WAIT_MS = Operations.CONTROL_TIMEOUT_MS + 2_000;

  private final Vertx vertx;
  private final OpHub hub;

  /** How long a registry read may take before a re-attach asks the node its session names instead. */
  static final long REGISTRY_WAIT_MS = 5_000;
  /** How long one ask of the registry for its verdict on a lost worker's operation may take. */
  static final long LOST_LOOKUP_MS = 2_000;
  /**
   * How long the registry is asked again for that verdict before NODE_LOST is given without it: the
   * partitions the departed member owned answer again once their backups are promoted, seconds after
   * its removal.
   */
  static final long LOST_VERDICT_MS = 15_000;
  /** Between two asks for the verdict (each already waited up to {@link #LOST_LOOKUP_MS}). */
  static final long LOST_RETRY_MS = 250;

  OpAttach(Vertx vertx, OpHub hub) {
    this.vertx = vertx;
    this.hub = hub;
    hub.clients().onWorkerLost(this::workerLost);
  }

  /**
   * The node running a followed operation left: the terminal the registry kept when it is the next
   * frame this client needs (the operation finished and its terminal was on its way), else NODE_LOST.
   */
  void workerLost(Attachment a) {
    a.client.execute(() -> {
      if (!a.ended()) {
        verdict(a, System.currentTimeMillis() + LOST_VERDICT_MS);
      }
    });
  }

  /**
   * The registry's verdict on an operation whose worker left, then the terminal it implies: atomic
   * with the worker's writes (see OpProcessors), either its final entry landed first and its kept
   * terminal is what this client gets, or the entry now says lost and stays so. A registry that does
   * not answer (the departed member owned the entry's partition) is asked again until
   * {@code deadline}: a NODE_LOST given without the verdict was the second terminal of an operation
   * whose CANCELLED the client had already read (chaos seed 21 with operations).
   */
  private void verdict(Attachment a, long deadline) {
    JsonObject absent = a.startedMethod == null ? null : OpRegistry.lostEntry(a.opId, a.client.principal().userId(),
        a.startedMethod, a.startedDedupe, a.lastSeq, a.workerNode != null ? a.workerNode : hub.nodeId(), a.workerMember);
    hub.registry().markLost(vertx.getOrCreateContext(), a.opId, absent)
        .timeout(LOST_LOOKUP_MS, java.util.concurrent.TimeUnit.MILLISECONDS)
        .onComplete(ar -> {
          if (ar.failed() && hub.clients().isLive(a) && System.currentTimeMillis() + LOST_RETRY_MS < deadline) {
            vertx.setTimer(LOST_RETRY_MS, t -> verdict(a, deadline));
            return;
          }
          if (ar.succeeded() && ar.result() != null && ar.result().getBoolean("lost", false)) {
            hub.registry().release(ar.result().getString("dedupe"), a.opId); // its worker never will
          }
          end(a, ar.succeeded() ? ar.result() : null);
        });
  }

  /** op.attach ({@code deduplicated} false) or a deduplicated request (after_seq 0). */
  void attach(Context ctx, String opId, long afterSeq, Client client, ReplySink sink, boolean deduplicated,
              boolean sameUserOnly) {
    Attachment a = add(opId, afterSeq, client, sink, deduplicated);
    long wait = DEDUPE_WAIT_MS;
    // in the session before the worker sends the first frame: a client that saw the op_id and lost
    // its connection gets the operation back on resume
    client.sessionSaved().onComplete(v -> ctx.runOnContext(x ->
        resolve(ctx, a, sameUserOnly, System.currentTimeMillis() + wait)));
  }

  /**
   * A resumed session's operation, from its stored entry ({@code seq} acknowledged, {@code id}, and
   * {@code node}/{@code member}/{@code end} when known): made at once, so that a session write of the
   * new connection keeps it, then re-attached after what the client acknowledged.
   */
  void resume(Context ctx, String opId, JsonObject stored, Client client, ReplySink sink) {
    Attachment a = add(opId, stored.getLong("seq", 0L), client, sink, false);
    a.workerNode = stored.getString("node");
    a.workerMember = stored.getString("member");
    JsonObject end = stored.getJsonObject("end");
    if (end != null) {
      hub.clients().resend(a, end); // a terminal of ours the client never acknowledged: the same again
      return;
    }
    a.starting = a.workerMember == null;
    a.startedMethod = stored.getString("method");
    a.startedDedupe = stored.getString("dedupe");
    resolve(ctx, a, true, System.currentTimeMillis() + (a.starting ? START_WAIT_MS : 0));
  }

  private Attachment add(String opId, long afterSeq, Client client, ReplySink sink, boolean deduplicated) {
    Attachment a = hub.clients().add("a_" + SwitchboardConfig.randomId(12), opId, client, sink, deduplicated);
    a.lastSeq = afterSeq;
    a.ackedSeq = afterSeq; // re-attached after what the client had acknowledged
    a.markedSeq = afterSeq;
    return a;
  }

  /** Where the operation runs, from the registry (or the session, when the registry lost it). */
  private void resolve(Context ctx, Attachment a, boolean sameUserOnly, long deadline) {
    if (!hub.clients().isLive(a)) {
      return; // its connection closed meanwhile
    }
    hub.registry().get(ctx, a.opId).timeout(REGISTRY_WAIT_MS, java.util.concurrent.TimeUnit.MILLISECONDS).onComplete(ar -> {
      if (ar.failed() && a.workerMember != null) {
        // the registry is unreachable or slow (partitions settling after a fault): ask the node the
        // session says runs it
        control(ctx, a, null, System.currentTimeMillis() + Operations.CONTROL_TIMEOUT_MS);
        return;
      }
      if (ar.failed()) {
        retryOr(deadline, () -> resolve(ctx, a, sameUserOnly, deadline), () -> hub.clients().fail(a,
            new SwitchboardException(ErrorCode.UNAVAILABLE, "operations are unavailable, retry"), true));
        return;
      }
      JsonObject op = ar.result();
      if (op == null || op.getString("node") == null) {
        if (a.workerMember != null) {
          control(ctx, a, null, System.currentTimeMillis() + Operations.CONTROL_TIMEOUT_MS); // its worker may still hold it
        } else {
          // a resumed session's operation whose start never reached a worker failed to start, as far
          // as the client can tell: the answer its start would have had
          retryOr(deadline, () -> resolve(ctx, a, sameUserOnly, deadline), () -> {
            if (a.starting) {
              notStarted(ctx, a, sameUserOnly, deadline);
            } else {
              hub.clients().fail(a, unknown(), true);
            }
          });
        }
        return;
      }
      SwitchboardException denied = Operations.check(op, a.client.principal(), sameUserOnly);
      if (denied != null) {
        hub.clients().fail(a, denied, false);
        return;
      }
      a.workerNode = op.getString("node");
      a.workerMember = op.getString("member");
      control(ctx, a, op, System.currentTimeMillis() + Operations.CONTROL_TIMEOUT_MS);
    });
  }

  /**
   * A resumed session's operation that no worker took within {@link #START_WAIT_MS} (its starting
   * node died before sending it on): recorded in the registry as failed to start, with the terminal
   * this client gets ({@code UNAVAILABLE}, "could not be started") kept for anyone else following
   * it, through the same entry processor as a lost verdict, so that a worker's write still in flight
   * cannot also win (if one landed first, the operation is followed as usual); then its dedupe key
   * is freed. So {@code op.status} agrees with the terminal, and an identical request starts afresh.
   */
  private void notStarted(Context ctx, Attachment a, boolean sameUserOnly, long deadline) {
    long seq = a.lastSeq + 1;
    JsonObject terminal = OpFrames.error(a.opId, seq, ErrorCode.UNAVAILABLE, "the operation could not be started, retry");
    JsonObject entry = OpRegistry.lostEntry(a.opId, a.client.principal().userId(), a.startedMethod, a.startedDedupe,
        seq, hub.nodeId(), null).put("terminal", terminal).put("recorded_by", a.att);
    hub.registry().markLost(ctx, a.opId, entry).timeout(LOST_LOOKUP_MS, java.util.concurrent.TimeUnit.MILLISECONDS)
        .onComplete(ar -> {
          JsonObject op = ar.succeeded() ? ar.result() : null;
          if (op != null && !a.att.equals(op.getString("recorded_by"))) {
            resolve(ctx, a, sameUserOnly, deadline); // a worker (or a lost verdict) got there first: follow that
            return;
          }
          if (op != null) {
            hub.registry().release(a.startedDedupe, a.opId);
          } // else the registry did not answer: the answer stands, the claim sweep frees the key
          a.client.execute(() -> hub.clients().endOwn(a, terminal, seq));
        });
  }

  private static SwitchboardException unknown() {
    return new SwitchboardException(ErrorCode.UNKNOWN_OPERATION, "unknown operation");
  }

  /** Asks the worker to replay after what the client has, then send it live frames. */
  private void control(Context ctx, Attachment a, JsonObject op, long deadline) {
    if (!hub.clients().isLive(a)) {
      return;
    }
    if (!hub.isMember(a.workerMember)) {
      lost(a, op);
      return;
    }
    JsonObject req = new JsonObject().put("op", "attach").put("op_id", a.opId).put("node", hub.nodeId())
        .put("member", hub.memberId()).put("att", a.att).put("after_seq", a.lastSeq);
    vertx.eventBus().<JsonObject>request(Addresses.opsNode(a.workerNode), req,
        new DeliveryOptions().setSendTimeout(Operations.CONTROL_TIMEOUT_MS)).onComplete(r -> {
          if (r.succeeded()) {
            if (!hub.clients().isLive(a)) {
              hub.clients().detach(a); // closed while it attached: the worker may treat it as an orphan
            } else {
              a.client.subscriptionsChanged(); // the session records where it runs
            }
            return;
          }
          ReplyException err = r.cause() instanceof ReplyException e ? e : null;
          boolean refused = err != null && err.failureType() == ReplyFailure.RECIPIENT_FAILURE;
          if (refused && err.failureCode() == 404) {
            gone(a, op);
          } else if (refused && err.failureCode() == 410) {
            hub.clients().fail(a, new SwitchboardException(ErrorCode.NOT_FOUND, "frames after that seq are no longer kept"),
                true, endedAt(op));
          } else if (!hub.isMember(a.workerMember)) {
            lost(a, op);
          } else {
            // no handler or no answer from a member still in the cluster (its routes settling, or it is
            // leaving): ask again; its departure ends the attachment with NODE_LOST meanwhile
            retryOr(deadline, () -> control(ctx, a, op, deadline), () -> hub.clients().fail(a,
                new SwitchboardException(ErrorCode.UNAVAILABLE, "the operation's node did not answer, retry"), true));
          }
        });
  }

  /**
   * The worker's node left: the terminal the registry kept when it is the next frame the client
   * needs, else NODE_LOST (in the seq of the operation's own terminal when it had ended, see
   * {@link #endedAt}).
   */
  private void lost(Attachment a, JsonObject op) {
    if (op == null || !(OpRegistry.isFinal(op.getString("state")) || op.getBoolean("lost", false))) {
      // unread, or read before the worker's last write may have landed: ask for the verdict
      a.client.execute(() -> verdict(a, System.currentTimeMillis() + LOST_VERDICT_MS));
      return;
    }
    end(a, op);
  }

  /** Ends the attachment of a lost worker's operation as the registry's entry {@code op} says (null: unknown). */
  private void end(Attachment a, JsonObject op) {
    a.client.execute(() -> {
      if (a.ended()) {
        return;
      }
      JsonObject kept = kept(a, op);
      if (kept != null) {
        hub.clients().endOwn(a, kept, kept.getLong("seq"));
        return;
      }
      long seq = endedAt(op) > 0 ? endedAt(op) : Math.max(a.lastSeq, op == null ? 0 : op.getLong("seq", 0L)) + 1;
      hub.clients().endOwn(a, OpFrames.error(a.opId, seq, ErrorCode.NODE_LOST,
          "the node running the operation left the cluster"), seq);
    });
  }

  /** The worker no longer holds the run (finished and forgotten, or it is another incarnation of that node). */
  private void gone(Attachment a, JsonObject op) {
    if (op != null && (op.getBoolean("lost", false) || !hub.isMember(op.getString("member")))) {
      lost(a, op);
      return;
    }
    a.client.execute(() -> {
      JsonObject kept = kept(a, op);
      if (kept != null) {
        hub.clients().endOwn(a, kept, kept.getLong("seq"));
      } else if (endedAt(op) > 0) {
        hub.clients().fail(a, new SwitchboardException(ErrorCode.NOT_FOUND,
            "the operation has ended and its frames are no longer kept",
            dev.switchboard.protocol.Json.MAPPER.createObjectNode().put("state", op.getString("state")), -1), true,
            endedAt(op));
      } else {
        hub.clients().fail(a, unknown(), true);
      }
    });
  }

  /**
   * The seq of the operation's own terminal when the registry says it ended (0: running, unknown, or
   * lost with its node). A terminal of ours standing in for it takes that seq: a client that read the
   * real one (and had not acknowledged it) drops ours as a repeat, one that did not gets ours.
   */
  static long endedAt(JsonObject op) {
    return op != null && OpRegistry.isFinal(op.getString("state")) && !op.getBoolean("lost", false)
        ? op.getLong("seq", 0L) : 0;
  }

  /** The finished operation's terminal from the registry, when it is the very next frame this client needs. */
  private static JsonObject kept(Attachment a, JsonObject op) {
    JsonObject t = op == null ? null : op.getJsonObject("terminal");
    return t != null && t.getLong("seq", 0L) == a.lastSeq + 1 ? t : null;
  }

  private void retryOr(long deadline, Runnable retry, Runnable fail) {
    if (System.currentTimeMillis() + RETRY_MS < deadline) {
      vertx.setTimer(RETRY_MS, t -> retry.run());
    } else {
      fail.run();
    }
  }
}
