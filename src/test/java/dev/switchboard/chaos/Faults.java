package dev.switchboard.chaos;

import java.util.List;

/**
 * The process faults: SIGKILL and restart, SIGTERM (a drain) and restart, SIGSTOP for longer than
 * the member heartbeat timeout then SIGCONT. Each acts on one node chosen at random.
 */
public final class Faults {
  public static final List<String> NAMES = List.of("kill", "term", "stop");

  private Faults() {
  }

  public static Fault create(String name) {
    return switch (name) {
      case "kill" -> new Kill();
      case "term" -> new Term();
      case "stop" -> new Stop();
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
  static final class Term implements Fault {
    @Override
    public String name() {
      return "term";
    }

    @Override
    public void inject(FaultContext ctx) {
      NodeProcess n = ctx.randomNode();
      String id = n.nodeId();
      boolean exited = n.term(17_000);
      if (!exited) {
        ctx.note("SIGTERM " + id + ": still running 17 s later, SIGKILL");
        ctx.recorder().finding("term-no-exit", id + " did not exit within 17 s of SIGTERM");
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
}
