package dev.switchboard.cluster;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.protocol.CloseCode;
import dev.switchboard.protocol.Json;
import dev.switchboard.routing.Client;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * This node's connections by id, and the node's command address: other nodes close a connection
 * here (a newer device connection elsewhere, 4009) or deliver a direct frame to some of them.
 */
public final class LocalConnections {
  private final Map<String, Client> byId = new ConcurrentHashMap<>();
  /**
   * Connections registered in the device registry but not open yet (between the registration and
   * the 101), with the close asked for meanwhile (null: none): a newer connection of the same device
   * can already be replacing them, and that close must not be lost. Bounded by the upgrades in flight.
   */
  private final Map<String, java.util.Optional<CloseCode>> opening = new ConcurrentHashMap<>();
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

  /** A connection id about to be registered; {@link #add} or {@link #forget} ends it. */
  public void expect(String connectionId) {
    opening.put(connectionId, java.util.Optional.empty());
  }

  /** The upgrade of an expected connection did not complete. */
  public void forget(String connectionId) {
    opening.remove(connectionId);
  }

  /** Adds an open connection; returns the close asked for while it was opening (it should close now), or null. */
  public CloseCode add(Client c) {
    byId.put(c.connectionId(), c);
    java.util.Optional<CloseCode> asked = opening.remove(c.connectionId());
    return asked == null ? null : asked.orElse(null);
  }

  public void remove(Client c) {
    byId.remove(c.connectionId(), c);
  }

  public int size() {
    return byId.size();
  }

  public void close(String connectionId, CloseCode code) {
    if (connectionId == null) {
      return;
    }
    Client c = byId.get(connectionId);
    if (c != null) {
      c.close(code);
      return;
    }
    // still opening: remembered, and it closes as soon as it is open
    opening.computeIfPresent(connectionId, (id, asked) -> java.util.Optional.of(code));
    c = byId.get(connectionId); // opened meanwhile (add ran between the two reads)
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

  /** Whether this node still holds the connection. */
  public boolean holds(String connectionId) {
    return byId.containsKey(connectionId);
  }

  /** The device connections this node holds (see Directory#reassertDevices). */
  public List<Directory.Held> held() {
    List<Directory.Held> out = new java.util.ArrayList<>();
    for (Client c : byId.values()) {
      if (!c.isClosing()) {
        out.add(new Directory.Held(c.principal().userId(), c.deviceId(), c.connectionId()));
      }
    }
    return out;
  }

  /** The open connection with this id, or null. */
  public Client get(String connectionId) {
    return connectionId == null ? null : byId.get(connectionId);
  }

  /** This node's open connections of one user (a pass over the node's connections: for the admin API). */
  public List<Client> ofUser(String user) {
    List<Client> out = new java.util.ArrayList<>();
    for (Client c : byId.values()) {
      if (!c.isClosing() && c.principal().userId().equals(user)) {
        out.add(c);
      }
    }
    return out;
  }

  public Iterable<Client> all() {
    return byId.values();
  }
}
