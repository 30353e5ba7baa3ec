package dev.switchboard.operations;

import dev.switchboard.cluster.Addresses;
import dev.switchboard.protocol.ErrorCode;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs operations on this node (a gateway, or an external service that joined the cluster): takes
 * work for its kinds from the event bus, keeps every run it holds, streams frames to the client
 * nodes attached to each, serves attach/detach/cancel, cancels orphans, and forgets finished runs
 * after op_retention. State lives on one ordered context.
 */
public final class OpWorker {
  private static final Logger LOG = LoggerFactory.getLogger(OpWorker.class);
  /**
   * Finished runs kept (with their replay) for late attaches, at most this many and this many bytes
   * of frames: the oldest go first (the registry still knows them; an attach then gets NOT_FOUND).
   */
  static final int MAX_FINISHED = 10_000;
  static final long MAX_FINISHED_BYTES = 64L << 20;

  private final Vertx vertx;
  private final String nodeId;
  private final java.util.function.Supplier<String> memberId;
  private final OpRegistry registry;
  private final OpSender sender;
  private final Context ctx;
  private final WorkerExecutor threads;
  private final int capacity;
  private final long orphanMs;
  private final long retentionMs;
  private long deadlineMs;
  private final Map<String, OperationKind> kinds = new HashMap<>();
  private final Map<String, OpRun> runs = new HashMap<>();
  private final OpRecords records;
  private final java.util.LinkedHashSet<String> finishedOrder = new java.util.LinkedHashSet<>();
  private long finishedBytes;
  private int live;
  private OpMeters meters = OpMeters.NONE;
  /** Runs whose kind has started (the rest of {@link #live} wait for a thread); any thread reads it. */
  private final java.util.concurrent.atomic.AtomicInteger running = new java.util.concurrent.atomic.AtomicInteger();
  private final List<io.vertx.core.eventbus.MessageConsumer<JsonObject>> workConsumers = new ArrayList<>();
  private boolean draining;
  /**
   * While draining: runs whose attachments detached (their connections closed, most often by this
   * very drain) → how many, and until when the drain waits for them to attach again. Their clients
   * resume on other nodes and re-attach within a second or so; leaving before would end those runs
   * with NODE_LOST although they finished here (the chaos run: both followers of an operation that
   * had ended got NODE_LOST, and op.status said done).
   */
  private final Map<String, long[]> awaitingReattach = new HashMap<>();
  /** How long a drain waits (within its grace) for a detached attachment to attach again. */
  static final long REATTACH_WAIT_MS = 5_000;

  /**
   * @param threads  worker threads for blocking kinds (the node's operation capacity)
   * @param queued   operations that may wait for a thread ({@code queued} stage) before new work is refused
   */
  /** Whether this node's side of the cluster serves (see cluster/Quorum): a cut-off node takes no work. */
  private final java.util.function.BooleanSupplier serving;
  private final java.util.function.Predicate<String> isMember;

  public OpWorker(Vertx vertx, String nodeId, java.util.function.Supplier<String> memberId, OpRegistry registry, int threads, int queued,
                  long orphanMs, long retentionMs, java.util.function.Predicate<String> isMember,
                  java.util.function.BooleanSupplier serving) {
    this.vertx = vertx;
    this.serving = serving;
    this.sender = new OpSender(vertx, this::onContext, isMember);
    this.isMember = isMember;
    this.nodeId = nodeId;
    this.memberId = memberId;
    this.registry = registry;
    this.ctx = ((io.vertx.core.internal.VertxInternal) vertx).createWorkerContext();
    this.threads = vertx.createSharedWorkerExecutor("sb-ops-" + nodeId, threads);
    this.capacity = threads + queued;
    this.records = new OpRecords(vertx, ctx, registry, nodeId, memberId);
    this.orphanMs = orphanMs;
    this.retentionMs = retentionMs;
  }

  Vertx vertx() {
    return vertx;
  }

  /** Where starts and terminals are counted (the node's metrics). */
  public OpWorker meters(OpMeters m) {
    this.meters = m;
    return this;
  }

