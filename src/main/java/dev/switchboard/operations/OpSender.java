package dev.switchboard.operations;

import dev.switchboard.cluster.Addresses;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A worker's frames on their way to the client nodes attached to its runs: one event-bus request per
 * frame and node, naming the attachments there, counted in the link's window until answered (the
 * client node answers once its connections can take more: the backpressure). Called on, and answers
 * on, the worker's context.
 */
final class OpSender {
  /** How long a client node has to answer a frame before it is sent again (or its link dropped). */
  static final long FRAME_TIMEOUT_MS = 15_000;
  /** Pause before a frame goes again to a client node that is a member but did not take it. */
  static final long RESEND_MS = 500;

  private final Vertx vertx;
  private final Consumer<Runnable> onContext;
  /** Whether a member (uuid) is in the cluster: a client node that is answers frames sooner or later. */
  private final Predicate<String> isMember;

  OpSender(Vertx vertx, Consumer<Runnable> onContext, Predicate<String> isMember) {
    this.vertx = vertx;
    this.onContext = onContext;
    this.isMember = isMember;
  }

  /** Sends a frame to these attachments of one link (all of its own, or one being replayed to). */
  void send(OpRun run, OpRun.Link l, JsonObject frame, List<String> atts) {
    if (atts.isEmpty()) {
      return;
    }
    l.inflight++;
    JsonObject msg = new JsonObject().put("op", "frame").put("op_id", run.opId).put("att", new JsonArray(new ArrayList<>(atts)))
        .put("frame", frame);
    deliver(run, l, msg);
  }

  /**
   * One frame message to a client node, answered once its connections can take more. A client node
   * that is still a member gets it again until it answers (no handler while its routes settle, or no
   * answer while its client does not read: the window stays full, the producer waits); it drops
   * frames it already wrote. A node that left takes its attachments with it.
   */
  private void deliver(OpRun run, OpRun.Link l, JsonObject msg) {
    vertx.eventBus().request(Addresses.opsNode(l.node), msg, new DeliveryOptions().setSendTimeout(FRAME_TIMEOUT_MS))
        .onComplete(ar -> onContext.accept(() -> {
          if (ar.succeeded() || run.links.get(l.node) != l) {
            run.acked(l);
          } else if (isMember.test(l.member)) {
            vertx.setTimer(RESEND_MS, t -> onContext.accept(() -> {
              if (run.links.get(l.node) == l) {
                deliver(run, l, msg);
              } else {
                run.acked(l);
              }
            }));
          } else {
            run.links.remove(l.node);
            run.attachmentsChanged();
            run.acked(l);
          }
        }));
  }
}
