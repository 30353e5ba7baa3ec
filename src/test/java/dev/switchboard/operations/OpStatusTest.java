package dev.switchboard.operations;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.WsClient;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** op.status and op.list report a running operation as it is now, from any node. */
@Cluster(nodes = 2)
class OpStatusTest {
  static Nodes nodes;

  @Test
  void statusAndListFollowEveryFrameOfARunningOperationFromEitherNode() {
    // c only follows the operation (a call on it would skip its frames); near and other ask
    try (WsClient c = nodes.client(0, "stat");
         WsClient near = nodes.client(0, "stat");
         WsClient other = nodes.client(1, "stat")) {
      // two operations, so that whichever node each runs on, both nodes ask locally and remotely;
      // long ones (cancelled after the checks), so that a slow machine never sees one end meanwhile
      for (int round = 0; round < 2; round++) {
        int id = c.request("demo.count", WsClient.params().put("to", 1000).put("interval_ms", 150 + round));
        String opId = null;
        int streams = 0;
        while (streams < 4) {
          JsonNode f = c.await(x -> x.path("id").asInt(-1) == id, Duration.ofSeconds(10));
          opId = f.get("op_id").asText();
          long seen = f.get("seq").asLong();
          if (!"stream".equals(f.get("type").asText())) {
            continue;
          }
          streams++;
          // asked after the client saw this frame: not behind it (the next one may already be out)
          for (WsClient asker : List.of(near, other)) {
            String op = opId;
            JsonNode s = asker.call("op.status", WsClient.params().put("op_id", op)).get("result");
            assertEquals("running", s.get("state").asText(), s.toString());
            assertEquals("running", s.get("stage").asText(), s.toString());
            assertTrue(s.get("seq").asLong() >= seen, "status seq " + s + " behind frame " + seen);
            JsonNode listed = null;
            for (JsonNode o : asker.call("op.list", null).at("/result/ops")) {
              listed = op.equals(o.get("op_id").asText()) ? o : listed;
            }
            assertTrue(listed != null, "listed while running");
            assertEquals("running", listed.get("state").asText(), listed.toString());
            assertTrue(listed.get("seq").asLong() >= seen, "list seq " + listed + " behind frame " + seen);
          }
        }
        String ended = opId;
        other.call("op.cancel", WsClient.params().put("op_id", ended));
        JsonNode end = c.await(x -> x.path("id").asInt(-1) == id && WsClient.isTerminal(x), Duration.ofSeconds(10));
        // after the terminal: its final state and seq, and no longer listed
        JsonNode s = other.call("op.status", WsClient.params().put("op_id", ended)).get("result");
        assertEquals("cancelled", s.get("state").asText(), s.toString());
        assertEquals(end.get("seq").asLong(), s.get("seq").asLong());
        for (JsonNode o : other.call("op.list", null).at("/result/ops")) {
          assertTrue(!ended.equals(o.get("op_id").asText()), "a finished operation is not listed");
        }
      }
    }
  }
}
