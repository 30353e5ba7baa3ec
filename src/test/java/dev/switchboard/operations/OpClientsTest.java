package dev.switchboard.operations;

import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.protocol.CloseCode;
import dev.switchboard.routing.Client;
import dev.switchboard.auth.Principal;
import dev.switchboard.routing.ReplySink;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * An operation's frames count for the connection's session only once the client acknowledged them
 * (the same ping/pong cycle as topic events), so a resume after a reset re-attaches before frames
 * the client never read.
 */
class OpClientsTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void down() {
    vertx.close();
  }

  /** A connection as the bookkeeping sees it: what was sent to it. */
  static final class Conn implements Client {
    final List<ObjectNode> sent = new ArrayList<>();

    @Override
    public String connectionId() {
      return "c_1";
    }

    @Override
    public String sessionId() {
      return "s_1";
    }

    @Override
    public String deviceId() {
      return "d_1";
    }

    @Override
    public Principal principal() {
      return null;
    }

    @Override
    public void principal(Principal principal) {
    }

    @Override
    public void send(ObjectNode frame) {
      sent.add(frame);
    }

    @Override
    public void close(CloseCode code) {
    }
  }

  private static JsonObject frame(String att, long seq) {
    return new JsonObject().put("att", new JsonArray().add(att)).put("frame", OpFrames.stream("op1", seq, seq));
  }

  private static long stored(OpClients clients, Client c) {
    return clients.sessionOps(c).getJsonObject("op1").getLong("seq");
  }

  @Test
  void framesWrittenCountForTheSessionOnlyOnceAcknowledged() {
    OpClients clients = new OpClients(vertx, "n1");
    Conn c = new Conn();
    clients.add("a1", "op1", c, new ReplySink(c, IntNode.valueOf(7)), false);
    clients.deliver(frame("a1", 1));
    clients.deliver(frame("a1", 2));
    assertEquals(2, c.sent.size());
    assertEquals(0, stored(clients, c), "written, not known to be read");
    assertTrue(clients.mark(c), "frames were written since the last mark");
    clients.deliver(frame("a1", 3)); // after the ping
    assertTrue(clients.acknowledged(c));
    assertEquals(2, stored(clients, c), "what was written before the acknowledged ping");
    assertFalse(clients.acknowledged(c), "an answer counts once");
    clients.allWrittenReceived(c);
    assertEquals(3, stored(clients, c), "a clean end: everything written counts");
    assertTrue(clients.mark(c));
    assertFalse(clients.mark(c), "nothing written since");
  }

  @Test
  void aConnectionSeesOnlyItsOwnAttachmentsAndLosesThemWhenItCloses() {
    OpClients clients = new OpClients(vertx, "n1");
    Conn c = new Conn();
    Conn other = new Conn();
    clients.add("a1", "op1", c, new ReplySink(c, IntNode.valueOf(1)), false);
    clients.add("a2", "op2", other, new ReplySink(other, IntNode.valueOf(2)), false);
    assertEquals(1, clients.countFor(c));
    assertEquals(1, clients.sessionOps(c).size());
    clients.closed(c);
    assertEquals(0, clients.countFor(c));
    assertEquals(1, clients.countFor(other));
  }

  @Test
  void aWrittenTerminalStaysInTheSessionUntilTheClientAcknowledgedIt() {
    OpClients clients = new OpClients(vertx, "n1");
    Conn c = new Conn();
    clients.add("a1", "op1", c, new ReplySink(c, IntNode.valueOf(7)), false);
    clients.deliver(frame("a1", 1));
    clients.deliver(new JsonObject().put("att", new JsonArray().add("a1"))
        .put("frame", OpFrames.result("op1", 2, new JsonObject().put("count", 1))));
    assertEquals(2, c.sent.size());
    assertEquals(0, clients.countFor(c), "an ended operation no longer counts against the connection's limit");
    assertEquals(0, stored(clients, c), "written, not known to be read: a resume replays it");
    assertTrue(clients.mark(c));
    assertTrue(clients.acknowledged(c));
    assertFalse(clients.sessionOps(c).containsKey("op1"), "an acknowledged terminal ends it for the session");
  }

  @Test
  void aFrameAlreadyWrittenIsNotWrittenAgainAndNothingFollowsTheTerminal() {
    OpClients clients = new OpClients(vertx, "n1");
    Conn c = new Conn();
    clients.add("a1", "op1", c, new ReplySink(c, IntNode.valueOf(7)), false);
    clients.deliver(frame("a1", 1));
    clients.deliver(frame("a1", 2));
    clients.deliver(frame("a1", 1)); // a worker's resend
    clients.deliver(frame("a1", 2));
    assertEquals(2, c.sent.size());
    clients.memberLost("m1"); // not its worker's member: nothing
    Attachment a = clients.add("a2", "op2", c, new ReplySink(c, IntNode.valueOf(8)), false);
    a.workerMember = "m1";
    clients.memberLost("m1");
    ObjectNode lost = c.sent.get(2);
    assertEquals("NODE_LOST", lost.at("/error/code").asText());
    assertEquals("op2", lost.get("op_id").asText());
    assertEquals("NODE_LOST", clients.sessionOps(c).getJsonObject("op2").getJsonObject("end").getJsonObject("error")
        .getString("code"), "kept for the session as sent, until acknowledged");
    clients.deliver(new JsonObject().put("att", new JsonArray().add("a2")).put("frame", OpFrames.stream("op2", 5, 5)));
    assertEquals(3, c.sent.size(), "nothing after the terminal");
  }

  @Test
  void twoRequestsFollowingOneOperationAreKeptApartAndEndedOnesAreBounded() {
    OpClients clients = new OpClients(vertx, "n1");
    Conn c = new Conn();
    clients.add("a1", "op1", c, new ReplySink(c, IntNode.valueOf(1)), false);
    clients.add("a2", "op1", c, new ReplySink(c, IntNode.valueOf(2)), true);
    JsonObject ops = clients.sessionOps(c);
    assertEquals(2, ops.size(), ops.toString());
    // one under op1, the other under op1/<its attachment> (which one is which does not matter: a
    // resume reads the op id before the slash), each with its own request id
    assertTrue(ops.containsKey("op1") && (ops.containsKey("op1/a1") || ops.containsKey("op1/a2")), ops.toString());
    assertEquals(java.util.Set.of(1L, 2L), ops.fieldNames().stream().map(k -> ops.getJsonObject(k).getLong("id"))
        .collect(java.util.stream.Collectors.toSet()));
    Conn d = new Conn();
    for (int i = 0; i <= OpClients.MAX_ENDED_KEPT; i++) {
      clients.add("e" + i, "op" + i, d, new ReplySink(d, IntNode.valueOf(i)), false);
      clients.deliver(new JsonObject().put("att", new JsonArray().add("e" + i))
          .put("frame", OpFrames.result("op" + i, 1, new JsonObject())));
    }
    assertEquals(OpClients.MAX_ENDED_KEPT, clients.sessionOps(d).size(), "a client that never acknowledges: bounded");
    assertFalse(clients.sessionOps(d).containsKey("op0"), "the oldest went first");
  }
}