  /** A deadline for every operation run here (0: none beyond the kinds' own). */
  public OpWorker deadline(long ms) {
    this.deadlineMs = ms;
    return this;
  }

  String nodeId() {
    return nodeId;
  }

  void onContext(Runnable r) {
    ctx.runOnContext(v -> r.run());
  }

  /** Serves a kind here: its work address gets a consumer on this node. */
  public Future<Void> register(OperationKind kind) {
    kinds.put(kind.name(), kind);
    io.vertx.core.Promise<Void> registered = io.vertx.core.Promise.promise();
    ctx.runOnContext(v -> {
      io.vertx.core.eventbus.MessageConsumer<JsonObject> c = vertx.eventBus().consumer(Addresses.work(kind.name()),
          m -> accept(kind, m));
      workConsumers.add(c);
      c.completion().onComplete(registered);
    });
    return registered.future();
  }

  // ------------------------------------------------------------------ work

  private void accept(OperationKind kind, Message<JsonObject> m) {
    JsonObject req = m.body();
    if (draining) {
      m.fail(503, "this node is draining"); // the client's node sends it to another worker
      return;
    }
    if (!serving.getAsBoolean()) {
      // cut off (or just thawed) while routes to it linger: the majority would end its runs as lost
      m.fail(503, "this node is cut off from the cluster's majority");
      return;
    }
    if (live >= capacity) {
      m.fail(429, "no operation capacity on this node");
      return;
    }
    int maxPerUser = req.getInteger("max_per_user", 0);
    if (maxPerUser <= 0) {
      run(kind, m, null);
      return;
    }
    // The user's cap (ops.max_per_user) is counted where the operations run: this worker takes one of
    // the user's slots (one entry processor on the user's partition, see OpSlots) before it accepts.
    // The capacity is held meanwhile, so that concurrent accepts cannot all pass the check above.
    live++;
    String member = memberId.get();
    registry.acquireSlot(ctx, req.getString("user"), req.getString("op_id"), member, maxPerUser, isMember)
        .onComplete(ar -> {
          live--;
          if (ar.failed()) {
            m.fail(500, "the operation could not be started");
          } else if (!ar.result()) {
            m.fail(USER_CAP, "too many operations for this user");
          } else if (draining || !serving.getAsBoolean()) {
            registry.releaseSlot(req.getString("user"), req.getString("op_id"), member);
            m.fail(503, draining ? "this node is draining" : "this node is cut off from the cluster's majority");
          } else {
            run(kind, m, member);
          }
        });
  }

  /** Failure code of a work request refused by the user's cap (the client's node answers RATE_LIMITED). */
  static final int USER_CAP = 430;

  /** Accepts the work: the run is created and answered for; {@code slotMember}: where its user slot is counted. */
  private void run(OperationKind kind, Message<JsonObject> m, String slotMember) {
    JsonObject req = m.body();
    String opId = req.getString("op_id");
    JsonObject attach = req.getJsonObject("attach");
    JsonObject params = req.getJsonObject("params", new JsonObject());
    long total;
    try {
      total = kind.total(params);
    } catch (RuntimeException e) {
      total = -1; // params the kind refuses: it says so when it starts
    }
    OpRun run = new OpRun(this, opId, req.getString("user"), kind.name(), params, req.getString("dedupe"), total,
        kind.unit());
    run.slotMember = slotMember;
    runs.put(opId, run);
    live++;
    meters.started();
    if (attach != null) {
      link(run, attach.getString("node"), attach.getString("member"), attach.getString("att"));
    } else {
      run.attachmentsChanged(); // started for nobody (its client's connection went): an orphan unless someone attaches
    }
    m.reply(new JsonObject().put("node", nodeId).put("member", memberId.get()));
    long limit = kind.deadlineMs() > 0 && deadlineMs > 0 ? Math.min(kind.deadlineMs(), deadlineMs)
        : Math.max(kind.deadlineMs(), deadlineMs);
    if (limit > 0) {
      run.deadline = System.currentTimeMillis() + limit;
      vertx.setTimer(limit, t -> onContext(run::timeout));
    }
    records.started(run);
    // The first frame (it carries the op_id) goes out once the registry knows the operation, so
    // an op.cancel or op.status sent on seeing it, from any node, always finds it.
    run.lastWrite.onComplete(written -> onContext(() -> begin(kind, run)));
  }

