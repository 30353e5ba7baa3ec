package dev.switchboard.operations;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.core.HazelcastJsonValue;
import com.hazelcast.map.IMap;
import dev.switchboard.cluster.Addresses;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The claim sweep frees the dedupe keys nobody else will, on a real Hazelcast member (loopback, its
 * own cluster name): a claim of an operation the registry keeps as final, and a claim older than the
 * staleness bound whose operation the registry never heard of (its starting node died between the
 * claim and the send). A running operation's claim, and a fresh claim whose start may still be in
 * flight, stay.
 */
class OpClaimSweepTest {
  static final long STALE_MS = 1_000;
  static HazelcastInstance hz;
  static Vertx vertx;

  @BeforeAll
  static void up() {
    Config c = dev.switchboard.testsupport.LoopbackMember.config("claim-sweep");
    hz = Hazelcast.newHazelcastInstance(dev.switchboard.HazelcastSetup.dedupeConfig(OpProcessors.register(c)));
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void down() {
    hz.shutdown();
    vertx.close();
  }

  private static HazelcastJsonValue op(String id, String state) {
    return new HazelcastJsonValue(new JsonObject().put("op_id", id).put("state", state).put("seq", 3)
        .put("node", "n1").encode());
  }

  @Test
  void freesFinalAndStaleUnrecordedClaimsAndKeepsRunningAndFreshOnes() throws Exception {
    IMap<String, String> dedupe = hz.getMap(Addresses.OP_DEDUPE);
    IMap<String, HazelcastJsonValue> ops = hz.getMap(Addresses.OPS);
    dedupe.put("k-unrecorded", "op_a");
    dedupe.put("k-final", "op_b");
    ops.put("op_b", op("op_b", "done"));
    dedupe.put("k-running", "op_c");
    ops.put("op_c", op("op_c", "running"));
    long oldest = dedupe.getEntryView("k-unrecorded").getCreationTime();
    // the claims above age past the bound (the bound is time itself: nothing to await but the clock)
    long wait = oldest + STALE_MS + 50 - System.currentTimeMillis();
    if (wait > 0) {
      Thread.sleep(wait);
    }
    dedupe.put("k-fresh", "op_d"); // a start just claimed, not yet recorded
    OpRegistry registry = new OpRegistry(vertx, hz, 60_000, STALE_MS);
    int freed = registry.sweepClaims().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(2, freed);
    assertEquals(Set.of("k-running", "k-fresh"), dedupe.keySet());
    assertTrue(ops.containsKey("op_c"), "the sweep writes no operation entry");
  }
}
