package dev.switchboard.routing;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.NodeContext;
import dev.switchboard.auth.TokenBucket;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.Frames;
import dev.switchboard.protocol.Request;
import dev.switchboard.protocol.SwitchboardException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Supplier;

/**
 * Turns one decoded inbound document into exactly one terminal frame: envelope, rate, method,
 * params, access, then the handler. Every failure on the way is an error frame with a stable code;
 * an unexpected exception is INTERNAL with a message that exposes nothing.
 */
public final class Dispatcher {
  private static final Logger LOG = LoggerFactory.getLogger(Dispatcher.class);

  private final NodeContext node;

  public Dispatcher(NodeContext node) {
    this.node = node;
  }

  /**
   * The message already took its token from the connection's request rate limit (see Requests).
   *
   * @param doc     the parsed message
   * @param refused the rate limit's refusal (the request is answered with it), or null
   * @param ids     generator of server-side ids for requests without one
   */
  public void dispatch(Client client, JsonNode doc, SwitchboardException refused, Supplier<JsonNode> ids) {
    Request request;
    try {
      request = Request.parse(doc, ids);
    } catch (Request.InvalidEnvelope e) {
      sendError(client, e.id(), refused != null ? refused : e);
      return;
    }
    ReplySink reply = new ReplySink(client, request.id());
    if (refused != null) {
      fail(reply, refused);
      return;
    }
    try {
      Method method = node.methods().get(request.method());
      if (method == null) {
        throw new SwitchboardException(ErrorCode.UNKNOWN_METHOD, "unknown method");
      }
      Params params = method.params().validate(request.params());
      node.policy().authorize(method, client.principal(), params);
      method.handle(new Call(request, params, client, node, reply));
    } catch (SwitchboardException e) {
      fail(reply, e);
    } catch (RuntimeException e) {
      // never the params (a payload): the method, who called it and the stack trace
      LOG.atError().addKeyValue("conn", client.connectionId()).addKeyValue("user", client.principal().userId())
          .addKeyValue("method", request.method()).setCause(e)
          .log("method {} failed on connection {}", request.method(), client.connectionId());
      fail(reply, new SwitchboardException(ErrorCode.INTERNAL, "internal error"));
    }
  }

  /** An error for a message that never became a request (bad size, bad document, bad envelope). */
  public void sendError(Client client, JsonNode id, SwitchboardException e) {
    node.metrics().error(e.code());
    client.send(Frames.error(id, e));
  }

  private void fail(ReplySink reply, SwitchboardException e) {
    if (reply.error(e)) {
      node.metrics().error(e.code());
    }
  }
}
