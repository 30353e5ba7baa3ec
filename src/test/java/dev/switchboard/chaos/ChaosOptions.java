package dev.switchboard.chaos;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What one chaos run does, every figure bounded. Parsed from {@code --name value} arguments (see
 * {@link #USAGE}); the defaults are the 2-minute run of the test suite, sized for a 2-core machine
 * shared with three node JVMs.
 */
public record ChaosOptions(
    double minutes,
    long seed,
    int nodes,
    int clients,
    int topics,
    int topicsPerClient,
    List<String> faults,
    double faultGapMinS,
    double faultGapMaxS,
    int heartbeatTimeoutS,
    int stopS,
    int publishRate,
    int opsPerMinute,
    int opUsers,
    boolean ops,
    String net,
    int cutS,
    int dataMembers,
    int drainMs,
    int maxFaults) {

  /** {@code --net}: every node on loopback (the default), or each in a network namespace of its own. */
  public static final String LOOPBACK = "loopback";
  public static final String NETNS = "netns";

  public static final String USAGE = """
      ChaosRun [--minutes 2] [--seed S] [--clients 200] [--topics 50] [--topics-per-client 4]
               [--faults kill,term,stop] [--fault-gap 2-5] [--heartbeat-timeout 8] [--stop 12]
               [--publish-rate 60] [--ops-per-minute 60] [--op-users 20] [--ops on|off] [--nodes 3]
               [--net loopback|netns] [--cut 30] [--data 0] [--drain-ms 1000] [--max-faults 0]
        --minutes N          how long faults are injected (the end checks follow, about 30-60 s more)
        --seed S             random seed (default: from the clock; always printed)
        --faults LIST        comma-separated among: %s (none: a run without faults)
        --fault-gap A-B      seconds between one fault's recovery and the next fault (random in A..B)
        --heartbeat-timeout  Hazelcast's hazelcast.max.no.heartbeat.seconds for the run
        --stop S             how long a SIGSTOP lasts before SIGCONT (must exceed the heartbeat timeout)
        --publish-rate R     publications per second over all publishers (2 WebSocket + 1 HTTP)
        --ops-per-minute N   demo.count operations started per minute (0: none)
        --op-users N         users (of two devices each) that run operations
        --net loopback|netns where the nodes run: all on 127.0.0.1, or each in a Linux network namespace
                             of its own on a bridge (needs root; the faults can then include partition)
        --cut S              how long a partition keeps its node cut off from the others before healing
        --data D             D more node slots that are Hazelcast data members only (SB_NODE_ROLE=data);
                             with D > 0 the --nodes slots run as gateways (lite members): the two-tier shape
        --drain-ms MS        the nodes' SB_DRAIN_MS (how long a SIGTERM spreads its clients' closes over)
        --max-faults N       stop injecting after N faults (0: no limit)
      """;

  public static ChaosOptions defaults() {
    return new ChaosOptions(2, System.nanoTime() & 0xffff_ffffL, 3, 200, 50, 4,
        List.of("kill", "term", "stop"), 2, 5, 8, 12, 60, 60, 20, true, LOOPBACK, 30, 0, 1000, 0);
  }

  public static ChaosOptions parse(String[] args) {
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
  public static ChaosOptions from(Map<String, String> m) {
    ChaosOptions d = defaults();
    double minutes = d.minutes;
    long seed = d.seed;
    int nodes = d.nodes;
    int clients = d.clients;
    int topics = d.topics;
    int perClient = d.topicsPerClient;
    List<String> faults = d.faults;
    double gapMin = d.faultGapMinS;
    double gapMax = d.faultGapMaxS;
    int hb = d.heartbeatTimeoutS;
    int stop = d.stopS;
    int rate = d.publishRate;
    int opsPerMinute = d.opsPerMinute;
    int opUsers = d.opUsers;
    boolean ops = d.ops;
    String net = d.net;
    int cut = d.cutS;
    int data = d.dataMembers;
    int drainMs = d.drainMs;
    int maxFaults = d.maxFaults;
    for (Map.Entry<String, String> e : m.entrySet()) {
      String v = e.getValue();
      switch (e.getKey()) {
        case "minutes" -> minutes = Double.parseDouble(v);
        case "seed" -> seed = Long.parseLong(v);
        case "nodes" -> nodes = Integer.parseInt(v);
        case "clients" -> clients = Integer.parseInt(v);
        case "topics" -> topics = Integer.parseInt(v);
        case "topics-per-client" -> perClient = Integer.parseInt(v);
        case "faults" -> {
          List<String> list = new ArrayList<>();
          for (String f : v.split(",")) {
            if (!f.isBlank() && !f.equals("none")) {
              list.add(f.trim());
            }
          }
          faults = List.copyOf(list);
        }
        case "fault-gap" -> {
          String[] ab = v.split("-");
          gapMin = Double.parseDouble(ab[0]);
          gapMax = ab.length > 1 ? Double.parseDouble(ab[1]) : gapMin;
        }
        case "heartbeat-timeout" -> hb = Integer.parseInt(v);
        case "stop" -> stop = Integer.parseInt(v);
        case "publish-rate" -> rate = Integer.parseInt(v);
        case "ops-per-minute" -> opsPerMinute = Integer.parseInt(v);
        case "op-users" -> opUsers = Integer.parseInt(v);
        case "ops" -> ops = !v.equals("off") && !v.equals("false");
        case "net" -> net = v;
        case "cut" -> cut = Integer.parseInt(v);
        case "data" -> data = Integer.parseInt(v);
        case "drain-ms" -> drainMs = Integer.parseInt(v);
        case "max-faults" -> maxFaults = Integer.parseInt(v);
        default -> throw new IllegalArgumentException("unknown option --" + e.getKey() + "\n" + usage());
      }
    }
    ChaosOptions o = new ChaosOptions(minutes, seed, nodes, clients, topics, perClient, faults, gapMin, gapMax, hb,
        stop, rate, opsPerMinute, opUsers, ops, net, cut, data, drainMs, maxFaults);
    o.validate();
    return o;
  }

  void validate() {
    require(minutes > 0 && minutes <= 24 * 60, "--minutes must be in (0, 1440]");
    require(nodes >= 2 && nodes <= 9, "--nodes must be 2..9");
    require(clients >= 2 && clients <= 5000, "--clients must be 2..5000");
    require(topics >= 1 && topics <= 1000, "--topics must be 1..1000");
    require(topicsPerClient >= 1 && topicsPerClient <= topics, "--topics-per-client must be 1..topics");
    require(faultGapMinS >= 0 && faultGapMaxS >= faultGapMinS, "--fault-gap A-B needs 0 <= A <= B");
    require(heartbeatTimeoutS >= 3 && heartbeatTimeoutS <= 120, "--heartbeat-timeout must be 3..120");
    require(stopS >= 1 && stopS <= 600, "--stop must be 1..600");
    require(publishRate >= 1 && publishRate <= 5000, "--publish-rate must be 1..5000");
    require(opsPerMinute >= 0 && opsPerMinute <= 6000, "--ops-per-minute must be 0..6000");
    require(opUsers >= 1 && opUsers * 2 <= clients, "--op-users must be 1..clients/2");
    for (String f : faults) {
      require(Faults.NAMES.contains(f), "unknown fault '" + f + "': one of " + Faults.NAMES);
    }
    require(net.equals(LOOPBACK) || net.equals(NETNS), "--net must be loopback or netns");
    require(cutS >= 1 && cutS <= 600, "--cut must be 1..600");
    require(dataMembers >= 0 && dataMembers <= 5, "--data must be 0..5");
    require(drainMs >= 0 && drainMs <= 120_000, "--drain-ms must be 0..120000");
    require(maxFaults >= 0, "--max-faults must be >= 0");
    require(!faults.contains("partition") || net.equals(NETNS),
        "the partition fault needs the nodes in network namespaces: add --net netns");
  }

  long durationMs() {
    return Math.round(minutes * 60_000);
  }

  /** Node processes: the client-serving ones ({@code --nodes}) and the data members ({@code --data}). */
  int slots() {
    return nodes + dataMembers;
  }

  /** The longest a fault lasts before the cluster may re-form (a freeze, a cut, or a whole roll). */
  long longestFaultMs() {
    long longest = Math.max(stopS, faults.contains("partition") ? cutS : 0) * 1000L;
    if (faults.contains("roll")) {
      longest = Math.max(longest, nodes * (Faults.exitBoundMs(this) + ChaosCluster.READY_TIMEOUT_MS));
    }
    return longest;
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message + "\n" + usage());
    }
  }

  static String usage() {
    return USAGE.formatted(String.join(",", Faults.NAMES));
  }

  @Override
  public String toString() {
    return "minutes=" + minutes + " seed=" + seed + " nodes=" + nodes + " clients=" + clients + " topics=" + topics
        + "x" + topicsPerClient + " faults=" + (faults.isEmpty() ? "none" : String.join(",", faults))
        + " gap=" + faultGapMinS + "-" + faultGapMaxS + "s heartbeat-timeout=" + heartbeatTimeoutS + "s stop="
        + stopS + "s publish-rate=" + publishRate + "/s ops=" + (ops ? opsPerMinute + "/min" : "off") + " net=" + net
        + (faults.contains("partition") ? " cut=" + cutS + "s" : "")
        + (dataMembers > 0 ? " data=" + dataMembers + " (the " + nodes + " nodes are gateways)" : "")
        + (drainMs != 1000 ? " drain=" + drainMs + "ms" : "") + (maxFaults > 0 ? " max-faults=" + maxFaults : "");
  }
}
