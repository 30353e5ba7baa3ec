package dev.switchboard.testsupport;

import com.hazelcast.core.HazelcastJsonValue;
import dev.switchboard.Node;
import dev.switchboard.cluster.Addresses;
import io.vertx.core.json.JsonObject;

import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reads resumable sessions as the cluster stores them (through any node's Hazelcast member). */
public final class StoredSessions {
  private StoredSessions() {
  }

  /** The session as stored now (null: none). */
  public static JsonObject get(Node via, String session) {
    HazelcastJsonValue v = via.context().cluster().getHazelcastInstance()
        .<String, HazelcastJsonValue>getMap(Addresses.SESSIONS).get(session);
    return v == null ? null : new JsonObject(v.getValue());
  }

  /** The acknowledged seq the session records for an operation (0: none, or not in the session). */
  public static long opSeq(Node via, String session, String opId) {
    JsonObject s = get(via, session);
    return s == null ? 0 : s.getJsonObject("ops", new JsonObject()).getJsonObject(opId, new JsonObject()).getLong("seq", 0L);
  }

  /** Waits (10 s at most) until the stored session matches. */
  public static JsonObject await(Node via, String session, Predicate<JsonObject> p) {
    long deadline = System.currentTimeMillis() + 10_000;
    JsonObject s = get(via, session);
    while (!p.test(s)) {
      assertTrue(System.currentTimeMillis() < deadline, "stored session never matched; last: " + s);
      java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
      s = get(via, session);
    }
    return s;
  }
}
