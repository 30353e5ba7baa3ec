package dev.switchboard.testsupport;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * Hosts for a test on this machine: {@code n} Linux network namespaces, each with one address on a
 * private /24, joined by veth pairs to a bridge in the test's own namespace (which also gets an
 * address, so the test reaches every host). {@link #cut} isolates one host from the others with
 * blackhole routes on both sides, leaving the test's own path to it open (its clients stay connected,
 * as clients behind a load balancer would); {@link #heal} removes them. Everything is removed again
 * at {@link #close}. Needs root (CAP_NET_ADMIN) and iproute2: see {@link #available}.
 */
public final class Netns implements AutoCloseable {
  private final String tag;
  private final String subnet;
  private final int n;
  private final List<String> created = new ArrayList<>();

  private Netns(int n) {
    this.n = n;
    this.tag = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xffff));
    this.subnet = "10." + ThreadLocalRandom.current().nextInt(100, 200) + "." + ThreadLocalRandom.current().nextInt(1, 250);
  }

  /** Null when namespaces can be made here, else why not (the test then skips with that reason). */
  public static String available() {
    String probe = "sbprobe" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x1000, 0xffff));
    try {
      if (run("ip", "netns", "add", probe) != 0) {
        return "network namespaces are not permitted here (ip netns add failed: needs root or CAP_NET_ADMIN)";
      }
      run("ip", "netns", "del", probe);
      return null;
    } catch (Exception e) {
      return "iproute2 (ip) is not available: " + e.getMessage();
    }
  }

  public static Netns create(int n) {
    Netns ns = new Netns(n);
    try {
      ns.setUp();
    } catch (RuntimeException e) {
      ns.close();
      throw e;
    }
    return ns;
  }

  private void setUp() {
    String bridge = "sbbr" + tag;
    must("ip", "link", "add", bridge, "type", "bridge");
    created.add("link:" + bridge);
    must("ip", "addr", "add", subnet + ".1/24", "dev", bridge);
    must("ip", "link", "set", bridge, "up");
    for (int i = 0; i < n; i++) {
      String ns = name(i);
      must("ip", "netns", "add", ns);
      created.add("netns:" + ns);
      String outside = "sbv" + tag + i;
      String inside = "sbp" + tag + i;
      must("ip", "link", "add", outside, "type", "veth", "peer", "name", inside);
      created.add("link:" + outside);
      must("ip", "link", "set", inside, "netns", ns);
      must("ip", "link", "set", outside, "master", bridge, "up");
      must("ip", "-n", ns, "addr", "add", host(i) + "/24", "dev", inside);
      must("ip", "-n", ns, "link", "set", inside, "up");
      must("ip", "-n", ns, "link", "set", "lo", "up");
    }
  }

  /** The namespace of host {@code i}. */
  public String name(int i) {
    return "sbns" + tag + i;
  }

  /** The address of host {@code i}. */
  public String host(int i) {
    return subnet + "." + (11 + i);
  }

  /** The command prefix that runs a program on host {@code i}. */
  public List<String> exec(int i) {
    return List.of("ip", "netns", "exec", name(i));
  }

  /** Host {@code i} can no longer reach the other hosts, nor they it (the test still reaches it). */
  public void cut(int i) {
    routes(i, "add");
  }

  public void heal(int i) {
    routes(i, "del");
  }

  private void routes(int i, String verb) {
    for (int j = 0; j < n; j++) {
      if (j != i) {
        must("ip", "-n", name(i), "route", verb, "blackhole", host(j) + "/32");
        must("ip", "-n", name(j), "route", verb, "blackhole", host(i) + "/32");
      }
    }
  }

  /** Idempotent, and safe when a shutdown hook and the test's own cleanup both call it. */
  @Override
  public synchronized void close() {
    for (int k = created.size() - 1; k >= 0; k--) {
      String[] what = created.get(k).split(":", 2);
      try {
        if (what[0].equals("netns")) {
          run("ip", "netns", "del", what[1]);
        } else {
          run("ip", "link", "del", what[1]);
        }
      } catch (Exception ignored) {
        // best effort: a veth goes with its namespace anyway
      }
    }
    created.clear();
  }

  private static void must(String... command) {
    try {
      if (run(command) != 0) {
        throw new IllegalStateException("failed: " + String.join(" ", command));
      }
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static int run(String... command) throws java.io.IOException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
    try {
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return -1;
      }
      return p.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }
}
