package dev.switchboard.chaos;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One node slot of the chaos cluster: a {@code dev.switchboard.Main} in its own JVM (the harness's
 * classpath), on a fixed address and fixed HTTP and Hazelcast ports that every incarnation reuses (as
 * a pod behind a service would), with a new node id per incarnation ({@code n<slot>.<incarnation>}).
 * In a network namespace the command starts with {@code ip netns exec NS}, which enters the namespace
 * and execs the JVM (same pid). Signals go to the process by its pid: SIGKILL and SIGTERM through
 * {@link Process}, SIGSTOP and SIGCONT with {@code kill -STOP|-CONT <pid>}. Output of each incarnation
 * goes to its own file.
 *
 * <p>Thread-safety: the fault thread and the main thread call in; every method is synchronized.
 */
public final class NodeProcess {
  public final int slot;
  public final String host;
  public final int httpPort;
  public final int clusterPort;
  /** {@code SB_NODE_ROLE}: {@code all}, {@code gateway} (a lite member) or {@code data} (serves no client). */
  public final String role;
  private final List<String> prefix;
  private final Path logDir;
  private Process process;
  private int incarnation = -1;
  private String nodeId;
  private Path log;
  private boolean frozen;
  private final List<Path> logs = new ArrayList<>();

  NodeProcess(int slot, String host, int httpPort, int clusterPort, List<String> prefix, Path logDir) {
    this(slot, host, httpPort, clusterPort, prefix, logDir, "all");
  }

  NodeProcess(int slot, String host, int httpPort, int clusterPort, List<String> prefix, Path logDir, String role) {
    this.slot = slot;
    this.role = role;
    this.host = host;
    this.prefix = List.copyOf(prefix);
    this.httpPort = httpPort;
    this.clusterPort = clusterPort;
    this.logDir = logDir;
  }

  /** Starts a new incarnation (the previous one must be gone) and returns at once; readiness is the caller's to await. */
  synchronized void start(List<String> jvmArgs, Map<String, String> env) {
    if (process != null && process.isAlive()) {
      throw new IllegalStateException("node " + nodeId + " is still running");
    }
    incarnation++;
    nodeId = "n" + slot + "." + incarnation;
    log = logDir.resolve(nodeId + ".log");
    logs.add(log);
    List<String> cmd = new ArrayList<>(prefix);
    cmd.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
    cmd.addAll(jvmArgs);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("dev.switchboard.Main");
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().keySet().removeIf(k -> k.startsWith("SB_"));
    pb.environment().putAll(env);
    pb.environment().put("SB_HTTP_HOST", host);
    pb.environment().put("SB_HTTP_PORT", String.valueOf(httpPort));
    pb.environment().put("SB_CLUSTER_HOST", host);
    pb.environment().put("SB_CLUSTER_BUS_HOST", host);
    pb.environment().put("SB_CLUSTER_PORT", String.valueOf(clusterPort));
    pb.environment().put("SB_NODE_ID", nodeId);
    pb.environment().put("SB_NODE_ROLE", role);
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    try {
      process = pb.start();
    } catch (IOException e) {
      throw new IllegalStateException("could not start node " + nodeId, e);
    }
    frozen = false;
  }

  /** Takes WebSocket clients and the HTTP API (every role but {@code data}). */
  public boolean servesClients() {
    return !role.equals("data");
  }

  public synchronized String nodeId() {
    return nodeId;
  }

  public synchronized int incarnation() {
    return incarnation;
  }

  public synchronized boolean alive() {
    return process != null && process.isAlive();
  }

  /** Stopped with SIGSTOP and not yet continued. */
  public synchronized boolean frozen() {
    return frozen && alive();
  }

  public synchronized long pid() {
    return process == null ? -1 : process.pid();
  }

  /** SIGKILL, then waits (bounded) until the process is gone. Works on a stopped process too. */
  public void kill() {
    Process p;
    synchronized (this) {
      p = process;
      frozen = false;
    }
    if (p != null && p.isAlive()) {
      p.destroyForcibly();
      waitFor(p, 30_000);
    }
  }

  /** SIGTERM (the node drains and exits 0); true when it exited within {@code waitMs}. */
  public boolean term(long waitMs) {
    Process p;
    synchronized (this) {
      p = process;
    }
    if (p == null || !p.isAlive()) {
      return true;
    }
    p.destroy();
    return waitFor(p, waitMs);
  }

  /** Exit code of the current incarnation, or null while it runs. */
  public synchronized Integer exitCode() {
    return process == null || process.isAlive() ? null : process.exitValue();
  }

  public void stop() {
    signal("STOP");
    synchronized (this) {
      frozen = true;
    }
  }

  public void cont() {
    signal("CONT");
    synchronized (this) {
      frozen = false;
    }
  }

  private void signal(String sig) {
    long pid = pid();
    if (pid <= 0) {
      return;
    }
    try {
      Process k = new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).redirectErrorStream(true).start();
      if (!k.waitFor(10, TimeUnit.SECONDS)) {
        k.destroyForcibly();
        throw new IllegalStateException("kill -" + sig + " " + pid + " did not return");
      }
    } catch (IOException e) {
      throw new IllegalStateException("kill -" + sig + " " + pid + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The current incarnation's output (for reports). */
  public synchronized String output() {
    try {
      return log == null ? "" : Files.readString(log);
    } catch (IOException e) {
      return "(no output: " + e.getMessage() + ")";
    }
  }

  public synchronized List<Path> logs() {
    return List.copyOf(logs);
  }

  private static boolean waitFor(Process p, long ms) {
    try {
      return p.waitFor(ms, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Override
  public synchronized String toString() {
    return nodeId + "(slot " + slot + ", http " + host + ":" + httpPort + ", pid " + pid() + ")";
  }
}
