package dev.switchboard.transport;

import dev.switchboard.api.Scrape;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Http;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.SevereLog;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.transport.FuzzCases.Case;
import dev.switchboard.transport.FuzzCases.End;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile frame sequences against a real node (issue 11, fuzzing): fragmentation, control frames
 * between fragments, reserved bits, bad opcodes, unmasked frames, lying lengths, invalid UTF-8
 * split across fragments, close frames with bad codes or bodies, garbage envelopes, on many JSON
 * and CBOR connections at once (see {@link FuzzCases}). After each case the node owes exactly what
 * docs/protocol.md says, checked against what it sent; throughout, a well-behaved client keeps
 * getting answers and events ({@link FuzzWatchdog}); at the end no INTERNAL error, no 1011 and no
 * SEVERE log line. The seed is printed: {@code -Dfuzz.seed=N} replays a run (each worker's cases are
 * the same; their interleaving differs), {@code -Dfuzz.cases=N} sizes it.
 */
@Cluster(env = {
    // Small limits, so that cases reach them; rates out of the way, so that every answer is known.
    "SB_MAX_MESSAGE_BYTES=" + FuzzCases.SOFT, "SB_LIMITS_MAX_FRAME_BYTES=" + FuzzCases.HARD,
    "SB_RATE_PER_SEC=1000000", "SB_RATE_BURST=1000000", "SB_CONNECT_RATE_PER_IP=1000000"})
class FrameFuzzTest {
  static final long SEED = Long.getLong("fuzz.seed", System.nanoTime());
  static final int CASES = Integer.getInteger("fuzz.cases", 12_000);
  static final int WORKERS = 3;
  static final Set<Integer> MALFORMED_CODES = Set.of(1007, 1008, 1009);
  static final Set<String> CODES = Arrays.stream(ErrorCode.values()).map(Enum::name).collect(java.util.stream.Collectors.toSet());
  static Nodes nodes;

  /** Counts over the run, for the summary and the metrics check. */
  static final class Tally {
    final Map<String, LongAdder> kinds = new ConcurrentHashMap<>();
    final Map<Integer, LongAdder> closes = new ConcurrentHashMap<>();
    final Map<Integer, LongAdder> echoes = new ConcurrentHashMap<>();
    final LongAdder connections = new LongAdder();
    final LongAdder terminals = new LongAdder();
    final LongAdder pongs = new LongAdder();
    final AtomicInteger done = new AtomicInteger();
  }

  @Test
  void hostileFramesGetOnlyContractAnswersAndOtherClientsAreServedThroughout() throws Exception {
    System.out.printf("FrameFuzzTest: seed %d, %d cases on %d workers (replay: -Dfuzz.seed=%d -Dfuzz.cases=%d)%n",
        SEED, CASES, WORKERS, SEED, CASES);
    double internalBefore = Scrape.now(nodes.port(0), "sb_errors_total", "code=\"INTERNAL\"");
    double closes1011Before = Scrape.now(nodes.port(0), "sb_closes_total", "code=\"1011\"");
    Map<Integer, Double> malformedBefore = new TreeMap<>();
    for (int code : MALFORMED_CODES) {
      malformedBefore.put(code, Scrape.now(nodes.port(0), "sb_closes_total", "code=\"" + code + "\""));
    }
    Tally tally = new Tally();
    long t0 = System.nanoTime();
    try (SevereLog severe = SevereLog.install(); FuzzWatchdog watchdog = new FuzzWatchdog(nodes.vertx(), nodes.port(0))) {
      ExecutorService pool = Executors.newFixedThreadPool(WORKERS);
      List<Future<?>> workers = new ArrayList<>();
      for (int w = 0; w < WORKERS; w++) {
        int worker = w;
        int share = CASES / WORKERS + (w < CASES % WORKERS ? 1 : 0);
        workers.add(pool.submit(() -> {
          work(worker, share, tally, watchdog);
          return null;
        }));
      }
      pool.shutdown();
      try {
        for (Future<?> f : workers) {
          f.get(15, TimeUnit.MINUTES);
        }
      } catch (java.util.concurrent.ExecutionException e) {
        pool.shutdownNow();
        throw new AssertionError(e.getCause().getMessage() + "\n  (replay: -Dfuzz.seed=" + SEED + ")", e.getCause());
      }
      watchdog.close();
      assertTrue(watchdog.failure() == null, () -> "the well-behaved client was not served (seed " + SEED + "): "
          + watchdog.failure());
      System.out.printf("FrameFuzzTest: %d cases, %d connections, %d terminals, %d pongs in %d ms; watchdog %d rounds, "
              + "slowest %d ms%n  kinds %s%n  the node's close codes %s%n  client close codes echoed %s%n", tally.done.get(),
          tally.connections.sum(), tally.terminals.sum(), tally.pongs.sum(), (System.nanoTime() - t0) / 1_000_000, watchdog.rounds(),
          watchdog.slowestMs(), tally.kinds, tally.closes, tally.echoes);
      assertEquals(List.of(), severe.records(), "SEVERE log lines on the node (seed " + SEED + ")");
    }
    assertEquals(CASES, tally.done.get());
    assertEquals(internalBefore, Scrape.now(nodes.port(0), "sb_errors_total", "code=\"INTERNAL\""), 0.0, "INTERNAL errors");
    assertEquals(closes1011Before, Scrape.now(nodes.port(0), "sb_closes_total", "code=\"1011\""), 0.0, "1011 closes");
    for (int code : MALFORMED_CODES) {
      long seen = tally.closes.getOrDefault(code, new LongAdder()).sum();
      assertEquals(malformedBefore.get(code) + seen, Scrape.now(nodes.port(0), "sb_closes_total", "code=\"" + code + "\""), 0.0,
          "closes with " + code + " counted as seen");
    }
    assertEquals(200, Http.get(nodes.port(0), "/health/live").statusCode());
  }

  private static void work(int worker, int share, Tally tally, FuzzWatchdog watchdog) throws IOException {
    Random r = new Random(SEED * 31 + worker);
    String token = Tokens.user("fuzz-" + worker, "chat:*");
    int cases = 0;
    int connection = 0;
    while (cases < share) {
      if (watchdog.failure() != null) {
        throw new AssertionError("the well-behaved client failed: " + watchdog.failure(), watchdog.failure());
      }
      boolean cbor = r.nextBoolean();
      connection++;
      tally.connections.increment();
      try (FuzzConnection c = FuzzConnection.open(nodes.port(0), token, cbor, r)) {
        FuzzCases gen = new FuzzCases(r, cbor);
        while (cases < share) {
          Case k = gen.next();
          cases++;
          String where = String.format("seed %d, worker %d, connection %d (%s), case %d (%s, %d bytes)", SEED, worker,
              connection, cbor ? "CBOR" : "JSON", cases, k.kind, k.size());
          FuzzChecks.run(c, k, where, tally);
          tally.kinds.computeIfAbsent(k.kind, x -> new LongAdder()).increment();
          if (tally.done.incrementAndGet() % 100 == 0) {
            watchdog.tick();
          }
          if (k.end != End.OPEN) {
            break;
          }
        }
      }
    }
  }
}
