package dev.switchboard.methods;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.auth.Access;
import dev.switchboard.config.SwitchboardConfig.LimitsOptions;
import dev.switchboard.protocol.Json;
import dev.switchboard.routing.Call;
import dev.switchboard.routing.SimpleMethod;
import dev.switchboard.routing.ParamSchema;

/** {@code system.info}: protocol and server version, node id, features, limits (PROTOCOL.md section 10). */
public final class SystemInfo extends SimpleMethod {
  public SystemInfo() {
    super("system.info", ParamSchema.NONE, Access.CONNECTED);
  }

  @Override
  public void handle(Call call) {
    LimitsOptions l = call.node().config().limits();
    ObjectNode r = Json.MAPPER.createObjectNode();
    r.put("protocol_version", 1);
    r.put("server_version", call.node().config().node().serverVersion());
    r.put("node_id", call.node().nodeId());
    ObjectNode features = r.putObject("features");
    features.put("cbor", true);
    features.put("sessions", call.node().sessions() != null && call.node().sessions().enabled());
    features.put("topics", call.node().methods().get("topic.subscribe") != null);
    features.put("operations", call.node().methods().get("op.cancel") != null);
    ObjectNode limits = r.putObject("limits");
    limits.put("max_message_bytes", l.maxMessageBytes());
    limits.put("max_concurrent_ops", l.maxConcurrentOps());
    limits.put("max_connections", l.maxConnections());
    limits.put("max_connections_per_user", l.maxConnectionsPerUser());
    limits.put("heartbeat_ms", l.heartbeatMs());
    limits.put("idle_timeout_ms", l.idleTimeoutMs());
    limits.put("rate_per_sec", l.ratePerSec());
    limits.put("rate_burst", l.rateBurst());
    call.reply().result(r);
  }
}
