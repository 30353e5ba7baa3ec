package dev.switchboard.chaos;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Everything a chaos run observed, in memory and bounded: each client's {@link ClientLog}, every
 * {@link Publication}, every {@link OpFollow} and {@link OpInfo}, the faults injected, and the
 * findings of the live checks (cluster re-forming, presence, devices, what Hazelcast kept). The
 * {@link Checker} judges it after the run; nothing here judges.
 *
 * <p>Threads: each client log, publication and follow has one writer (its event loop); the shared
 * lists are synchronized; the checker reads after every writer has stopped.
 */
public final class Recorder {
  /** Client log rows across all clients (6 ints each: about 24 bytes). */
  static final long MAX_ROWS = 8_000_000;
  static final int MAX_PUBLICATIONS = 2_000_000;
  static final int MAX_FOLLOWS = 100_000;
  static final int MAX_NOTES = 10_000;

  /** One fault: its kind, when it started and ended (ms since the start of the run). */
  public record FaultRecord(String kind, int startedAt, int endedAt) {
  }

  /** Something a live check found wrong (it counts as a violation), or a harness-level fact worth reporting. */
  public record Finding(String category, int at, String text) {
  }

  /** An operation as its starter saw it, plus the cancels sent and the final {@code op.status}. */
  public static final class OpInfo {
    public final String opId;
    public final String user;
    public final int starter;
    public final String params;
    public final int startedAt;
    final List<String> cancels = Collections.synchronizedList(new ArrayList<>());
    volatile String statusState;
    volatile long statusSeq = -1;
    volatile String statusError;

    OpInfo(String opId, String user, int starter, String params, int startedAt) {
      this.opId = opId;
      this.user = user;
      this.starter = starter;
      this.params = params;
      this.startedAt = startedAt;
    }

    public List<String> cancels() {
      return cancels;
    }

    public String statusState() {
      return statusState;
    }

    public long statusSeq() {
      return statusSeq;
    }

    public String statusError() {
      return statusError;
    }
  }

  private final long startNanos = System.nanoTime();
  public final List<String> topics;
  private final List<ClientLog> clients = new ArrayList<>();
  private final Map<String, Integer> epochIds = new ConcurrentHashMap<>();
  private final List<String> epochNames = Collections.synchronizedList(new ArrayList<>());
  private final Map<Integer, Publication> publications = new ConcurrentHashMap<>();
  private final AtomicInteger nextPublication = new AtomicInteger(1);
  private final List<OpFollow> follows = Collections.synchronizedList(new ArrayList<>());
  private final Map<String, OpInfo> ops = new ConcurrentHashMap<>();
  private final List<FaultRecord> faults = Collections.synchronizedList(new ArrayList<>());
  private final List<String> faultLog = Collections.synchronizedList(new ArrayList<>());
  private final List<Finding> findings = Collections.synchronizedList(new ArrayList<>());
  private final AtomicLong rows = new AtomicLong();
  private volatile boolean truncated;
  /** Counters of harness-level happenings (reconnects, refused upgrades, retries): for the report. */
  private final Map<String, AtomicLong> counters = new ConcurrentHashMap<>();

  private final java.util.function.IntSupplier clock;

  /** Seconds of run the connect series covers (the longest run, --minutes 1440, and an hour of end checks). */
  static final int MAX_SECONDS = 86_400 + 3_600;
  /** Publish→receive latency buckets of 1 ms; the last one holds everything from its value up. */
  static final int LATENCY_BUCKETS = 60_001;
  /** Connections that reached {@code connected} (new or resumed), by second of the run. */
  private final java.util.concurrent.atomic.AtomicIntegerArray connects = new java.util.concurrent.atomic.AtomicIntegerArray(MAX_SECONDS);
  /**
   * Events received: their node's accept time ({@code ts}) to the client's reading, by [outside 0 /
   * during 1 faults][live 0 / catch-up 1]: live = published while the receiving connection was open,
   * catch-up = published before it opened (a resume's replay, a subscribe's since).
   */
  private final java.util.concurrent.atomic.AtomicLongArray[][] latencies = {
      {new java.util.concurrent.atomic.AtomicLongArray(LATENCY_BUCKETS), new java.util.concurrent.atomic.AtomicLongArray(LATENCY_BUCKETS)},
      {new java.util.concurrent.atomic.AtomicLongArray(LATENCY_BUCKETS), new java.util.concurrent.atomic.AtomicLongArray(LATENCY_BUCKETS)}};
  /** True from a fault's start until the cluster is whole again after it (set by the fault thread). */
  private volatile boolean inFault;

  public Recorder(List<String> topics) {
    this.topics = List.copyOf(topics);
    this.clock = () -> (int) ((System.nanoTime() - startNanos) / 1_000_000);
  }

  /** A recorder on a given clock (the checker's unit tests). */
  Recorder(List<String> topics, java.util.function.IntSupplier clock) {
    this.topics = List.copyOf(topics);
    this.clock = clock;
  }

  /** Milliseconds since the run started. */
  public int now() {
    return clock.getAsInt();
  }

  ClientLog client(String user, String device, int[] topicIndexes) {
    synchronized (clients) {
      ClientLog log = new ClientLog(this, clients.size(), user, device, topicIndexes);
      clients.add(log);
      return log;
    }
  }

  public List<ClientLog> clients() {
    synchronized (clients) {
      return List.copyOf(clients);
    }
  }

  boolean takeRow() {
    if (rows.incrementAndGet() > MAX_ROWS) {
      truncated = true;
      return false;
    }
    return true;
  }

