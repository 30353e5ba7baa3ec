package dev.switchboard.chaos;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Judges a {@link Recorder} after the run; pure (reads the recording, changes nothing, no I/O).
 *
 * <h2>Topics</h2>
 * A publication counts when it was <em>acknowledged</em> ({@code {offset, epoch}} came back).
 * Client C <em>expects</em> acknowledged publication P of topic T when C's first subscribe of T was
 * answered before P was sent (clients never unsubscribe: they stay subscribed to the end). P is
 * <em>delivered</em> to C when C received an {@code event} of T carrying P's id, at any position.
 * <p>A <em>telling</em> of T to C is: a {@code topic.subscribe} answer with {@code recovered:false}
 * to a subscribe that carried {@code since} (and did not merely repeat a subscription the resumed
 * session may hold), or a subscribe answer or event of T whose epoch differs from the last epoch C
 * had seen for T. An expected P that C did not receive is
 * <ul>
 * <li><b>lost</b> when C received an event of T in P's acknowledged epoch at a higher offset (a
 *     gap: nothing excuses it), or when C had no telling of T at or after the moment P was sent;</li>
 * <li><b>excused</b> otherwise: C was told, after P was sent, that it must reload T.</li>
 * </ul>
 * <b>Duplicated</b>: C received one publication (one id) at two different (epoch, offset) positions
 * (repeats of one position are what resumes replay, and are dropped). Reported, not a violation:
 * an append in flight when its partition owner dies is sent again by Hazelcast to the new owner and
 * can land twice, both copies in history in order (at-least-once; docs/protocol.md, "Partitions"),
 * as a publisher's own retry of an append whose answer it never got can. <b>Forked</b>: a (topic,
 * epoch, offset) position that carried two different publications, in what any client received, or
 * between what a client received and what a publisher was acknowledged. <b>Misplaced ack</b>: an
 * acknowledged publication that clients received, never at its acknowledged position.
 * <b>Disordered</b>, per client and topic: an event in an epoch the client had already left (the
 * epoch went back), an event at or below the highest offset the client had in that epoch at a
 * position it had never received, or the same position twice on one connection.
 *
 * <h2>Operations</h2>
 * Each follow (a client following an operation: it started it, attached, or was deduplicated into
 * it) must end with exactly one terminal frame, repeats of the same seq dropped: none, two
 * different ones, a frame after it, or an {@code op.attach} (or a resumed session's re-attach)
 * refused with anything but a retryable error or NODE_LOST, so that the operation's own terminal
 * never comes, are <b>terminal violations</b>. So are an {@code op.status} that disagrees with the
 * terminal (result → done, CANCELLED → cancelled, other errors → error; and its seq equal to the
 * terminal's, except after NODE_LOST), follows of one operation ending differently, and a cancel
 * answered {@code cancelled} for an operation whose terminal is a result.
 *
 * <h2>End</h2>
 * Every {@link Recorder.Finding} of the live checks (cluster not re-formed, presence, devices,
 * entries left in Hazelcast, clients that did not settle) is an <b>end violation</b>.
 */
public final class Checker {
  static final int EXAMPLES = 8;
  /** Categories counted and shown with examples, but not violations (see the class comment). */
  static final java.util.Set<String> REPORTED_ONLY = java.util.Set.of("duplicated");

  /** Figures and violations of one run. */
  public record Result(Map<String, Long> figures, String faultDetail, Map<String, Long> violations,
                       Map<String, List<String>> examples, boolean truncated) {
    public long totalViolations() {
      return violations.entrySet().stream().filter(e -> !REPORTED_ONLY.contains(e.getKey()))
          .mapToLong(Map.Entry::getValue).sum();
    }

    /** The one line of figures. */
    public String line() {
      Map<String, Long> f = figures;
      return "chaos: faults " + f.get("faults") + " " + faultDetail + "events " + f.get("events") + " (epoch changes "
          + f.get("epochs") + ")"
          + ", acked " + f.get("acked") + " (unknown " + f.get("unknown") + "), expected deliveries "
          + f.get("expected") + ", lost " + f.get("lost") + " (excused " + f.get("excused") + "), duplicated "
          + f.get("duplicated") + ", forked " + f.get("forked") + ", disordered " + f.get("disordered")
          + ", misplaced acks " + f.get("misplaced") + ", operations " + f.get("operations") + " (follows "
          + f.get("follows") + "), terminal violations " + f.get("terminal") + ", end violations " + f.get("end")
          + (truncated ? ", TRUNCATED" : "") + " => " + (totalViolations() == 0 && !truncated ? "OK" : "FAIL");
    }

    /** The violations with examples, one category per block. */
    public String report() {
      StringBuilder b = new StringBuilder();
      violations.forEach((k, v) -> {
        if (v > 0) {
          b.append("  ").append(k).append(": ").append(v).append('\n');
          for (String e : examples.getOrDefault(k, List.of())) {
            b.append("    ").append(e).append('\n');
          }
        }
      });
      return b.toString();
    }
  }

  private final Recorder rec;
  private final Violations v = new Violations(List.of("lost", "duplicated", "forked", "disordered", "misplaced",
      "terminal.missing", "terminal.several", "terminal.after", "terminal.refused", "terminal.status",
      "terminal.disagree", "terminal.cancel"), EXAMPLES);

  private Checker(Recorder rec) {
    this.rec = rec;
  }

  public static Result check(Recorder rec) {
    return new Checker(rec).run();
  }

  private Result run() {
    Map<String, Long> figures = new LinkedHashMap<>();
    List<Recorder.FaultRecord> faults = rec.faults();
    Map<String, Long> byKind = new java.util.TreeMap<>();
    faults.forEach(f -> byKind.merge(f.kind(), 1L, Long::sum));
    figures.put("faults", (long) faults.size());
    StringBuilder detail = new StringBuilder();
    if (!byKind.isEmpty()) {
      detail.append('(');
      byKind.forEach((k, n) -> detail.append(detail.length() > 1 ? " " : "").append(k).append(' ').append(n));
      detail.append(") ");
    }
    Map<Integer, Publication> pubs = rec.publications();
    long acked = pubs.values().stream().filter(p -> p.outcome == Publication.Outcome.ACKED).count();
    long unknown = pubs.values().stream().filter(p -> p.outcome == Publication.Outcome.UNKNOWN
        || p.outcome == Publication.Outcome.PENDING).count();

    TopicCheck topicCheck = new TopicCheck(rec, v);
    topicCheck.run();
    new OperationCheck(rec, v).run();
    long end = 0;
    for (Recorder.Finding f : rec.findings()) {
      v.add("end." + f.category(), String.format("%.1fs %s", f.at() / 1000.0, f.text()));
      end++;
    }
    figures.put("events", topicCheck.events);
    figures.put("epochs", topicCheck.epochs);
    figures.put("acked", acked);
    figures.put("unknown", unknown);
    figures.put("expected", topicCheck.expected);
    figures.put("lost", v.get("lost"));
    figures.put("excused", topicCheck.excused);
    figures.put("duplicated", v.get("duplicated"));
    figures.put("forked", v.get("forked"));
    figures.put("disordered", v.get("disordered"));
    figures.put("misplaced", v.get("misplaced"));
    figures.put("operations", (long) rec.ops().size());
    figures.put("follows", (long) rec.follows().size());
    figures.put("terminal", v.counts.entrySet().stream().filter(e -> e.getKey().startsWith("terminal."))
        .mapToLong(Map.Entry::getValue).sum());
    figures.put("end", end);
    return new Result(figures, detail.toString(), v.counts, v.examples, rec.truncated());
  }
}
