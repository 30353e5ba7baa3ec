package dev.switchboard.chaos;

import java.util.List;

/**
 * The faults: SIGKILL and restart, SIGTERM (a drain) and restart, SIGSTOP for longer than the member
 * heartbeat timeout then SIGCONT, and (nodes in network namespaces only) a network partition that
 * cuts one node off from the others for {@code --cut} seconds then heals. Each acts on one node
 * chosen at random.
 */
public final class Faults {
  public static final List<String> NAMES = List.of("kill", "term", "stop", "partition", "roll");

  private Faults() {
  }

  public static Fault create(String name) {
    return switch (name) {
      case "kill" -> new Kill();
      case "term" -> new Term();
      case "stop" -> new Stop();
      case "partition" -> new Partition();
      case "roll" -> new Roll();
      default -> throw new IllegalArgumentException("unknown fault " + name);
    };
  }

  /** SIGKILL, then a new incarnation on the same ports. */
  static final class Kill implements Fault {
    @Override
    public String name() {
      return "kill";
    }

    @Override
    public void inject(FaultContext ctx) {
      NodeProcess n = ctx.randomNode();
      String id = n.nodeId();
      n.kill();
      ctx.note("SIGKILL " + id);
      ctx.cluster().restart(n);
      ctx.note("restarted slot " + n.slot + " as " + n.nodeId());
    }
  }

  /**
   * SIGTERM: the node drains (reconnect frames, close 1012, operations get the grace period) and
   * exits 0; then a new incarnation. A node that does not exit within drain + grace + 10 s is
   * SIGKILLed, and that is noted.
   */
  /**
   * How long a SIGTERMed node may take to exit: docs/protocol.md, "Shutdown", promises about
   * SB_DRAIN_MS + SB_SHUTDOWN_GRACE_MS (6 s here, ChaosCluster) + 12 s whatever the other members do
   * (the node's own wait ends at drain + grace + 10 s, then it exits). The check was 17 s, exactly
   * that own wait with the chaos settings, so a drain that used its whole bound (a leave handing
   * partitions over while a merge migrated them) counted as not exiting (the 10-minute run's one
   * end.term-no-exit).
   */
  static long exitBoundMs(ChaosOptions o) {
    return o.drainMs() + 6_000L + 12_000L;
  }

  static final class Term implements Fault {
    @Override
    public String name() {
      return "term";
    }

    @Override
    public void inject(FaultContext ctx) {
      NodeProcess n = ctx.randomNode();
      String id = n.nodeId();
      long bound = exitBoundMs(ctx.options());
      boolean exited = n.term(bound);
      if (!exited) {
        ctx.note("SIGTERM " + id + ": still running " + bound + " ms later, SIGKILL");
        ctx.recorder().finding("term-no-exit", id + " did not exit within " + bound + " ms of SIGTERM");
        n.kill();
      } else {
        Integer code = n.exitCode();
        ctx.note("SIGTERM " + id + ", exit " + code);
        if (code == null || code != 0) {
          ctx.recorder().finding("term-exit-code", id + " exited with " + code + " after SIGTERM");
        }
      }
      ctx.cluster().restart(n);
      ctx.note("restarted slot " + n.slot + " as " + n.nodeId());
    }
  }

  /**
   * SIGSTOP for {@code --stop} seconds (longer than the heartbeat timeout: the others declare the
   * member dead while its clients' sockets stay open), then SIGCONT. The node is not restarted: what
   * it does once it runs again is part of the test (the run then waits for the cluster to re-form).
   */
  static final class Stop implements Fault {
    @Override
    public String name() {
      return "stop";
    }

    @Override
    public void inject(FaultContext ctx) throws InterruptedException {
      NodeProcess n = ctx.randomNode();
      n.stop();
      ctx.note("SIGSTOP " + n.nodeId() + " for " + ctx.options().stopS() + " s");
      Thread.sleep(ctx.options().stopS() * 1000L); // the fault's length itself, not a wait for a condition
      n.cont();
      ctx.note("SIGCONT " + n.nodeId());
    }
  }

  /**
   * A network partition: blackhole routes between one node's namespace and every other node's, for
   * {@code --cut} seconds, then removed. The harness keeps its own path to the node (its clients stay
   * connected until the node, finding itself a minority, hands them over), and the node is neither
   * signalled nor restarted: its refusals, its handover and the merge after the heal are the test.
   */
  static final class Partition implements Fault {
    @Override
    public String name() {
      return "partition";
    }

    @Override
    public void inject(FaultContext ctx) throws InterruptedException {
      NodeProcess n = ctx.randomNode();
      ChaosNet net = ctx.cluster().net();
      net.cut(n.slot - 1);
      try {
        ctx.note("cut " + n.nodeId() + " (" + n.host + ") off from the others for " + ctx.options().cutS() + " s");
        Thread.sleep(ctx.options().cutS() * 1000L); // the fault's length itself, not a wait for a condition
      } finally {
        net.heal(n.slot - 1);
      }
      ctx.note("healed the network of " + n.nodeId());
    }
  }

  /**
   * A rolling restart (issue 14, item 5): every client-serving node in turn, in slot order, gets
   * SIGTERM (it drains: reconnect frames and closes 1012 spread over {@code --drain-ms}, operations
   * get the grace period), the roll waits for its exit, starts a new incarnation on the same slot and
   * waits for its {@code /health/ready} before the next one, as a Kubernetes Deployment's rolling
   * update does. Data members of the two-tier shape are not restarted. A node still running
   * {@link Faults#exitBoundMs} after its SIGTERM is SIGKILLed and that is a finding.
   */
  static final class Roll implements Fault {
    @Override
    public String name() {
      return "roll";
    }


    @Override
    public void inject(FaultContext ctx) {
      for (NodeProcess n : ctx.cluster().gateways()) {
        String id = n.nodeId();
        long t0 = System.currentTimeMillis();
        boolean exited = n.term(exitBoundMs(ctx.options()));
        long exitedMs = System.currentTimeMillis() - t0;
        if (!exited) {
          ctx.note("roll: SIGTERM " + id + ": still running " + exitBoundMs(ctx.options()) + " ms later, SIGKILL");
          ctx.recorder().finding("term-no-exit", id + " did not exit within " + exitBoundMs(ctx.options())
              + " ms of SIGTERM");
          n.kill();
        } else {
          Integer code = n.exitCode();
          ctx.note(String.format("roll: SIGTERM %s, exit %s after %.1f s", id, code, exitedMs / 1000.0));
          if (code == null || code != 0) {
            ctx.recorder().finding("term-exit-code", id + " exited with " + code + " after SIGTERM");
          }
        }
        long t1 = System.currentTimeMillis();
        ctx.cluster().restart(n);
        boolean ready = ctx.cluster().live().contains(n);
        ctx.note(String.format("roll: slot %d restarted as %s, %s after %.1f s", n.slot, n.nodeId(),
            ready ? "ready" : "NOT ready", (System.currentTimeMillis() - t1) / 1000.0));
      }
    }
  }
}
