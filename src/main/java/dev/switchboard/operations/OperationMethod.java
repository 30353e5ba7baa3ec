package dev.switchboard.operations;

import dev.switchboard.auth.Access;
import dev.switchboard.protocol.SwitchboardException;
import dev.switchboard.routing.Call;
import dev.switchboard.routing.Method;
import dev.switchboard.routing.ParamSchema;

/**
 * An operation kind as a streaming method on the gateway: the per-connection limit first, then start
 * or join (the per-user cap is checked by the worker that takes the operation, see OpSlots). The kind may run on any node's workers, or in an external service.
 */
public final class OperationMethod implements Method {
  private final OperationKind kind;
  private final int maxPerConnection;
  private final int maxPerUser;

  public OperationMethod(OperationKind kind, int maxPerConnection, int maxPerUser) {
    this.kind = kind;
    this.maxPerConnection = maxPerConnection;
    this.maxPerUser = maxPerUser;
  }

  @Override
  public String name() {
    return kind.name();
  }

  @Override
  public ParamSchema params() {
    return kind.params();
  }

  @Override
  public Access access() {
    return kind.access();
  }

  @Override
  public boolean streaming() {
    return true;
  }

  @Override
  public void handle(Call call) {
    Operations ops = call.node().ops();
    if (ops.hub().clients().countFor(call.client()) >= maxPerConnection) {
      throw SwitchboardException.rateLimited("too many operations on this connection", 1000);
    }
    // the user's cap is counted by the worker that takes the operation (OpSlots): no registry query here
    ops.start(io.vertx.core.Vertx.currentContext(), kind, call.params().raw(), call.client(), call.reply(), maxPerUser);
  }
}
