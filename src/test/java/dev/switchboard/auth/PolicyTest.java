package dev.switchboard.auth;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.switchboard.config.SwitchboardConfig.HttpOptions;
import dev.switchboard.config.SwitchboardConfig.LimitsOptions;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.protocol.SwitchboardException;
import dev.switchboard.routing.Call;
import dev.switchboard.routing.Method;
import dev.switchboard.routing.ParamSchema;
import dev.switchboard.routing.Params;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Policy on its own, no node: each gate of the upgrade and of a request, in the order it checks them. */
class PolicyTest {
  static final String IP = "192.0.2.1";
  static final Params NO_PARAMS = ParamSchema.OPEN.validate(JsonNodeFactory.instance.objectNode());

  /** Limits with the fields a test sets; the rest generous. */
  static LimitsOptions limits(int maxConnections, int perUser, int connectRatePerIp, int ratePerSec, int rateBurst) {
    return new LimitsOptions(65536, 1 << 20, 32, 25_000, 60_000, maxConnections, perUser, connectRatePerIp,
        ratePerSec, rateBurst, 20, 100, 1 << 20, 30_000, 100);
  }

  static Policy policy(LimitsOptions limits, List<String> origins, AtomicBoolean draining, AtomicBoolean minority,
                       AtomicInteger connections) {
    return new Policy(limits, new HttpOptions("127.0.0.1", 0, origins, 1), draining::get, minority::get, connections);
  }

  static Policy policy(LimitsOptions limits) {
    return policy(limits, List.of(), new AtomicBoolean(), new AtomicBoolean(), new AtomicInteger());
  }

  static Principal user(String id, String... roles) {
    return new Principal(id, null, Set.of(roles), List.of(), List.of(), Long.MAX_VALUE, false);
  }

  static Method method(Access access) {
    return new Method() {
      @Override
      public String name() {
        return "test.method";
      }

      @Override
      public ParamSchema params() {
        return ParamSchema.OPEN;
      }

      @Override
      public Access access() {
        return access;
      }

      @Override
      public void handle(Call call) {
        throw new AssertionError("not called here");
      }
    };
  }

  @Test
  void drainingAndMinorityRefuseEveryUpgradeWith503BeforeAnyOtherGate() {
    AtomicBoolean draining = new AtomicBoolean(true);
    AtomicBoolean minority = new AtomicBoolean();
    AtomicInteger connections = new AtomicInteger();
    Policy p = policy(limits(10, 10, 100, 100, 100), List.of("https://ok"), draining, minority, connections);
    Rejection r = p.admitUpgrade(IP, "https://bad", false);
    assertEquals(503, r.status());
    assertEquals(ErrorCode.UNAVAILABLE, r.code());
    draining.set(false);
    minority.set(true);
    r = p.admitUpgrade(IP, "https://bad", false);
    assertEquals(503, r.status());
    assertEquals(ErrorCode.UNAVAILABLE, r.code());
    assertEquals(0, connections.get(), "a refused upgrade reserves no slot");
    minority.set(false);
    assertNull(p.admitUpgrade(IP, "https://ok", false));
    assertEquals(1, connections.get());
  }

  @Test
  void anOriginOutsideTheListIsForbiddenAndNoOriginOrNoListPasses() {
    Policy listed = policy(limits(10, 10, 100, 100, 100), List.of("https://a", "https://b"), new AtomicBoolean(),
        new AtomicBoolean(), new AtomicInteger());
    Rejection r = listed.admitUpgrade(IP, "https://c", false);
    assertEquals(403, r.status());
    assertEquals(ErrorCode.FORBIDDEN, r.code());
    assertNull(listed.admitUpgrade(IP, "https://b", false));
    assertNull(listed.admitUpgrade(IP, null, false), "no Origin header: not a browser, not refused");
    assertNull(policy(limits(10, 10, 100, 100, 100)).admitUpgrade(IP, "https://c", false), "no list: any origin");
  }

