package dev.switchboard.testsupport;

import java.io.File;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A node in its own JVM (the test's classpath, {@code dev.switchboard.Main}), for what one JVM
 * cannot show: SIGKILL, SIGTERM and exit codes. Output goes to a temp file (shown on failure).
 */
public final class ChildNode implements AutoCloseable {
  /**
   * Hazelcast's internal API access as JVM flags: what the jar's manifest grants ({@code Add-Opens},
   * {@code Add-Exports} in pom.xml) for a JVM started with {@code -cp}. Without them Hazelcast warns
   * at every start ("starting in a Java modular environment ... without proper access").
   */
  public static final List<String> HAZELCAST_ACCESS = List.of(
      "--add-opens", "java.base/java.lang=ALL-UNNAMED", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
      "--add-opens", "java.management/sun.management=ALL-UNNAMED",
      "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
      "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED");

  public final Process process;
  public final String host;
  public final int port;
  public final int clusterPort;
  public final Path log;

  private ChildNode(Process process, String host, int port, int clusterPort, Path log) {
    this.process = process;
    this.host = host;
    this.port = port;
    this.clusterPort = clusterPort;
    this.log = log;
  }

  /**
   * Starts a node joining {@code members} (plus itself) and waits until /health/ready is 200; with the
   * test nodes' Hazelcast file (TestNode#CLUSTER_CONFIG) unless {@code extraEnv} names another.
   */
  public static ChildNode start(String nodeId, String members, Map<String, String> extraEnv) {
    return start("dev.switchboard.Main", nodeId, members, extraEnv, null);
  }

  /**
   * Child nodes {@code <prefix>0} … {@code <prefix>n-1} that form one cluster: free Hazelcast ports,
   * each node listing all of them, started as {@link #startAll} starts them, each with {@code env}.
   */
  public static List<ChildNode> cluster(String prefix, int n, Map<String, String> env) {
    List<Integer> ports = new java.util.ArrayList<>();
    for (int i = 0; i < n; i++) {
      ports.add(TestNode.freePort());
    }
    String members = String.join(",", ports.stream().map(p -> "127.0.0.1:" + p).toList());
    List<java.util.function.Supplier<ChildNode>> starts = new java.util.ArrayList<>();
    for (int i = 0; i < n; i++) {
      Map<String, String> e = new java.util.HashMap<>(env);
      e.put("SB_CLUSTER_PORT", ports.get(i).toString());
      e.put("SB_CLUSTER_MEMBERS", members);
      String id = prefix + i;
      starts.add(() -> start(id, members, e));
    }
    return startAll(starts);
  }

  /**
   * Starts the nodes {@code starters} start (each a {@code start} call), the first alone, then the
   * others at once, each joining the first, which is running by then (nodes started at the same
   * moment could each found a cluster of its own, and then wait for a merge). Returns them in order,
   * ready; when one fails, the ones started are closed.
   */
  public static List<ChildNode> startAll(List<java.util.function.Supplier<ChildNode>> starters) {
    List<ChildNode> started = new java.util.ArrayList<>();
    try {
      started.add(starters.get(0).get());
      List<java.util.concurrent.CompletableFuture<ChildNode>> rest = starters.subList(1, starters.size()).stream()
          .map(s -> java.util.concurrent.CompletableFuture.supplyAsync(s, STARTER)).toList();
      AssertionError failed = null;
      for (var f : rest) {
        try {
          started.add(f.join());
        } catch (java.util.concurrent.CompletionException e) {
          failed = failed != null ? failed : new AssertionError("a node did not start: " + e.getCause(), e.getCause());
        }
      }
      if (failed != null) {
        throw failed;
      }
      return started;
    } catch (RuntimeException | Error e) {
      started.forEach(ChildNode::close);
      throw e;
    }
  }

  /** Runs the starts of {@link #startAll} (each blocks until its node is ready). */
  private static final java.util.concurrent.ExecutorService STARTER = java.util.concurrent.Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "child-node-starter");
    t.setDaemon(true);
    return t;
  });

  /**
   * Starts {@code mainClass} the same way; with {@code readyLine} it waits for that text in the
   * output instead of /health/ready (for cluster members that are not gateways).
   */
  public static ChildNode start(String mainClass, String nodeId, String members, Map<String, String> extraEnv,
                                String readyLine) {
    int port = TestNode.freePort();
    int clusterPort = TestNode.freePort();
    Map<String, String> env = new java.util.HashMap<>();
    env.put("SB_HTTP_PORT", String.valueOf(port));
    env.put("SB_CLUSTER_PORT", String.valueOf(clusterPort));
    env.put("SB_CLUSTER_MEMBERS", members + ",127.0.0.1:" + clusterPort);
    env.put("SB_NODE_ID", nodeId);
    env.put("SB_CLUSTER_CONFIG", TestNode.CLUSTER_CONFIG); // as the in-JVM nodes it may join
    env.putAll(extraEnv);
    return start(List.of(), mainClass, "127.0.0.1", port, clusterPort, nodeId, env, readyLine);
  }

  /**
   * Starts a node whose command is prefixed by {@code prefix} (e.g. {@code ip netns exec NS}: a node
   * in its own network namespace) and whose HTTP port is {@code host:port}; {@code env} holds its
   * cluster settings.
   */
  public static ChildNode start(List<String> prefix, String host, int port, String nodeId, Map<String, String> env) {
    Map<String, String> all = new java.util.HashMap<>(env);
    all.put("SB_HTTP_HOST", host);
    all.put("SB_HTTP_PORT", String.valueOf(port));
    all.put("SB_NODE_ID", nodeId);
    return start(prefix, "dev.switchboard.Main", host, port, -1, nodeId, all, null);
  }

  private static ChildNode start(List<String> prefix, String mainClass, String host, int port, int clusterPort,
                                 String nodeId, Map<String, String> env, String readyLine) {
    try {
      Path log = Files.createTempFile("sb-child-" + nodeId, ".log");
      List<String> command = new java.util.ArrayList<>(prefix);
      // C1 only and the serial collector (as the chaos run's nodes): a node's start-up then costs about
      // half the CPU (2.2 s instead of 4.5 s measured here), which on two cores shared with the test JVM
      // and its other nodes is most of a start's wall time; the load a test puts on a node is light
      command.addAll(List.of(javaBin(), "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
      command.addAll(HAZELCAST_ACCESS);
      command.addAll(List.of("-cp", System.getProperty("java.class.path"), mainClass));
      ProcessBuilder pb = new ProcessBuilder(command);
      pb.environment().keySet().removeIf(k -> k.startsWith("SB_"));
      pb.environment().putAll(TestNode.env(Map.of()));
      pb.environment().putAll(env);
      pb.redirectErrorStream(true).redirectOutput(log.toFile());
      ChildNode n = new ChildNode(pb.start(), host, port, clusterPort, log);
      if (readyLine == null) {
        n.awaitReady();
      } else {
        n.awaitOutput(readyLine);
      }
      return n;
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private void awaitReady() {
    long deadline = System.currentTimeMillis() + 60_000;
    while (System.currentTimeMillis() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError("child node exited: " + output());
      }
      try {
        HttpResponse<String> r = Http.get(host, port, "/health/ready");
        if (r.statusCode() == 200) {
          return;
        }
      } catch (AssertionError notYet) {
        // not listening yet
      }
      sleep(100);
    }
    throw new AssertionError("child node not ready within 60 s: " + output());
  }

  private void awaitOutput(String text) {
    long deadline = System.currentTimeMillis() + 60_000;
    while (System.currentTimeMillis() < deadline) {
      if (output().contains(text)) {
        return;
      }
      if (!process.isAlive()) {
        throw new AssertionError("child exited: " + output());
      }
      sleep(100);
    }
    throw new AssertionError("child did not print '" + text + "' within 60 s: " + output());
  }

  public void kill() {
    process.destroyForcibly(); // SIGKILL
    try {
      process.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public String output() {
    try {
      return Files.readString(log);
    } catch (java.io.IOException e) {
      return "(no output)";
    }
  }

  @Override
  public void close() {
    if (process.isAlive()) {
      kill();
    }
  }

  static String javaBin() {
    return System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
