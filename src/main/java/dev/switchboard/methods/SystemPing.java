package dev.switchboard.methods;

import dev.switchboard.auth.Access;
import dev.switchboard.protocol.Json;
import dev.switchboard.routing.Call;
import dev.switchboard.routing.Method;
import dev.switchboard.routing.ParamSchema;

/** {@code system.ping}: {"ts": epoch ms}, for clients that cannot see WebSocket pings. */
public final class SystemPing implements Method {
  @Override
  public String name() {
    return "system.ping";
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
    call.reply().result(Json.MAPPER.createObjectNode().put("ts", System.currentTimeMillis()));
  }
}
