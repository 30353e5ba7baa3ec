package dev.switchboard.methods;

import dev.switchboard.auth.Access;
import dev.switchboard.routing.Call;
import dev.switchboard.routing.Method;
import dev.switchboard.routing.ParamSchema;

/** {@code system.methods}: every method with its brief params and whether it streams. */
public final class SystemMethods implements Method {
  @Override
  public String name() {
    return "system.methods";
  }

  @Override
  public ParamSchema params() {
    return ParamSchema.NONE;
  }

  @Override
  public Access access() {
    return Access.CONNECTED;
  }

  @Override
  public void handle(Call call) {
    call.reply().result(call.node().methods().describe());
  }
}