  private void begin(OperationKind kind, OpRun run) {
    String opId = run.opId;
    long done = run.total >= 0 ? 0 : -1; // figures only where the total is known
    run.progress("queued", done, -1, null, -1, null); // seq 1: the client can cancel from here on
    Runnable go = () -> {
      if (run.finished()) {
        return;
      }
      if (run.phase.compareAndSet(0, 1)) {
        running.incrementAndGet();
      }
      run.progress("running", done, -1, null, -1, null);
      try {
        kind.start(run);
      } catch (RuntimeException e) {
        LOG.atError().addKeyValue("op", opId).addKeyValue("user", run.user).addKeyValue("method", kind.name())
            .setCause(e).log("operation {} {} failed", kind.name(), opId);
        run.fail(ErrorCode.INTERNAL, "internal error");
      }
    };
    if (kind.blocking()) {
      threads.executeBlocking(() -> {
        go.run();
        return null;
      }, false);
    } else {
      onContext(go);
    }
  }

  // ------------------------------------------------------------------ control (this node's ops address)

  /** Attach, detach, cancel and status requests for runs held here; on the worker's context. */
  public void control(Message<JsonObject> m) {
    JsonObject b = m.body();
    if ("status".equals(b.getString("op"))) {
      m.reply(new JsonObject().put("ops", liveStatus(b.getJsonArray("op_ids", new JsonArray()))));
      return;
    }
    OpRun run = runs.get(b.getString("op_id", ""));
    if (run == null) {
      m.fail(404, "UNKNOWN_OPERATION");
      return;
    }
    switch (b.getString("op")) {
      case "attach" -> {
        List<JsonObject> frames = run.since(b.getLong("after_seq", 0L));
        if (frames == null) {
          m.fail(410, "frames after that seq are no longer kept");
          return;
        }
        m.reply(new JsonObject().put("node", nodeId).put("member", memberId.get()));
        OpRun.Link l = link(run, b.getString("node"), b.getString("member"), null);
        String att = b.getString("att");
        // replay to this attachment alone, then it joins the link's live frames (an attach asked
        // again, its answer having been lost, replays again: the client node drops what it has)
        for (JsonObject f : frames) {
          sendTo(run, l, f, List.of(att));
        }
        if (!run.finished() && !l.atts.contains(att)) {
          l.atts.add(att);
          run.attachmentsChanged();
        }
        long[] awaited = awaitingReattach.get(run.opId);
        if (awaited != null && --awaited[0] <= 0) {
          awaitingReattach.remove(run.opId); // its replay is in flight now: quiet() waits for that
        }
      }
      case "detach" -> {
        OpRun.Link l = run.links.get(b.getString("node"));
        if (draining) {
          long[] awaited = awaitingReattach.computeIfAbsent(run.opId, k -> new long[2]);
          awaited[0]++;
          awaited[1] = System.currentTimeMillis() + REATTACH_WAIT_MS;
        }
        if (l != null) {
          l.atts.remove(b.getString("att"));
          if (l.atts.isEmpty()) {
            run.links.remove(l.node);
          }
          run.attachmentsChanged();
        }
        m.reply(new JsonObject());
      }
      case "cancel" -> {
        run.cancel(b.getString("reason", "cancelled"));
        m.reply(new JsonObject().put("state", run.state()));
      }
      default -> m.fail(400, "unknown op");
    }
  }

