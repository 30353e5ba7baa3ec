package dev.switchboard.operations;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastJsonValue;
import com.hazelcast.map.IMap;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The registry's rule between a worker's writes and a survivor's "lost" verdict, on a real
 * Hazelcast member (loopback, its own cluster name): whichever lands first wins, and the entry
 * never says "done" to op.status after the clients were told NODE_LOST, nor "lost" over a final one.
 */
class OpProcessorsTest {
  static HazelcastInstance hz;
  static IMap<String, HazelcastJsonValue> ops;

  @BeforeAll
  static void up() {
    Config c = dev.switchboard.testsupport.LoopbackMember.config("ops-proc");
    hz = Hazelcast.newHazelcastInstance(OpProcessors.register(c));
    ops = hz.getMap("ops-proc-test");
  }

  @AfterAll
  static void down() {
    hz.shutdown();
  }

  private static String op(String id, String state, long seq) {
    return new JsonObject().put("op_id", id).put("state", state).put("seq", seq).put("node", "n1").encode();
  }

  private static JsonObject get(String id) {
    HazelcastJsonValue v = ops.get(id);
    return v == null ? null : new JsonObject(v.getValue());
  }

  @Test
  void aLateWorkerWriteDoesNotUndoALostVerdict() {
    assertTrue(ops.executeOnKey("a", new OpProcessors.Write(op("a", "running", 3), 0)));
    JsonObject marked = new JsonObject(ops.executeOnKey("a", new OpProcessors.MarkLost(null, 60_000)));
    assertEquals("error", marked.getString("state"));
    assertTrue(marked.getBoolean("lost"));
    assertFalse(ops.executeOnKey("a", new OpProcessors.Write(op("a", "done", 4), 60_000)),
        "the dead worker's final write, landing after the verdict");
    assertEquals("error", get("a").getString("state"));
  }

  @Test
  void aFinalEntryThatLandedFirstIsWhatTheVerdictReturns() {
    ops.executeOnKey("b", new OpProcessors.Write(op("b", "done", 9), 60_000));
    JsonObject marked = new JsonObject(ops.executeOnKey("b", new OpProcessors.MarkLost(null, 60_000)));
    assertEquals("done", marked.getString("state"));
    assertFalse(marked.getBoolean("lost", false));
    assertEquals("done", get("b").getString("state"));
  }

  @Test
  void anOperationNeverRecordedIsRecordedAsLostOnlyWhenTheStarterSaysWhatItWas() {
    assertNull(ops.executeOnKey("c", new OpProcessors.MarkLost(null, 60_000)));
    assertNull(get("c"));
    String absent = OpRegistry.lostEntry("c", "u1", "demo.count", "u:u1|k", 0, "n2", "m2").encode();
    JsonObject marked = new JsonObject(ops.executeOnKey("c", new OpProcessors.MarkLost(absent, 60_000)));
    assertTrue(marked.getBoolean("lost"));
    assertEquals("u1", get("c").getString("user"));
    assertEquals("n2", get("c").getString("node"), "op.status needs the node to know the operation");
  }
}
