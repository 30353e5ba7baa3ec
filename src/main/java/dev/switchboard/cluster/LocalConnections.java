package dev.switchboard.cluster;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.protocol.CloseCode;
import dev.switchboard.protocol.Json;
import dev.switchboard.routing.Client;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * This node's connections by id, and the node's command address: other nodes close a connection
 * here (a newer device connection elsewhere, 4009) or deliver a direct frame to some of them.
 */
public final class LocalConnections {
  private final Map<String, Client> byId = new ConcurrentHashMap<>();
  private final MessageConsumer<JsonObject> consumer;

  public LocalConnections(Vertx vertx, String nodeId) {
    this.consumer = vertx.eventBus().consumer(Addresses.node(nodeId), m -> {
      JsonObject cmd = m.body();
      switch (cmd.getString("op", "")) {
        case "close" -> close(cmd.getString("conn"), CloseCode.REPLACED);
        case "direct" -> m.reply(new JsonObject().put("delivered", direct(cmd.getJsonArray("conns"), cmd.getString("frame"))));
        default -> m.fail(400, "unknown op");
      }
    });
  }

  public io.vertx.core.Future<Void> ready() {
    return consumer.completion();
  }

  public void add(Client c) {
    byId.put(c.connectionId(), c);
  }

  public void remove(Client c) {
    byId.remove(c.connectionId(), c);
  }

  public int size() {
    return byId.size();
  }

  public void close(String connectionId, CloseCode code) {
    Client c = connectionId == null ? null : byId.get(connectionId);
    if (c != null) {
      c.close(code);
    }
  }

  /** Sends a frame (JSON text) to the listed local connections; returns how many were here. */
  public int direct(JsonArray conns, String frameJson) {
    if (conns == null || frameJson == null) {
      return 0;
    }
    ObjectNode frame;
    try {
      frame = (ObjectNode) Json.MAPPER.readTree(frameJson);
    } catch (Exception e) {
      return 0;
    }
    int n = 0;
    for (Object id : conns) {
      Client c = byId.get(String.valueOf(id));
      if (c != null) {
        c.send(frame.deepCopy());
        n++;
      }
    }
    return n;
  }

  public Iterable<Client> all() {
    return byId.values();
  }
}
