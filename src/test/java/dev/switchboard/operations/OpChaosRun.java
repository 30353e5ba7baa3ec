package dev.switchboard.operations;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testsupport.ChildNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 11's scenario, not part of the suite (its name matches no surefire pattern; about 90 s and
 * four JVMs): three nodes in their own JVMs, killed (SIGKILL) or drained (SIGTERM) and restarted in
 * turn; clients that keep two demo.count operations running each and, whenever their connection
 * goes, resume their session through a random live node. After the faults, every operation a
 * client saw an op_id for must have ended for it with exactly one terminal, counted by seq as a client
 * that drops repeats by seq does: a repeat of an unacknowledged frame is allowed (and a stand-in of
 * ours in the seq of a terminal the client had read is printed, not failed), a second seq is not.
 * Run: {@code CHAOS_MS=30000 CHAOS_FAULT=mixed mvn -B -q test -Dtest=OpChaosRun -Dsurefire.failIfNoSpecifiedTests=false}
 * (CHAOS_FAULT: kill, term or mixed; CHAOS_CLIENTS: 4); it prints "chaos:" lines to its output.
 */
class OpChaosRun {
  static final int NODES = 3;
  // from the environment (surefire's forked JVM inherits it; the pom's argLine takes -D's place)
  static final int CLIENTS = Integer.parseInt(System.getenv().getOrDefault("CHAOS_CLIENTS", "4"));
  static final long FAULTS_MS = Long.parseLong(System.getenv().getOrDefault("CHAOS_MS", "30000"));
  /** kill, term or mixed (default). */
  static final String FAULT = System.getenv().getOrDefault("CHAOS_FAULT", "mixed");

  final List<ChildNode> live = new java.util.concurrent.CopyOnWriteArrayList<>();
  /** Each live node's id and Hazelcast port (chosen here: the first node lists only itself). */
  final Map<ChildNode, String> ids = new ConcurrentHashMap<>();
  final Map<ChildNode, Integer> ports = new ConcurrentHashMap<>();
  final AtomicBoolean faulting = new AtomicBoolean(true);
  final AtomicBoolean starting = new AtomicBoolean(true);
  final Vertx vertx = Vertx.vertx();

  /** What one client saw of one operation. */
  static final class Seen {
    final String req;
    /** Terminals by seq (a repeat of the same seq is one). */
    final Map<Long, String> terminals = new ConcurrentHashMap<>();
    /** Repeats of a terminal's seq with another terminal (a stand-in after the real one was read, not acknowledged). */
    final List<String> standIns = new java.util.concurrent.CopyOnWriteArrayList<>();
    volatile long lastSeq;

    Seen(String req) {
      this.req = req;
    }
  }

  final Map<String, Seen> seen = new ConcurrentHashMap<>();

  /** Starts a node joining the live ones (by their Hazelcast ports). */
  ChildNode start(String id) {
    int port = dev.switchboard.testsupport.TestNode.freePort();
    List<String> members = new ArrayList<>(live.stream().map(n -> "127.0.0.1:" + ports.get(n)).toList());
    members.add("127.0.0.1:" + port);
    ChildNode n = ChildNode.start(id, String.join(",", members), Map.of("SB_DRAIN_MS", "500",
        "SB_CLUSTER_PORT", String.valueOf(port), "SB_CLUSTER_MEMBERS", String.join(",", members)));
    ids.put(n, id);
    ports.put(n, port);
    live.add(n);
    return n;
  }

  ChildNode randomNode() {
    List<ChildNode> l = new ArrayList<>(live);
    return l.get(ThreadLocalRandom.current().nextInt(l.size()));
  }

