package dev.switchboard.routing;

import dev.switchboard.NodeContext;
import dev.switchboard.protocol.Request;

/** One request being handled: what was asked, by whom, and the sink for its answer. */
public record Call(Request request, Params params, Client client, NodeContext node, ReplySink reply) {
}
