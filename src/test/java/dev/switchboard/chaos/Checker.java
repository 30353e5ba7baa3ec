package dev.switchboard.chaos;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
 * (repeats of one position are what resumes replay, and are dropped). <b>Forked</b>: a (topic,
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

  /** Figures and violations of one run. */
  public record Result(Map<String, Long> figures, String faultDetail, Map<String, Long> violations,
                       Map<String, List<String>> examples, boolean truncated) {
    public long totalViolations() {
      return violations.values().stream().mapToLong(Long::longValue).sum();
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
  private final Map<String, Long> violations = new LinkedHashMap<>();
  private final Map<String, List<String>> examples = new LinkedHashMap<>();

  private Checker(Recorder rec) {
    this.rec = rec;
    for (String k : List.of("lost", "duplicated", "forked", "disordered", "misplaced", "terminal.missing",
        "terminal.several", "terminal.after", "terminal.refused", "terminal.status", "terminal.disagree",
        "terminal.cancel")) {
      violations.put(k, 0L);
    }
  }

  public static Result check(Recorder rec) {
    return new Checker(rec).run();
  }

  private void violation(String category, String example) {
    violations.merge(category, 1L, Long::sum);
    List<String> ex = examples.computeIfAbsent(category, k -> new ArrayList<>());
    if (ex.size() < EXAMPLES) {
      ex.add(example);
    }
  }

  private static long pos(int epoch, long offset) {
    return (long) epoch << 32 | (offset & 0xffff_ffffL);
  }

  private String posName(int topic, long pos) {
    return rec.topics.get(topic) + "@" + rec.epochName((int) (pos >>> 32)) + ":" + (pos & 0xffff_ffffL);
  }

  private String pubName(Publication p) {
    return "p" + p.id + " (" + p.source + " via " + p.node + ", sent " + p.sentAt + "ms, "
        + (p.outcome == Publication.Outcome.ACKED ? "acked " + rec.epochName(p.ackEpoch) + ":" + p.ackOffset + " at "
        + p.ackAt + "ms" : p.outcome.toString().toLowerCase()) + ", attempts " + p.attempts + ")";
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
      byKind.forEach((k, v) -> detail.append(detail.length() > 1 ? " " : "").append(k).append(' ').append(v));
      detail.append(") ");
    }
    Map<Integer, Publication> pubs = rec.publications();
    long acked = pubs.values().stream().filter(p -> p.outcome == Publication.Outcome.ACKED).count();
    long unknown = pubs.values().stream().filter(p -> p.outcome == Publication.Outcome.UNKNOWN
        || p.outcome == Publication.Outcome.PENDING).count();

    // every position any client saw, with the publication it carried (for forks), and where each publication went
    List<Map<Long, Integer>> positions = new ArrayList<>();
    for (int t = 0; t < rec.topics.size(); t++) {
      positions.add(new HashMap<>());
    }
    Map<Integer, Set<Long>> deliveredAt = new HashMap<>();
    long events = 0;
    for (ClientLog c : rec.clients()) {
      events += clientTopics(c, pubs, positions, deliveredAt);
    }
    long[] totals = expectations(pubs);
    long expected = totals[0];
    long excused = totals[1];
    misplacedAndAckForks(pubs, positions, deliveredAt);
    checkOps();
    long end = 0;
    for (Recorder.Finding f : rec.findings()) {
      violation("end." + f.category(), String.format("%.1fs %s", f.at() / 1000.0, f.text()));
      end++;
    }
    figures.put("events", events);
    figures.put("epochs", epochChanges(pubs));
    figures.put("acked", acked);
    figures.put("unknown", unknown);
    figures.put("expected", expected);
    figures.put("lost", violations.get("lost"));
    figures.put("excused", excused);
    figures.put("duplicated", violations.get("duplicated"));
    figures.put("forked", violations.get("forked"));
    figures.put("disordered", violations.get("disordered"));
    figures.put("misplaced", violations.get("misplaced"));
    figures.put("operations", (long) rec.ops().size());
    figures.put("follows", (long) rec.follows().size());
    figures.put("terminal", violations.entrySet().stream().filter(e -> e.getKey().startsWith("terminal."))
        .mapToLong(Map.Entry::getValue).sum());
    figures.put("end", end);
    return new Result(figures, detail.toString(), violations, examples, rec.truncated());
  }

  /**
   * Epoch changes: per topic, the epochs seen (in events, subscribe answers and acks) beyond the
   * first. Not a violation by itself (a lost history must change the epoch); with backups and one
   * fault at a time no history should be lost, so a non-zero figure points at something to look into.
   */
  private long epochChanges(Map<Integer, Publication> pubs) {
    List<Set<Integer>> epochs = new ArrayList<>();
    for (int t = 0; t < rec.topics.size(); t++) {
      epochs.add(new HashSet<>());
    }
    for (ClientLog c : rec.clients()) {
      for (int r = 0; r < c.size(); r++) {
        if (c.kind(r) == ClientLog.EVENT || c.kind(r) == ClientLog.SUB) {
          epochs.get(c.topic(r)).add(c.epoch(r));
        }
      }
    }
    for (Publication p : pubs.values()) {
      if (p.outcome == Publication.Outcome.ACKED) {
        epochs.get(p.topic).add(p.ackEpoch);
      }
    }
    return epochs.stream().mapToLong(s -> Math.max(0, s.size() - 1)).sum();
  }

  /** Per-client state the expectations need, kept from the scan of its log. */
  private final Map<Integer, ClientFacts> facts = new HashMap<>();

  private static final class ClientFacts {
    /** topic → time of the first subscribe answer. */
    final Map<Integer, Integer> firstSub = new HashMap<>();
    /** topic → times of tellings, ascending. */
    final Map<Integer, List<Integer>> tellings = new HashMap<>();
    /** topic → (epoch → highest offset received). */
    final Map<Integer, Map<Integer, Long>> highest = new HashMap<>();
    /** publication ids received. */
    final Set<Integer> received = new HashSet<>();
  }

  /** Scans one client's log: order, duplicates, forks; keeps what the expectations need. Returns its events. */
  private long clientTopics(ClientLog c, Map<Integer, Publication> pubs, List<Map<Long, Integer>> positions,
                            Map<Integer, Set<Long>> deliveredAt) {
    ClientFacts cf = new ClientFacts();
    facts.put(c.index, cf);
    Map<Integer, Integer> currentEpoch = new HashMap<>();
    Map<Integer, Set<Integer>> leftEpochs = new HashMap<>();
    Map<Integer, Set<Long>> seen = new HashMap<>();
    Map<Integer, Set<Long>> seenOnConn = new HashMap<>();
    Map<Integer, Map<Integer, Long>> pubPos = new HashMap<>(); // topic → (pub → first position)
    Set<Integer> duplicatedPubs = new HashSet<>();
    int lastConn = -1;
    long events = 0;
    for (int r = 0; r < c.size(); r++) {
      int kind = c.kind(r);
      int topic = c.topic(r);
      int epoch = c.epoch(r);
      if (kind == ClientLog.CONNECTED) {
        continue;
      }
      if (kind == ClientLog.SUB) {
        cf.firstSub.putIfAbsent(topic, c.time(r));
        int flags = c.flags(r);
        Integer cur = currentEpoch.get(topic);
        boolean told = (flags & ClientLog.SINCE) != 0 && (flags & ClientLog.RECOVERED) == 0
            && (flags & ClientLog.REPEAT) == 0;
        if (cur != null && cur != epoch) {
          told = true;
          leftEpochs.computeIfAbsent(topic, k -> new HashSet<>()).add(cur);
        }
        if (told) {
          cf.tellings.computeIfAbsent(topic, k -> new ArrayList<>()).add(c.time(r));
        }
        currentEpoch.put(topic, epoch);
        continue;
      }
      if (kind != ClientLog.EVENT) {
        continue;
      }
      events++;
      long offset = c.offset(r);
      int pub = c.data(r);
      long p = pos(epoch, offset);
      if (c.conn(r) != lastConn) {
        seenOnConn.clear();
        lastConn = c.conn(r);
      }
      Integer cur = currentEpoch.get(topic);
      Set<Integer> left = leftEpochs.computeIfAbsent(topic, k -> new HashSet<>());
      Map<Integer, Long> high = cf.highest.computeIfAbsent(topic, k -> new HashMap<>());
      Set<Long> mine = seen.computeIfAbsent(topic, k -> new HashSet<>());
      String where = c.name() + " " + posName(topic, p) + " at " + c.time(r) + "ms on " + c.connectionInfo(c.conn(r));
      if (cur != null && cur != epoch) {
        if (left.contains(epoch)) {
          violation("disordered", where + ": epoch went back from " + rec.epochName(cur));
        }
        left.add(cur);
        cf.tellings.computeIfAbsent(topic, k -> new ArrayList<>()).add(c.time(r));
      } else if (!mine.contains(p) && high.getOrDefault(epoch, Long.MIN_VALUE) >= offset) {
        violation("disordered", where + ": below offset " + high.get(epoch) + " already received");
      }
      if (!seenOnConn.computeIfAbsent(topic, k -> new HashSet<>()).add(p)) {
        violation("disordered", where + ": the same position twice on one connection");
      }
      currentEpoch.put(topic, epoch);
      high.merge(epoch, offset, Math::max);
      mine.add(p);
      if (pub < 0) {
        continue;
      }
      Integer other = positions.get(topic).putIfAbsent(p, pub);
      if (other != null && other != pub && other != Integer.MIN_VALUE) {
        violation("forked", posName(topic, p) + " carried p" + other + " and p" + pub + " (the latter to " + where
            + ")");
        positions.get(topic).put(p, Integer.MIN_VALUE); // counted once per position
      }
      deliveredAt.computeIfAbsent(pub, k -> new HashSet<>()).add(p);
      cf.received.add(pub);
      Long first = pubPos.computeIfAbsent(topic, k -> new HashMap<>()).putIfAbsent(pub, p);
      if (first != null && first != p && duplicatedPubs.add(pub)) {
        Publication pp = pubs.get(pub);
        violation("duplicated", c.name() + " got " + (pp == null ? "p" + pub : pubName(pp)) + " at "
            + posName(topic, first) + " and " + posName(topic, p) + " (" + c.time(r) + "ms)");
      }
    }
    for (List<Integer> t : cf.tellings.values()) {
      t.sort(null);
    }
    return events;
  }

  /** Expected deliveries: returns {expected, excused}; lost ones are violations. */
  private long[] expectations(Map<Integer, Publication> pubs) {
    long expected = 0;
    long excused = 0;
    List<Publication> acked = pubs.values().stream().filter(p -> p.outcome == Publication.Outcome.ACKED)
        .sorted((a, b) -> Integer.compare(a.id, b.id)).toList();
    for (ClientLog c : rec.clients()) {
      ClientFacts cf = facts.get(c.index);
      for (Publication p : acked) {
        Integer sub = cf.firstSub.get(p.topic);
        if (!c.subscribes(p.topic) || sub == null || sub >= p.sentAt) {
          continue;
        }
        expected++;
        if (cf.received.contains(p.id)) {
          continue;
        }
        Long high = cf.highest.getOrDefault(p.topic, Map.of()).get(p.ackEpoch);
        boolean gap = high != null && high > p.ackOffset;
        boolean told = false;
        for (int t : cf.tellings.getOrDefault(p.topic, List.of())) {
          if (t >= p.sentAt) {
            told = true;
            break;
          }
        }
        if (!gap && told) {
          excused++;
        } else {
          violation("lost", c.name() + " never got " + pubName(p) + " on " + rec.topics.get(p.topic)
              + (gap ? ": it received offset " + high + " of that epoch" : ": no epoch change told after it"));
        }
      }
    }
    return new long[] {expected, excused};
  }

  /** Acks against deliveries: a position acked for one publication and delivered with another, or an ack nobody saw. */
  private void misplacedAndAckForks(Map<Integer, Publication> pubs, List<Map<Long, Integer>> positions,
                                    Map<Integer, Set<Long>> deliveredAt) {
    for (Publication p : pubs.values()) {
      if (p.outcome != Publication.Outcome.ACKED) {
        continue;
      }
      long ap = pos(p.ackEpoch, p.ackOffset);
      Integer there = positions.get(p.topic).get(ap);
      if (there != null && there != p.id && there != Integer.MIN_VALUE) {
        violation("forked", posName(p.topic, ap) + " was acknowledged for " + pubName(p) + " but delivered with p"
            + there);
        positions.get(p.topic).put(ap, Integer.MIN_VALUE);
      }
      Set<Long> at = deliveredAt.get(p.id);
      if (at != null && !at.contains(ap)) {
        List<String> names = at.stream().map(x -> posName(p.topic, x)).toList();
        violation("misplaced", pubName(p) + " was delivered at " + names + ", never at its acknowledged position");
      }
    }
  }

  private static String status(Recorder.OpInfo info) {
    if (info == null) {
      return "? (not asked)";
    }
    return info.statusState != null ? info.statusState + " seq " + info.statusSeq : "error " + info.statusError;
  }

  /** The client's connections from {@code at} on (at most 3), for reports. */
  private static String connectionsAfter(ClientLog c, int at) {
    List<String> out = new ArrayList<>();
    int more = 0;
    for (int r = 0; r < c.size(); r++) {
      if (c.kind(r) == ClientLog.CONNECTED && c.time(r) >= at) {
        if (out.size() < 3) {
          out.add(c.connectionInfo(c.conn(r)));
        } else {
          more++;
        }
      }
    }
    return out.isEmpty() ? "no new connection" : "connected " + out + (more > 0 ? " and " + more + " more" : "");
  }

  private void checkOps() {
    Map<String, List<OpFollow>> byOp = new HashMap<>();
    for (OpFollow f : rec.follows()) {
      byOp.computeIfAbsent(f.opId, k -> new ArrayList<>()).add(f);
    }
    List<ClientLog> clients = rec.clients();
    for (Map.Entry<String, List<OpFollow>> e : byOp.entrySet()) {
      String opId = e.getKey();
      Recorder.OpInfo info = rec.ops().get(opId);
      Set<String> endings = new java.util.TreeSet<>();
      boolean result = false;
      for (OpFollow f : e.getValue()) {
        String who = opId + " " + f.how + " by " + clients.get(f.client).name() + " (started "
            + f.startedAt + "ms, re-attaches " + f.reattaches + ")";
        Map<String, OpFollow.Frame> terminals = new LinkedHashMap<>();
        OpFollow.Frame first = null;
        boolean after = false;
        for (OpFollow.Frame fr : f.frames) {
          if (fr.terminal() || fr.type().equals("attach-error")) {
            terminals.putIfAbsent(fr.type() + " " + fr.seq() + " " + fr.code(), fr);
            if (first == null) {
              first = fr;
            }
          } else if (first != null && fr.seq() > first.seq() && !after) {
            after = true;
            violation("terminal.after", who + ": " + fr.type() + " seq " + fr.seq() + " at " + fr.at()
                + "ms after terminal " + first.type() + " seq " + first.seq());
          }
        }
        if (terminals.isEmpty()) {
          OpFollow.Frame last = f.frames.isEmpty() ? null : f.frames.get(f.frames.size() - 1);
          ClientLog c = clients.get(f.client);
          violation("terminal.missing", who + ": " + f.frames.size() + " frames, the last "
              + (last == null ? "none" : last.type() + " seq " + last.seq() + " at " + last.at() + "ms on "
              + c.connectionInfo(last.conn())) + "; then " + connectionsAfter(c, last == null ? f.startedAt : last.at()));
          continue;
        }
        if (terminals.size() > 1) {
          violation("terminal.several", who + ": " + terminals.keySet());
        }
        OpFollow.Frame t = first;
        if (t.type().equals("attach-error") || t.seq() < 0) {
          // a refusal of the follow's op.attach, or of its session's re-attach: no frame of the operation
          if ("NODE_LOST".equals(t.code())) {
            endings.add("error");
            if (info != null && info.statusState != null && !info.statusState.equals("error")) {
              violation("terminal.status", who + ": re-attach answered NODE_LOST at " + t.at()
                  + "ms but op.status says " + info.statusState + " seq " + info.statusSeq);
            }
          } else {
            violation("terminal.refused", who + ": " + (t.type().equals("attach-error") ? "op.attach" : "the resumed "
                + "session's re-attach") + " answered " + t.code() + " at " + t.at() + "ms on "
                + clients.get(f.client).connectionInfo(t.conn()) + ", while op.status says " + status(info));
          }
          continue;
        }
        String state = t.type().equals("result") ? "done" : "CANCELLED".equals(t.code()) ? "cancelled" : "error";
        endings.add(state);
        result |= state.equals("done");
        if (info != null && info.statusState != null && !info.statusState.equals(state)) {
          violation("terminal.status", who + ": terminal " + t.type() + (t.code() == null ? "" : " " + t.code())
              + " seq " + t.seq() + " but op.status says " + info.statusState + " seq " + info.statusSeq);
        } else if (info != null && info.statusState != null && !"NODE_LOST".equals(t.code())
            && info.statusSeq != t.seq()) {
          violation("terminal.status", who + ": terminal " + t.type() + (t.code() == null ? "" : " " + t.code())
              + " seq " + t.seq() + " but op.status says " + info.statusState + " seq " + info.statusSeq);
        }
      }
      if (endings.size() > 1) {
        violation("terminal.disagree", opId + ": its follows ended as " + endings);
      }
      if (info != null && info.statusError != null) {
        violation("terminal.status", opId + ": op.status answered " + info.statusError);
      }
      if (info != null && result) {
        synchronized (info.cancels) {
          for (String c : info.cancels) {
            if (c.contains("state=cancelled")) {
              violation("terminal.cancel", opId + ": ended with a result, but a cancel answered " + c);
            }
          }
        }
      }
    }
  }
}