  private OpRun.Link link(OpRun run, String node, String member, String att) {
    OpRun.Link l = run.links.get(node);
    if (l == null || !l.member.equals(member)) {
      // none yet, or one to an earlier incarnation of that node id (gone with its attachments)
      l = new OpRun.Link(node, member);
      run.links.put(node, l);
    }
    if (att != null) {
      l.atts.add(att);
      run.attachmentsChanged();
    }
    return l;
  }

  /** A member left: its attachments are gone; their runs may become orphans. */
  public void memberLost(String member) {
    onContext(() -> {
      for (OpRun run : new ArrayList<>(runs.values())) {
        if (run.links.values().removeIf(l -> member.equals(l.member))) {
          run.attachmentsChanged();
        }
      }
    });
  }

  // ------------------------------------------------------------------ called by runs

  void send(OpRun run, OpRun.Link l, JsonObject frame) {
    sender.send(run, l, frame, l.atts);
  }

  private void sendTo(OpRun run, OpRun.Link l, JsonObject frame, List<String> atts) {
    sender.send(run, l, frame, atts);
  }

  void recordProgress(OpRun run) {
    records.progress(run);
  }

  /** {@code {op_id: {state, stage, seq}}} of the runs held here among {@code opIds}, as they are now. */
  private JsonObject liveStatus(JsonArray opIds) {
    JsonObject out = new JsonObject();
    for (Object id : opIds) {
      OpRun run = runs.get(String.valueOf(id));
      if (run != null) {
        out.put(run.opId, new JsonObject().put("state", run.state()).put("stage", run.stage).put("seq", run.seq));
      }
    }
    return out;
  }

  void finished(OpRun run) {
    live--;
    if (run.phase.getAndSet(2) == 1) {
      running.decrementAndGet();
    }
    meters.ended(run.state(), System.currentTimeMillis() - run.createdAt);
    logEnd(run);
    records.finished(run);
    registry.release(run.dedupeKey, run.opId);
    if (run.slotMember != null) {
      registry.releaseSlot(run.user, run.opId, run.slotMember);
    }
    if (run.orphanTimer >= 0) {
      vertx.cancelTimer(run.orphanTimer);
    }
    finishedOrder.add(run.opId);
    finishedBytes += run.replayBytes;
    while (finishedOrder.size() > MAX_FINISHED || finishedBytes > MAX_FINISHED_BYTES && finishedOrder.size() > 1) {
      forget(finishedOrder.iterator().next());
    }
    String id = run.opId; // the timer must not keep the run (and its replay) alive past eviction
    vertx.setTimer(Math.max(1, retentionMs), t -> onContext(() -> forget(id)));
  }

  /** The operation-end event: outcome (done, error, cancelled), the error code, duration; never params or results. */
  private static void logEnd(OpRun run) {
    String outcome = run.state();
    io.vertx.core.json.JsonObject error = run.terminalFrame.getJsonObject("error");
    String code = error == null ? null : error.getString("code");
    long ms = System.currentTimeMillis() - run.createdAt;
    var event = LOG.atInfo().addKeyValue("op", run.opId).addKeyValue("user", run.user).addKeyValue("method", run.method)
        .addKeyValue("outcome", outcome);
    if (code != null) {
      event = event.addKeyValue("code", code);
    }
    event.addKeyValue("duration_ms", ms).addKeyValue("frames", run.seq)
        .log("operation {} {} ended: {}{} after {} ms", run.method, run.opId, outcome, code == null ? "" : " " + code, ms);
  }

  private void forget(String opId) {
    if (finishedOrder.remove(opId)) {
      OpRun gone = runs.remove(opId);
      if (gone != null) {
        finishedBytes -= gone.replayBytes;
      }
    }
  }

  void orphanCheck(OpRun run) {
    boolean attached = run.links.values().stream().anyMatch(l -> !l.atts.isEmpty());
    if (attached || run.finished()) {
      if (run.orphanTimer >= 0) {
        vertx.cancelTimer(run.orphanTimer);
        run.orphanTimer = -1;
      }
    } else if (run.orphanTimer < 0) {
      run.orphanTimer = vertx.setTimer(Math.max(1, orphanMs), t -> onContext(() -> {
        run.orphanTimer = -1;
        if (run.links.values().stream().allMatch(l -> l.atts.isEmpty())) {
          run.cancel("cancelled: nobody attached");
        }
      }));
    }
  }

