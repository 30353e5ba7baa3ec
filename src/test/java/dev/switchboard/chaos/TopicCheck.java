package dev.switchboard.chaos;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The topic rules of the {@link Checker} (its javadoc defines them): order, duplicates and forks
 * per client log, then the expected deliveries of every acknowledged publication, then the acks
 * against what was delivered. Pure; one use.
 */
final class TopicCheck {
  private final Recorder rec;
  private final Violations v;
  /** Every position any client saw with the publication it carried (Integer.MIN_VALUE once counted as a fork). */
  private final List<Map<Long, Integer>> positions = new ArrayList<>();
  /** Where each publication was delivered. */
  private final Map<Integer, Set<Long>> deliveredAt = new HashMap<>();
  long events;
  long expected;
  long excused;
  long epochs;

  TopicCheck(Recorder rec, Violations v) {
    this.rec = rec;
    this.v = v;
    for (int t = 0; t < rec.topics.size(); t++) {
      positions.add(new HashMap<>());
    }
  }

  void run() {
    Map<Integer, Publication> pubs = rec.publications();
    for (ClientLog c : rec.clients()) {
      events += clientTopics(c, pubs, positions, deliveredAt);
    }
    long[] totals = expectations(pubs);
    expected = totals[0];
    excused = totals[1];
    misplacedAndAckForks(pubs, positions, deliveredAt);
    epochs = epochChanges(pubs);
  }

  static long pos(int epoch, long offset) {
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
          v.add("disordered", where + ": epoch went back from " + rec.epochName(cur));
        }
        left.add(cur);
        cf.tellings.computeIfAbsent(topic, k -> new ArrayList<>()).add(c.time(r));
      } else if (!mine.contains(p) && high.getOrDefault(epoch, Long.MIN_VALUE) >= offset) {
        v.add("disordered", where + ": below offset " + high.get(epoch) + " already received");
      }
      if (!seenOnConn.computeIfAbsent(topic, k -> new HashSet<>()).add(p)) {
        v.add("disordered", where + ": the same position twice on one connection");
      }
      currentEpoch.put(topic, epoch);
      high.merge(epoch, offset, Math::max);
      mine.add(p);
      if (pub < 0) {
        continue;
      }
      Integer other = positions.get(topic).putIfAbsent(p, pub);
      if (other != null && other != pub && other != Integer.MIN_VALUE) {
        v.add("forked", posName(topic, p) + " carried p" + other + " and p" + pub + " (the latter to " + where
            + ")");
        positions.get(topic).put(p, Integer.MIN_VALUE); // counted once per position
      }
      deliveredAt.computeIfAbsent(pub, k -> new HashSet<>()).add(p);
      cf.received.add(pub);
      Long first = pubPos.computeIfAbsent(topic, k -> new HashMap<>()).putIfAbsent(pub, p);
      if (first != null && first != p && duplicatedPubs.add(pub)) {
        Publication pp = pubs.get(pub);
        v.add("duplicated", c.name() + " got " + (pp == null ? "p" + pub : pubName(pp)) + " at "
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
          v.add("lost", c.name() + " never got " + pubName(p) + " on " + rec.topics.get(p.topic)
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
        v.add("forked", posName(p.topic, ap) + " was acknowledged for " + pubName(p) + " but delivered with p"
            + there);
        positions.get(p.topic).put(ap, Integer.MIN_VALUE);
      }
      Set<Long> at = deliveredAt.get(p.id);
      if (at != null && !at.contains(ap)) {
        List<String> names = at.stream().map(x -> posName(p.topic, x)).toList();
        v.add("misplaced", pubName(p) + " was delivered at " + names + ", never at its acknowledged position");
      }
    }
  }
}
