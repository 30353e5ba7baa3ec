package dev.switchboard.methods;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.auth.Access;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.Json;
import dev.switchboard.protocol.SwitchboardException;
import dev.switchboard.routing.Call;
import dev.switchboard.routing.SimpleMethod;
import dev.switchboard.routing.ParamSchema;

/** {@code user.devices} → {devices:[{device_id, node_id, connected_at}]}: the caller's live devices, cluster-wide. */
public final class UserDevices extends SimpleMethod {
  public UserDevices() {
    super("user.devices", ParamSchema.NONE, Access.CONNECTED);
  }

  @Override
  public void handle(Call call) {
    call.node().directory().devicesOf(call.client().principal().userId()).onComplete(ar -> {
      if (ar.failed()) {
        call.reply().error(new SwitchboardException(ErrorCode.UNAVAILABLE, "device list unavailable, retry"));
        return;
      }
      ObjectNode r = Json.MAPPER.createObjectNode();
      ArrayNode list = r.putArray("devices");
      ar.result().forEach(d -> list.addObject().put("device_id", d.device()).put("node_id", d.node())
          .put("connected_at", d.at()));
      call.reply().result(r);
    });
  }
}
