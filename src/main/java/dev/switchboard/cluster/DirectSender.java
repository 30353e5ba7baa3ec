package dev.switchboard.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.protocol.Json;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Direct messages to a user's devices anywhere in the cluster: look the devices up in the
 * directory, then one command per node that holds some of them; the answer counts the
 * connections actually reached.
 */
public final class DirectSender {
  static final long NODE_TIMEOUT_MS = 5000;

  private final Vertx vertx;
  private final String nodeId;
  private final Directory directory;
  private final LocalConnections local;

  public DirectSender(Vertx vertx, String nodeId, Directory directory, LocalConnections local) {
    this.vertx = vertx;
    this.nodeId = nodeId;
    this.directory = directory;
    this.local = local;
  }

  /**
   * @param deviceId     only this device, or null for all of the user's devices
   * @param excludeConn  a connection to leave out (the sender's own), or null
   * @return the number of connections reached; fails with {@link NoSuchDevice} when a named device is not connected
   */
  public Future<Integer> send(String user, String deviceId, String excludeConn, JsonNode data, String fromUser,
                              String fromDevice) {
    ObjectNode frame = Json.MAPPER.createObjectNode().put("type", "direct");
    frame.set("data", data);
    frame.put("from_user", fromUser);
    if (fromDevice != null) {
      frame.put("from_device", fromDevice);
    }
    String frameJson = frame.toString();
    return directory.devicesOf(user).compose(devices -> {
      Map<String, List<String>> byNode = new LinkedHashMap<>();
      boolean named = false;
      for (Directory.Device d : devices) {
        if (deviceId != null && !deviceId.equals(d.device())) {
          continue;
        }
        named = true;
        if (d.conn().equals(excludeConn)) {
          continue;
        }
        byNode.computeIfAbsent(d.node(), n -> new ArrayList<>()).add(d.conn());
      }
      if (deviceId != null && !named) {
        return Future.failedFuture(new NoSuchDevice());
      }
      List<Future<Integer>> parts = new ArrayList<>();
      for (Map.Entry<String, List<String>> e : byNode.entrySet()) {
        JsonArray conns = new JsonArray(new ArrayList<Object>(e.getValue()));
        if (e.getKey().equals(nodeId)) {
          parts.add(Future.succeededFuture(local.direct(conns, frameJson)));
        } else {
          JsonObject cmd = new JsonObject().put("op", "direct").put("conns", conns).put("frame", frameJson);
          parts.add(vertx.eventBus().<JsonObject>request(Addresses.node(e.getKey()), cmd,
                  new DeliveryOptions().setSendTimeout(NODE_TIMEOUT_MS))
              .map(m -> m.body().getInteger("delivered", 0))
              .otherwise(0));
        }
      }
      return Future.all(parts).map(cf -> {
        int n = 0;
        for (int i = 0; i < cf.size(); i++) {
          n += cf.<Integer>resultAt(i);
        }
        return n;
      });
    });
  }

  /** The named device has no live connection. */
  public static final class NoSuchDevice extends RuntimeException {
    public NoSuchDevice() {
      super("device is not connected", null, false, false);
    }
  }
}
