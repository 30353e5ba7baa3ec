package dev.switchboard.methods;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.auth.Access;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.Json;
import dev.switchboard.protocol.SwitchboardException;
import dev.switchboard.routing.Call;
import dev.switchboard.routing.Method;
import dev.switchboard.routing.SimpleMethod;
import dev.switchboard.routing.ParamSchema;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.util.List;

/** The generic operation methods: op.cancel, op.status, op.attach, op.list (PROTOCOL.md section 4). */
public final class OpMethods {
  private static final ParamSchema.Param OP_ID = ParamSchema.string("op_id").required().maxLength(64);

  private OpMethods() {
  }

  public static List<Method> all() {
    return List.of(new Cancel(), new Status(), new Attach(), new ListOps());
  }

  static void fail(Call call, Throwable err) {
    call.reply().error(err instanceof SwitchboardException e ? e
        : new SwitchboardException(ErrorCode.UNAVAILABLE, "operations are unavailable, retry"));
  }

  /** {@code op.cancel {op_id}} → {op_id, state}, from any connection of the same user on any node. */
  static final class Cancel extends SimpleMethod {
    // access: ownership is checked against the registry: same user, or admin
    Cancel() {
      super("op.cancel", ParamSchema.of(OP_ID), Access.CONNECTED);
    }

    @Override
    public void handle(Call call) {
      call.node().ops().cancel(Vertx.currentContext(), call.params().string("op_id"), call.client().principal(), true)
          .onSuccess(r -> call.reply().result(Json.MAPPER.createObjectNode().put("op_id", r.getString("op_id"))
              .put("state", r.getString("state"))))
          .onFailure(err -> fail(call, err));
    }
  }

  /** {@code op.status {op_id}} → {op_id, method, state, stage, seq, node_id}. */
  static final class Status extends SimpleMethod {
    Status() {
      super("op.status", ParamSchema.of(OP_ID), Access.CONNECTED);
    }

    @Override
    public void handle(Call call) {
      call.node().ops().status(Vertx.currentContext(), call.params().string("op_id"), call.client().principal())
          .onSuccess(op -> call.reply().result(describe(op).put("node_id", op.getString("node"))))
          .onFailure(err -> fail(call, err));
    }
  }

  /** {@code op.attach {op_id, [after_seq]}}: replayed frames, live frames, then the operation's terminal. */
  static final class Attach extends SimpleMethod {
    Attach() {
      super("op.attach", ParamSchema.of(OP_ID, ParamSchema.integer("after_seq").range(0, Long.MAX_VALUE)),
          Access.CONNECTED);
    }

    @Override
    public boolean streaming() {
      return true;
    }

    @Override
    public void handle(Call call) {
      call.node().ops().attach(Vertx.currentContext(), call.params().string("op_id"),
          call.params().integer("after_seq", 0), call.client(), call.reply(), false, true);
    }
  }

  /** {@code op.list} → {ops:[{op_id, method, state, stage, seq}]}: the user's live operations. */
  static final class ListOps extends SimpleMethod {
    ListOps() {
      super("op.list", ParamSchema.NONE, Access.CONNECTED);
    }

    @Override
    public void handle(Call call) {
      call.node().ops().live(call.client().principal().userId()).onSuccess(list -> {
        ObjectNode r = Json.MAPPER.createObjectNode();
        ArrayNode ops = r.putArray("ops");
        list.forEach(op -> ops.add(describe(op)));
        call.reply().result(r);
      }).onFailure(err -> fail(call, err));
    }
  }

  static ObjectNode describe(JsonObject op) {
    return Json.MAPPER.createObjectNode().put("op_id", op.getString("op_id")).put("method", op.getString("method"))
        .put("state", op.getString("state")).put("stage", op.getString("stage")).put("seq", op.getLong("seq", 0L));
  }
}