  /**
   * The runs held here that have not ended, oldest first, as the admin API shows them: {@code {op_id,
   * user, method, state, stage, seq, progress{done,total}, attached, created_at}} (attached: the
   * client attachments on every node).
   */
  public Future<List<JsonObject>> snapshot() {
    io.vertx.core.Promise<List<JsonObject>> out = io.vertx.core.Promise.promise();
    onContext(() -> {
      List<JsonObject> list = new ArrayList<>();
      for (OpRun run : runs.values()) {
        if (!run.finished()) {
          int attached = 0;
          for (OpRun.Link l : run.links.values()) {
            attached += l.atts.size();
          }
          list.add(new JsonObject().put("op_id", run.opId).put("user", run.user).put("method", run.method)
              .put("state", run.state()).put("stage", run.stage).put("seq", run.seq)
              .put("progress", new JsonObject().put("done", run.done).put("total", run.shownTotal))
              .put("attached", attached).put("created_at", run.createdAt).put("node", nodeId));
        }
      }
      list.sort((a, b) -> Long.compare(a.getLong("created_at"), b.getLong("created_at")));
      out.complete(list);
    });
    return out.future();
  }

  public int live() {
    return live;
  }

  /** Runs started on a thread (not queued any more) and not ended. */
  public int running() {
    return running.get();
  }

  /** Whether a run (running, or finished and still kept) is held here; for tests and tooling. */
  Future<Boolean> holds(String opId) {
    io.vertx.core.Promise<Boolean> held = io.vertx.core.Promise.promise();
    onContext(() -> held.complete(runs.containsKey(opId)));
    return held.future();
  }

  /**
   * A drain (SIGTERM): no new work comes here (the kinds' consumers go; work already on its way is
   * refused with 503 and goes to another worker), while attaches, cancels and frames go on.
   * Completes once every run here has ended and its frames reached the attached nodes, or after
   * {@code graceMs}: then the node may leave (what still runs ends with NODE_LOST for its clients).
   */
  public Future<Void> drain(long graceMs) {
    io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
    long deadline = System.currentTimeMillis() + graceMs;
    onContext(() -> {
      draining = true;
      workConsumers.forEach(io.vertx.core.eventbus.MessageConsumer::unregister);
      vertx.setPeriodic(20, id -> onContext(() -> {
        if (quiet() || System.currentTimeMillis() >= deadline) {
          vertx.cancelTimer(id);
          done.tryComplete();
        }
      }));
    });
    return done.future();
  }

  /**
   * This node was cut off from the cluster's majority, which ends every operation that ran here for its
   * clients (NODE_LOST, as for a crash; their clients are handed over and re-attach there). The runs
   * stop, send nothing more to anyone, and are forgotten here, so that nothing here answers for them
   * differently (op.status, an attach) once the node is back.
   */
  public void abandon() {
    onContext(() -> {
      for (OpRun run : new ArrayList<>(runs.values())) {
        run.links.clear();
        if (!run.finished()) {
          run.cancel("the node running the operation was cut off from the cluster");
        }
        runs.remove(run.opId);
        if (finishedOrder.remove(run.opId)) {
          finishedBytes -= run.replayBytes;
        }
      }
    });
  }

  /**
   * Nothing runs, no frame waits for a client node's answer, and no attachment that detached during
   * the drain is still expected back (see {@link #awaitingReattach}).
   */
  private boolean quiet() {
    if (live > 0) {
      return false;
    }
    long now = System.currentTimeMillis();
    awaitingReattach.values().removeIf(a -> a[1] <= now);
    if (!awaitingReattach.isEmpty()) {
      return false;
    }
    for (OpRun run : runs.values()) {
      for (OpRun.Link l : run.links.values()) {
        if (l.inflight > 0) {
          return false;
        }
      }
    }
    return true;
  }
}
