package dev.switchboard.methods;

import dev.switchboard.auth.Access;
import dev.switchboard.protocol.Json;
import dev.switchboard.routing.Call;
import dev.switchboard.routing.SimpleMethod;
import dev.switchboard.routing.ParamSchema;

/** {@code system.ping}: {"ts": epoch ms}, for clients that cannot see WebSocket pings. */
public final class SystemPing extends SimpleMethod {
  public SystemPing() {
    super("system.ping", ParamSchema.NONE, Access.CONNECTED);
  }

  @Override
  public void handle(Call call) {
    call.reply().result(Json.MAPPER.createObjectNode().put("ts", System.currentTimeMillis()));
  }
}