  @Test
  void everyOperationSeenEndsWithExactlyOneTerminal() throws Exception {
    for (int i = 1; i <= NODES; i++) {
      start("n" + i);
    }
    List<Thread> clients = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      int n = c;
      Thread t = new Thread(() -> client("chaos" + n), "chaos-client-" + n);
      t.setDaemon(true);
      t.start();
      clients.add(t);
    }
    long end = System.currentTimeMillis() + FAULTS_MS;
    int round = 0;
    while (System.currentTimeMillis() < end) {
      Thread.sleep(3000 + ThreadLocalRandom.current().nextInt(2000));
      ChildNode victim = randomNode();
      round++;
      live.remove(victim);
      if ("kill".equals(FAULT) || !"term".equals(FAULT) && ThreadLocalRandom.current().nextBoolean()) {
        victim.kill();
      } else {
        victim.process.destroy();
        victim.process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS);
      }
      System.out.println("chaos: round " + round + ": " + ids.get(victim) + (victim.process.exitValue() == 0 ? " drained" : " killed"));
      start(ids.get(victim)); // back under the same node id, as a restarted pod would be
    }
    faulting.set(false);
    starting.set(false);
    long deadline = System.currentTimeMillis() + 30_000; // operations last up to 5 s; 15 s more for ends
    while (System.currentTimeMillis() < deadline && seen.values().stream().anyMatch(s -> s.terminals.isEmpty())) {
      Thread.sleep(200);
    }
    List<String> missing = new ArrayList<>();
    List<String> doubled = new ArrayList<>();
    List<String> standIns = new ArrayList<>();
    seen.forEach((op, s) -> {
      s.standIns.forEach(x -> standIns.add(op + ": " + x));
      if (s.terminals.isEmpty()) {
        missing.add(op + " (" + s.req + ", last seq " + s.lastSeq + ")");
      } else if (s.terminals.size() > 1) {
        doubled.add(op + " " + s.terminals);
      }
    });
    System.out.println("chaos: " + seen.size() + " operations, " + missing.size() + " without a terminal, "
        + doubled.size() + " with two (distinct seqs), " + standIns.size() + " stand-in repeats of a seq read before "
        + standIns);
    live.forEach(ChildNode::close);
    vertx.close();
    assertTrue(missing.isEmpty() && doubled.isEmpty(), "missing " + missing + "; doubled " + doubled);
  }

  /** A client: keeps two operations running; resumes its session through a random live node whenever its connection goes. */
  void client(String user) {
    String session = null;
    int next = 0;
    Map<String, String> running = new ConcurrentHashMap<>(); // request id → op id ("" until known)
    while (faulting.get() || seen.values().stream().anyMatch(s -> s.req.startsWith(user) && s.terminals.isEmpty())) {
      WsClient c;
      try {
        ChildNode via = randomNode();
        c = WsClient.open(vertx, via.port, "/ws?token=" + Tokens.user(user)
            + (session == null ? "" : "&session_id=" + session), Map.of(), null).client();
      } catch (Throwable e) {
        sleep(200);
        continue;
      }
      if (c == null) {
        sleep(200);
        continue;
      }
      running.values().removeIf(String::isEmpty); // sent on a connection that went: its session answers it, if it had it
      try {
        JsonNode hello = c.connected();
        if (session != null && !hello.get("resumed").asBoolean()) {
          System.out.println("chaos: " + user + " not resumed");
        }
        session = hello.get("session_id").asText();
        while (!c.isClosed()) {
          while (starting.get() && running.size() < 2) {
            String req = user + "-" + (++next);
            running.put(req, "");
            c.sendEnvelope(WsClient.params().put("id", req).put("method", "demo.count").set("params",
                WsClient.params().put("to", 20 + ThreadLocalRandom.current().nextInt(30)).put("interval_ms", 100 + next)));
          }
          JsonNode f;
          try {
            f = c.next(Duration.ofMillis(200));
          } catch (AssertionError none) {
            continue;
          }
          String req = f.path("id").asText();
          String op = f.path("op_id").asText(null);
          if (op == null) {
            if (WsClient.isTerminal(f) && running.containsKey(req)) {
              running.remove(req); // refused before it had an op_id (e.g. no worker while nodes restart)
            }
            continue;
          }
          running.replace(req, "", op);
          Seen s = seen.computeIfAbsent(op, k -> new Seen(req));
          s.lastSeq = Math.max(s.lastSeq, f.path("seq").asLong());
          if (WsClient.isTerminal(f)) {
            String what = f.path("type").asText() + ":" + f.at("/error/code").asText("");
            String before = s.terminals.putIfAbsent(f.path("seq").asLong(), what);
            if (before != null && !before.equals(what)) {
              s.standIns.add(before + " then " + what); // a repeat of that seq: dropped by the client
            }
            running.remove(req);
          }
        }
      } catch (Throwable e) {
        // the connection went: resume elsewhere
      } finally {
        c.close();
      }
      sleep(ThreadLocalRandom.current().nextInt(300));
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
