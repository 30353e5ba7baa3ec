package dev.switchboard.operations;

import dev.switchboard.routing.Client;
import dev.switchboard.routing.ReplySink;
import io.vertx.core.json.JsonObject;

/**
 * One request following one operation on a client's node (see {@link OpClients}): its positions
 * and end are confined to its connection's event loop; where the operation runs is read from any
 * thread (membership events).
 */
final class Attachment {
  final String att;
  final String opId;
  final Client client;
  final ReplySink sink;
  boolean deduplicatedFirst;
  volatile String workerNode;
  volatile String workerMember;
  /** The last frame written to the client. */
  long lastSeq;
  /**
   * The last frame the client is known to have read (its session's position): frames count once
   * acknowledged, like topic events (the connection's ping after them, and its pong), so a resume
   * after a reset re-attaches before frames the client never read rather than after them.
   */
  long ackedSeq;
  /** What {@link #lastSeq} was when the connection last asked for an acknowledgement. */
  long markedSeq;
  /** The seq of the terminal written to the client; 0 while it follows the operation. */
  long endSeq;
  /**
   * A terminal this node made (NODE_LOST, a failed start or attach), without the request id: a
   * resume before the client acknowledged it gives the very same one again.
   */
  JsonObject ownEnd;
  /** When it ended, among this node's attachments (the oldest ended ones go first past the bound). */
  long endOrder;
  /** A resumed session's operation whose start was in flight: no worker known yet. */
  boolean starting;
  /**
   * Set on the attachment of the request that started the operation (null on attaches): its method
   * and dedupe key, for the registry entry this node writes when the worker leaves before writing one.
   */
  volatile String startedMethod;
  volatile String startedDedupe;

  Attachment(String att, String opId, Client client, ReplySink sink, boolean deduplicated) {
    this.att = att;
    this.opId = opId;
    this.client = client;
    this.sink = sink;
    this.deduplicatedFirst = deduplicated;
  }

  boolean ended() {
    return endSeq > 0;
  }
}
