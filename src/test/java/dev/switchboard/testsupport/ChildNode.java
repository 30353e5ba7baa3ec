package dev.switchboard.testsupport;

import java.io.File;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A node in its own JVM (the test's classpath, {@code dev.switchboard.Main}), for what one JVM
 * cannot show: SIGKILL, SIGTERM and exit codes. Output goes to a temp file (shown on failure).
 */
public final class ChildNode implements AutoCloseable {
  public final Process process;
  public final int port;
  public final int clusterPort;
  public final Path log;

  private ChildNode(Process process, int port, int clusterPort, Path log) {
    this.process = process;
    this.port = port;
    this.clusterPort = clusterPort;
    this.log = log;
  }

  /** Starts a node joining {@code members} (plus itself) and waits until /health/ready is 200. */
  public static ChildNode start(String nodeId, String members, Map<String, String> extraEnv) {
    return start("dev.switchboard.Main", nodeId, members, extraEnv, null);
  }

  /**
   * Starts {@code mainClass} the same way; with {@code readyLine} it waits for that text in the
   * output instead of /health/ready (for cluster members that are not gateways).
   */
  public static ChildNode start(String mainClass, String nodeId, String members, Map<String, String> extraEnv,
                                String readyLine) {
    int port = TestNode.freePort();
    int clusterPort = TestNode.freePort();
    try {
      Path log = Files.createTempFile("sb-child-" + nodeId, ".log");
      ProcessBuilder pb = new ProcessBuilder(javaBin(), "-Xmx256m", "-cp", System.getProperty("java.class.path"),
          mainClass);
      pb.environment().keySet().removeIf(k -> k.startsWith("SB_"));
      pb.environment().putAll(TestNode.env(Map.of()));
      pb.environment().put("SB_HTTP_PORT", String.valueOf(port));
      pb.environment().put("SB_CLUSTER_PORT", String.valueOf(clusterPort));
      pb.environment().put("SB_CLUSTER_MEMBERS", members + ",127.0.0.1:" + clusterPort);
      pb.environment().put("SB_NODE_ID", nodeId);
      pb.environment().putAll(extraEnv);
      pb.redirectErrorStream(true).redirectOutput(log.toFile());
      ChildNode n = new ChildNode(pb.start(), port, clusterPort, log);
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
        HttpResponse<String> r = Http.get(port, "/health/ready");
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
