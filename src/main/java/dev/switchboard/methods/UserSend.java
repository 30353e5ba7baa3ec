package dev.switchboard.methods;

import dev.switchboard.auth.Access;
import dev.switchboard.cluster.DirectSender;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.Json;
import dev.switchboard.protocol.SwitchboardException;
import dev.switchboard.routing.Call;
import dev.switchboard.routing.SimpleMethod;
import dev.switchboard.routing.ParamSchema;

/**
 * {@code user.send {data, [device_id], [include_self]}}: a {@code direct} frame to the caller's own
 * other devices (default), to one of them, or to all including this connection → {delivered}.
 */
public final class UserSend extends SimpleMethod {
  private static final ParamSchema PARAMS = ParamSchema.of(
      ParamSchema.any("data").required(),
      ParamSchema.string("device_id").maxLength(128),
      ParamSchema.bool("include_self"));

  // access: only ever addresses the caller's own user
  public UserSend() {
    super("user.send", PARAMS, Access.CONNECTED);
  }

  @Override
  public void handle(Call call) {
    String self = call.params().bool("include_self", false) ? null : call.client().connectionId();
    call.node().directs().send(call.client().principal().userId(), call.params().string("device_id"), self,
        call.params().node("data"), call.client().principal().userId(), call.client().deviceId()).onComplete(ar -> {
          if (ar.succeeded()) {
            call.reply().result(Json.MAPPER.createObjectNode().put("delivered", ar.result()));
          } else if (ar.cause() instanceof DirectSender.NoSuchDevice) {
            call.reply().error(new SwitchboardException(ErrorCode.NOT_FOUND, "device is not connected"));
          } else {
            call.reply().error(new SwitchboardException(ErrorCode.UNAVAILABLE, "send failed, retry"));
          }
        });
  }
}
