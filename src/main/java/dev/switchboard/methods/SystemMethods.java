package dev.switchboard.methods;

import dev.switchboard.auth.Access;
import dev.switchboard.routing.Call;
import dev.switchboard.routing.SimpleMethod;
import dev.switchboard.routing.ParamSchema;

/** {@code system.methods}: every method with its brief params and whether it streams. */
public final class SystemMethods extends SimpleMethod {
  public SystemMethods() {
    super("system.methods", ParamSchema.NONE, Access.CONNECTED);
  }

  @Override
  public void handle(Call call) {
    call.reply().result(call.node().methods().describe());
  }
}
