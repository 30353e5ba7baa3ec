package dev.switchboard.chaos;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one soak run does ({@link SoakRun}), every figure bounded. Parsed from {@code --name value}
 * arguments ({@link #USAGE}); the defaults are the 30-minute run of docs/performance.md, sized so
 * that two nodes, the load generator and the sampler share a 2-core machine with room to spare.
 * Ranges are written {@code A-B} (a value drawn uniformly in between).
 */
public record SoakOptions(
    double minutes,
    long seed,
    int clients,
    int topics,
    int topicsMin,
    int topicsMax,
    double lifeMinS,
    double lifeMaxS,
    double actionMinS,
    double actionMaxS,
    int publishRate,
    int opsPerMinute,
    int opUsers,
    double primesShare,
    double dropEveryS,
    double sampleS,
    int sessionTtlS,
    int opRetentionS,
    double thresholdPctPerHour,
    double freshTopicsPerMinute) {

  public static final String USAGE = """
      SoakRun [--minutes 30] [--seed S] [--clients 200] [--topics 300] [--topics-per-client 2-8]
              [--life 20-90] [--action-gap 2-6] [--publish-rate 30] [--ops-per-minute 40] [--op-users 10]
              [--primes 0.3] [--drop-every 20] [--sample 30] [--session-ttl 0] [--op-retention 0]
              [--threshold 10] [--fresh-topics 0]
        --minutes N          how long the load runs (the end checks follow: up to the session
                             time-to-live and the operation retention, plus a minute)
        --clients N          clients that come and go (connect, subscribe/unsubscribe, leave, come back)
        --topics N           the topic pool: two thirds chat:sK (presence, join/leave), a third news:sK
        --topics-per-client  how many topics a new session subscribes to (A-B)
        --life A-B           seconds a connection lives before its client leaves: 1000 close (40 %%),
                             reset or FIN then resume (40 %%), reset or FIN then a new session (20 %%)
        --action-gap A-B     seconds between a connected client's actions (subscribe, unsubscribe,
                             presence, history, publish)
        --publish-rate R     publications per second of the 3 publishers (2 WebSocket, 1 HTTP)
        --ops-per-minute N   operations started per minute from the operation users' devices
        --op-users N         users of two devices, device a kept on node 1 and b on node 2 (so that
                             every attach comes from the other node)
        --primes X           the share (0..1) of operations that are demo.primes (the rest demo.count)
        --drop-every S       every S seconds one operation user's connection is dropped (reset or
                             FIN) and resumed (0: never)
        --sample S           seconds between samples (each: a full GC on each node, then its heap)
        --session-ttl S      the nodes' session.ttl_ms in seconds (0: the node default, 120)
        --op-retention S     the nodes' ops.retention_ms in seconds (0: the node default, 300)
        --threshold P        a series grows when its fitted slope exceeds P %% of its mean per hour
        --fresh-topics N     N publications a minute (HTTP) each to a topic never used before
                             (chat:fK): what a topic's history costs once nobody uses it
      """;

  public static SoakOptions defaults() {
    return new SoakOptions(30, System.nanoTime() & 0xffff_ffffL, 200, 300, 2, 8, 20, 90, 2, 6, 30, 40, 10, 0.3,
        20, 30, 0, 0, 10, 0);
  }

  public static SoakOptions parse(String[] args) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--")) {
        throw new IllegalArgumentException("unexpected argument '" + a + "'\n" + usage());
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(a + " needs a value\n" + usage());
      }
      m.put(a.substring(2), args[++i]);
    }
    return from(m);
  }

  /** Options from a map of option names (without the dashes) to values; unknown names are refused. */
  public static SoakOptions from(Map<String, String> m) {
    SoakOptions d = defaults();
    double minutes = d.minutes;
    long seed = d.seed;
    int clients = d.clients;
    int topics = d.topics;
    double[] perClient = {d.topicsMin, d.topicsMax};
    double[] life = {d.lifeMinS, d.lifeMaxS};
    double[] action = {d.actionMinS, d.actionMaxS};
    int rate = d.publishRate;
    int opsPerMinute = d.opsPerMinute;
    int opUsers = d.opUsers;
    double primes = d.primesShare;
    double dropEvery = d.dropEveryS;
    double sample = d.sampleS;
    int ttl = d.sessionTtlS;
    int retention = d.opRetentionS;
    double threshold = d.thresholdPctPerHour;
    double fresh = d.freshTopicsPerMinute;
    for (Map.Entry<String, String> e : m.entrySet()) {
      String v = e.getValue();
      try {
        switch (e.getKey()) {
          case "minutes" -> minutes = Double.parseDouble(v);
          case "seed" -> seed = Long.parseLong(v);
          case "clients" -> clients = Integer.parseInt(v);
          case "topics" -> topics = Integer.parseInt(v);
          case "topics-per-client" -> perClient = range(v);
          case "life" -> life = range(v);
          case "action-gap" -> action = range(v);
          case "publish-rate" -> rate = Integer.parseInt(v);
          case "ops-per-minute" -> opsPerMinute = Integer.parseInt(v);
          case "op-users" -> opUsers = Integer.parseInt(v);
          case "primes" -> primes = Double.parseDouble(v);
          case "drop-every" -> dropEvery = Double.parseDouble(v);
          case "sample" -> sample = Double.parseDouble(v);
          case "session-ttl" -> ttl = Integer.parseInt(v);
          case "op-retention" -> retention = Integer.parseInt(v);
          case "threshold" -> threshold = Double.parseDouble(v);
          case "fresh-topics" -> fresh = Double.parseDouble(v);
          default -> throw new IllegalArgumentException("unknown option --" + e.getKey() + "\n" + usage());
        }
      } catch (NumberFormatException | ArrayIndexOutOfBoundsException bad) {
        throw new IllegalArgumentException("--" + e.getKey() + " " + v + ": not a number or range\n" + usage());
      }
    }
    SoakOptions o = new SoakOptions(minutes, seed, clients, topics, (int) perClient[0], (int) perClient[1], life[0],
        life[1], action[0], action[1], rate, opsPerMinute, opUsers, primes, dropEvery, sample, ttl, retention,
        threshold, fresh);
    o.validate();
    return o;
  }

  private static double[] range(String v) {
    String[] ab = v.split("-");
    double a = Double.parseDouble(ab[0]);
    return new double[] {a, ab.length > 1 ? Double.parseDouble(ab[1]) : a};
  }

  void validate() {
    require(minutes > 0 && minutes <= 24 * 60, "--minutes must be in (0, 1440]");
    require(clients >= 0 && clients <= 5000, "--clients must be 0..5000");
    require(topics >= 3 && topics <= 5000, "--topics must be 3..5000");
    require(topicsMin >= 1 && topicsMax >= topicsMin && topicsMax <= Math.min(topics, 1000),
        "--topics-per-client A-B needs 1 <= A <= B <= min(topics, 1000)");
    require(lifeMinS >= 1 && lifeMaxS >= lifeMinS, "--life A-B needs 1 <= A <= B");
    require(actionMinS >= 0.1 && actionMaxS >= actionMinS, "--action-gap A-B needs 0.1 <= A <= B");
    require(publishRate >= 0 && publishRate <= 5000, "--publish-rate must be 0..5000");
    require(opsPerMinute >= 0 && opsPerMinute <= 6000, "--ops-per-minute must be 0..6000");
    require(opUsers >= 0 && opUsers <= 500 && (opsPerMinute == 0 || opUsers >= 1),
        "--op-users must be 0..500 (at least 1 with operations)");
    require(primesShare >= 0 && primesShare <= 1, "--primes must be in [0, 1]");
    require(dropEveryS == 0 || dropEveryS >= 1, "--drop-every must be 0 or at least 1");
    require(sampleS >= 2 && sampleS <= 3600, "--sample must be 2..3600");
    require(sessionTtlS >= 0 && opRetentionS >= 0, "--session-ttl and --op-retention must be >= 0");
    require(thresholdPctPerHour > 0, "--threshold must be > 0");
    require(freshTopicsPerMinute >= 0 && freshTopicsPerMinute <= 6000, "--fresh-topics must be 0..6000");
  }

  long durationMs() {
    return Math.round(minutes * 60_000);
  }

  /** Node settings of the run beside the chaos cluster's: the time-to-lives asked for. */
  Map<String, String> nodeEnv() {
    Map<String, String> env = new LinkedHashMap<>();
    if (sessionTtlS > 0) {
      env.put("SB_SESSION_TTL_MS", Long.toString(sessionTtlS * 1000L));
    }
    if (opRetentionS > 0) {
      env.put("SB_OP_RETENTION_MS", Long.toString(opRetentionS * 1000L));
    }
    return env;
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message + "\n" + usage());
    }
  }

  static String usage() {
    return USAGE.formatted();
  }

  @Override
  public String toString() {
    return "minutes=" + minutes + " seed=" + seed + " clients=" + clients + " topics=" + topics + " ("
        + topicsMin + "-" + topicsMax + " per session) life=" + lifeMinS + "-" + lifeMaxS + "s action-gap="
        + actionMinS + "-" + actionMaxS + "s publish-rate=" + publishRate + "/s ops=" + opsPerMinute + "/min ("
        + opUsers + " users, primes " + primesShare + ") drop-every=" + dropEveryS + "s sample=" + sampleS
        + "s session-ttl=" + (sessionTtlS > 0 ? sessionTtlS + "s" : "default") + " op-retention="
        + (opRetentionS > 0 ? opRetentionS + "s" : "default") + " threshold="
        + thresholdPctPerHour + "%/h"
        + (freshTopicsPerMinute > 0 ? " fresh-topics=" + freshTopicsPerMinute + "/min" : "");
  }
}