  public boolean truncated() {
    return truncated;
  }

  /** The small number standing for an epoch string (epochs are few: one per topic and history loss). */
  public int epoch(String epoch) {
    if (epoch == null) {
      return -1;
    }
    return epochIds.computeIfAbsent(epoch, e -> {
      synchronized (epochNames) {
        epochNames.add(e);
        return epochNames.size() - 1;
      }
    });
  }

  public String epochName(int id) {
    return id < 0 ? "-" : epochNames.get(id);
  }

  /** A new publication (its id goes into the data); null when the bound is reached. */
  Publication publication(int topic, String source) {
    int id = nextPublication.getAndIncrement();
    if (id > MAX_PUBLICATIONS) {
      truncated = true;
      return null;
    }
    Publication p = new Publication(id, topic, source, now());
    publications.put(id, p);
    return p;
  }

  public Map<Integer, Publication> publications() {
    return publications;
  }

  OpFollow follow(int client, String opId, String how) {
    OpFollow f = new OpFollow(client, opId, how, now());
    if (follows.size() < MAX_FOLLOWS) {
      follows.add(f);
    } else {
      truncated = true;
    }
    return f;
  }

  public List<OpFollow> follows() {
    synchronized (follows) {
      return List.copyOf(follows);
    }
  }

  OpInfo op(String opId, String user, int starter, String params) {
    return ops.computeIfAbsent(opId, id -> new OpInfo(id, user, starter, params, now()));
  }

  public Map<String, OpInfo> ops() {
    return ops;
  }

  void fault(String kind, int startedAt) {
    faults.add(new FaultRecord(kind, startedAt, now()));
  }

  public List<FaultRecord> faults() {
    synchronized (faults) {
      return List.copyOf(faults);
    }
  }

  void faultNote(String text) {
    if (faultLog.size() < MAX_NOTES) {
      faultLog.add(String.format("%7.1fs %s", now() / 1000.0, text));
    }
  }

  public List<String> faultLog() {
    synchronized (faultLog) {
      return List.copyOf(faultLog);
    }
  }

  /** A violation found by a live check (category as in the figures), with what shows it. */
  void finding(String category, String text) {
    if (findings.size() < MAX_NOTES) {
      findings.add(new Finding(category, now(), text));
    }
  }

  public List<Finding> findings() {
    synchronized (findings) {
      return List.copyOf(findings);
    }
  }

  /** A fault started (true) or the cluster is whole again after it (false). */
  void faultWindow(boolean on) {
    inFault = on;
  }

  boolean inFault() {
    return inFault;
  }

  /** Connections made in each second of [fromMs, toMs) (for the report). */
  public int[] connects(int fromMs, int toMs) {
    int from = Math.max(0, fromMs / 1000);
    int to = Math.min(MAX_SECONDS, (toMs + 999) / 1000);
    int[] out = new int[Math.max(0, to - from)];
    for (int s = from; s < to; s++) {
      out[s - from] = connects.get(s);
    }
    return out;
  }

  /** A client's connection reached {@code connected} (a new session or a resumed one). */
  void connected() {
    int second = now() / 1000;
    if (second >= 0 && second < MAX_SECONDS) {
      connects.incrementAndGet(second);
    }
  }

  /** The most connections made in one second of the run within [fromMs, toMs), and that second: {count, second}. */
  public int[] peakConnects(int fromMs, int toMs) {
    int best = 0;
    int at = -1;
    for (int s = Math.max(0, fromMs / 1000); s < Math.min(MAX_SECONDS, (toMs + 999) / 1000); s++) {
      if (connects.get(s) > best) {
        best = connects.get(s);
        at = s;
      }
    }
    return new int[] {best, at};
  }

  /** An event read {@code ms} after its publication was accepted (the event's {@code ts}, same machine's clock). */
  void latency(long ms, boolean catchUp) {
    int b = (int) Math.max(0, Math.min(LATENCY_BUCKETS - 1, ms));
    latencies[inFault ? 1 : 0][catchUp ? 1 : 0].incrementAndGet(b);
  }

  /**
   * Publish→receive latency of the events read during faults (or outside them): {count, p50, p99, p999,
   * max} in ms (each quantile the upper bound of its 1 ms bucket; max 60000 means at least that).
   */
  public long[] latency(boolean duringFaults, boolean catchUp) {
    java.util.concurrent.atomic.AtomicLongArray h = latencies[duringFaults ? 1 : 0][catchUp ? 1 : 0];
    long n = 0;
    long max = 0;
    for (int i = 0; i < LATENCY_BUCKETS; i++) {
      long c = h.get(i);
      n += c;
      if (c > 0) {
        max = i;
      }
    }
    return new long[] {n, quantile(h, n, 0.5), quantile(h, n, 0.99), quantile(h, n, 0.999), max};
  }

  private static long quantile(java.util.concurrent.atomic.AtomicLongArray h, long n, double q) {
    if (n == 0) {
      return 0;
    }
    long rank = (long) Math.ceil(q * n);
    long seen = 0;
    for (int i = 0; i < LATENCY_BUCKETS; i++) {
      seen += h.get(i);
      if (seen >= rank) {
        return i;
      }
    }
    return LATENCY_BUCKETS - 1;
  }

  void count(String name) {
    counters.computeIfAbsent(name, k -> new AtomicLong()).incrementAndGet();
  }

  public Map<String, Long> counters() {
    Map<String, Long> out = new java.util.TreeMap<>();
    counters.forEach((k, v) -> out.put(k, v.get()));
    return out;
  }
}