  @Test
  void theNodeCapRefusesPastItAndAReleasedSlotIsFreeAgain() {
    AtomicInteger connections = new AtomicInteger();
    Policy p = policy(limits(2, 10, 100, 100, 100), List.of(), new AtomicBoolean(), new AtomicBoolean(), connections);
    assertNull(p.admitUpgrade(IP, null, false));
    assertNull(p.admitUpgrade(IP, null, false));
    Rejection r = p.admitUpgrade(IP, null, false);
    assertEquals(503, r.status());
    assertEquals(ErrorCode.UNAVAILABLE, r.code());
    assertEquals(2, connections.get(), "the refused one gave its slot back");
    p.releaseConnection();
    assertNull(p.admitUpgrade(IP, null, false));
  }

  @Test
  void theConnectRateIsPerIpWithRetryAfterAndSparesTheNodesOwnWarmUp() {
    Policy p = policy(limits(100, 100, 2, 100, 100));
    assertNull(p.admitUpgrade(IP, null, false));
    assertNull(p.admitUpgrade(IP, null, false));
    Rejection r = p.admitUpgrade(IP, null, false);
    assertEquals(429, r.status());
    assertEquals(ErrorCode.RATE_LIMITED, r.code());
    assertTrue(r.retryAfterSeconds() >= 1, "Retry-After in whole seconds: " + r);
    assertNull(p.admitUpgrade("192.0.2.2", null, false), "another address has its own bucket");
    assertNull(p.admitUpgrade(IP, null, true), "the node's own warm-up is not charged");
  }

  @Test
  void theUserCapCountsPerUserAndReleasesOneAtATime() {
    Policy p = policy(limits(100, 2, 100, 100, 100));
    assertNull(p.admitUser("alice"));
    assertNull(p.admitUser("alice"));
    Rejection r = p.admitUser("alice");
    assertEquals(429, r.status());
    assertEquals(ErrorCode.RATE_LIMITED, r.code());
    assertNull(p.admitUser("bob"), "bob's count is his own");
    p.releaseUser("alice");
    assertNull(p.admitUser("alice"));
    assertNotNull(p.admitUser("alice"));
    p.releaseUser("alice");
    p.releaseUser("alice");
    p.releaseUser("alice"); // one more release than reservations: never below zero
    assertNull(p.admitUser("alice"));
    assertNull(p.admitUser("alice"));
    assertNotNull(p.admitUser("alice"));
  }

  @Test
  void requestsPastTheBurstAreRateLimitedWithTheWait() {
    Policy p = policy(limits(100, 100, 100, 1, 3));
    TokenBucket bucket = p.requestBucket();
    for (int i = 0; i < 3; i++) {
      p.admitRequest(bucket);
    }
    SwitchboardException e = assertThrows(SwitchboardException.class, () -> p.admitRequest(bucket));
    assertEquals(ErrorCode.RATE_LIMITED, e.code());
    assertTrue(e.retryAfterMs() > 0 && e.retryAfterMs() <= 1000, "retry after " + e.retryAfterMs());
    p.admitRequest(p.requestBucket()); // each connection has its own bucket
  }

  @Test
  void aMethodWithoutARuleOrWhoseRuleDeniesIsForbidden() {
    Policy p = policy(limits(100, 100, 100, 100, 100));
    SwitchboardException none = assertThrows(SwitchboardException.class,
        () -> p.authorize(method(null), user("alice"), NO_PARAMS));
    assertEquals(ErrorCode.FORBIDDEN, none.code());
    SwitchboardException denied = assertThrows(SwitchboardException.class,
        () -> p.authorize(method(Access.role("service")), user("alice"), NO_PARAMS));
    assertEquals(ErrorCode.FORBIDDEN, denied.code());
    assertEquals("role service required", denied.getMessage());
    p.authorize(method(Access.role("service")), user("svc", "service"), NO_PARAMS);
    p.authorize(method(Access.role("service")), user("root", Principal.ROLE_ADMIN), NO_PARAMS);
    p.authorize(method(Access.CONNECTED), Principal.anonymous("anon"), NO_PARAMS);
  }

  @Test
  void aSweepDropsOnlyTheBucketsThatAreFullAgain() {
    Policy p = policy(limits(100, 100, 1, 100, 100));
    assertNull(p.admitUpgrade(IP, null, false));
    p.sweep(); // IP's bucket is empty: kept, so the next attempt is still refused
    assertEquals(429, p.admitUpgrade(IP, null, false).status());
  }
}
