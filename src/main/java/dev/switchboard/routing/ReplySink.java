package dev.switchboard.routing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.protocol.Frames;
import dev.switchboard.protocol.SwitchboardException;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The one way a request is answered. The first terminal frame wins; any later terminal or
 * non-terminal frame is dropped, so a request can never get two terminals whatever races
 * (handler against timeout, cancel against completion, failure against success).
 */
public final class ReplySink {
  private final Client client;
  private final JsonNode id;
  private final AtomicBoolean done = new AtomicBoolean();

  public ReplySink(Client client, JsonNode id) {
    this.client = client;
    this.id = id;
  }

  public JsonNode id() {
    return id;
  }

  public boolean done() {
    return done.get();
  }

  public boolean result(JsonNode result) {
    if (!done.compareAndSet(false, true)) {
      return false;
    }
    client.send(Frames.result(id, result));
    return true;
  }

  public boolean error(SwitchboardException e) {
    if (!done.compareAndSet(false, true)) {
      return false;
    }
    client.send(Frames.error(id, e));
    return true;
  }

  /** A terminal frame built by the caller (e.g. an operation's result carrying op_id and seq). */
  public boolean terminal(ObjectNode frame) {
    if (!done.compareAndSet(false, true)) {
      return false;
    }
    client.send(frame);
    return true;
  }

  /** A non-terminal frame (progress, stream); dropped once the request has ended. */
  public boolean frame(ObjectNode frame) {
    if (done.get()) {
      return false;
    }
    client.send(frame);
    return true;
  }
}
