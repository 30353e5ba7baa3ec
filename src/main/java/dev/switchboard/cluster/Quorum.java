package dev.switchboard.cluster;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.splitbrainprotection.HeartbeatAware;
import com.hazelcast.splitbrainprotection.SplitBrainProtectionFunction;

import java.util.ArrayDeque;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Whether this node's side of the cluster may serve (docs/protocol.md, "Partitions and long pauses").
 * Hazelcast is AP: a member cut off by the network, or frozen past the member timeout (a long GC
 * pause, SIGSTOP), ends up in a cluster of its own, each side sure the other is dead, and both would
 * go on appending to their copies of the topic histories under the same epochs. Only a side holding a
 * strict majority of the data members the cluster last had together serves.
 *
 * <p>Two judgements, one rule ({@code 2 × members > expected}, or {@code members >= quorum} when a
 * fixed quorum is configured):
 * <ul>
 *   <li><b>majority</b> counts the members in this node's view. Losing it means this side is a
 *   minority: the node reports not ready, refuses upgrades and hands its clients to the majority
 *   (see Node).</li>
 *   <li><b>serving</b> counts only the members heard from (heartbeats) within the tolerance: a side
 *   that stopped hearing the others refuses appends and history reads at once, seconds before
 *   Hazelcast's member timeout changes its view. It is the {@link SplitBrainProtectionFunction} that
 *   guards the history rings and epochs at their partition owner, so an operation retried inside
 *   Hazelcast onto a minority's copy fails too.</li>
 * </ul>
 *
 * <p>{@code expected} is the largest view this node saw while it held the majority. A member that
 * announced its departure (a drain, see {@link #leaving}) lowers it when it goes; a member that
 * vanished does not, so its side cannot tell a crash from a partition and stays strict: in a
 * two-member cluster the survivor of a crash waits for its peer to come back (or a third member).
 *
 * <p>Hazelcast calls the function, heartbeat and membership methods on its split-brain-protection
 * thread, one at a time; {@link #leaving} comes from a listener thread. All of them synchronize;
 * {@link #serving} and {@link #majority} are read lock-free from any thread.
 */
public final class Quorum implements SplitBrainProtectionFunction, HeartbeatAware, MembershipListener {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Quorum.class);
  /** The name of the split-brain protection the history rings and epochs refer to. */
  public static final String NAME = "sb-majority";
  /** Departures remembered for a late announcement (bounded). */
  private static final int RECENT = 64;

  private final int fixed;
  private final long heartbeatMs;
  private final long toleranceMs;
  private final long holdMs;
  /** When Hazelcast last judged (monotonic ms): it does so every heartbeat interval. */
  private volatile long lastApply;
  /** Serving is refused until then (monotonic ms): this process was paused. */
  private volatile long pausedUntil;
  /** Data member → when it was last heard from (local clock). */
  private final Map<UUID, Long> heard = new ConcurrentHashMap<>();
  private final Set<UUID> announced = ConcurrentHashMap.newKeySet();
  /** Members removed without an announcement, newest last: an announcement that comes late still counts. */
  private final ArrayDeque<UUID> vanished = new ArrayDeque<>();
  private final List<Consumer<Boolean>> listeners = new CopyOnWriteArrayList<>();
  private volatile Collection<Member> view = List.of();
  private volatile int expected = 1;
  /** Member removals handled so far, lite members' included (written under this object's lock; for tests). */
  private volatile int removals;
  private volatile boolean majority = true;
  private volatile boolean quorate = true;
  /** While not serving, the reason is logged again this often. */
  private static final long REPORT_MS = 10_000;
  private long lastReport;

  /**
   * @param fixed       0: a majority of the expected members; n &gt; 0: at least n data members (1 turns the
   *                    protection off)
   * @param heartbeatMs Hazelcast's heartbeat interval
   * @param toleranceMs a member not heard from for this long does not count towards {@link #serving}; after
   *                    this process was paused for longer, it refuses for two heartbeats and a second
   */
  public Quorum(int fixed, long heartbeatMs, long toleranceMs) {
    this.fixed = fixed;
    this.heartbeatMs = heartbeatMs;
    this.toleranceMs = toleranceMs;
    this.holdMs = 2 * heartbeatMs + 1000;
  }

  /** The quorum of a member configured by HazelcastSetup.hazelcastConfig, or null for a member configured otherwise. */
  public static Quorum of(com.hazelcast.core.HazelcastInstance hz) {
    var c = hz.getConfig().getSplitBrainProtectionConfigs().get(NAME);
    return c != null && c.getFunctionImplementation() instanceof Quorum q ? q : null;
  }

  /**
   * Whether the members in {@code hz}'s view now hold the majority: asked where a departure is about to
   * be acted on (NODE_LOST for its operations), before this object's own judgement may have run.
   */
  public static boolean majorityNow(com.hazelcast.core.HazelcastInstance hz) {
    Quorum q = of(hz);
    if (q == null) {
      return true;
    }
    int data = 0;
    for (Member m : hz.getCluster().getMembers()) {
      if (!m.isLiteMember()) {
        data++;
      }
    }
    return q.holds(data);
  }

  /** Called with {@code true}/{@code false} when this side gains or loses the majority (on Hazelcast's thread). */
  public void onMajorityChange(Consumer<Boolean> listener) {
    listeners.add(listener);
  }

  /** This side holds the majority of the members it expects (by its view of the cluster). */
  public boolean majority() {
    return majority;
  }

  /**
   * This side may append and read history now: it holds the majority and has heard from enough of
   * its members within the tolerance (evaluated now, so a node that was frozen refuses at once when
   * it thaws, before Hazelcast's next evaluation).
   */
  public boolean serving() {
    long mono = monotonicMs();
    return quorate && mono - lastApply <= toleranceMs && mono >= pausedUntil
        && enough(live(view, System.currentTimeMillis()));
  }

  /**
   * Some expected member is missing from this node's view, or was not heard from for two heartbeats
   * (crashed, cut off, or frozen). An append acknowledged while apart may be on a side that a merge
   * later discards; every append of a side that was cut off completes that late (its backup never
   * answers before the backup timeout), so none of them escapes this test.
   */
  public boolean apart() {
    Collection<Member> v = view;
    if (v.size() < expected) {
      return true;
    }
    long now = System.currentTimeMillis();
    for (Member m : v) {
      Long t = m.localMember() ? Long.valueOf(now) : heard.get(m.getUuid());
      if (t == null || now - t >= 2 * heartbeatMs) {
        return true;
      }
    }
    return false;
  }

  /** The number of data members this node expects the cluster to have (for diagnostics and tests). */
  public int expected() {
    return expected;
  }

  /** How many member removals (data and lite members) this quorum has handled (for tests). */
  public int removals() {
    return removals;
  }

  @Override
  public synchronized boolean apply(Collection<Member> members) {
    long now = System.currentTimeMillis();
    long mono = monotonicMs();
    if (lastApply != 0 && mono - lastApply > toleranceMs) {
      // Hazelcast judges every heartbeat interval: a gap this long means this process was paused (a
      // long GC pause, SIGSTOP). The others may have removed it meanwhile, and Hazelcast itself resets
      // every heartbeat timestamp after such a "clock jump", so the members look alive: refuse until
      // the cluster has had time to tell this member where it stands (explicit suspicion, a new view).
      pausedUntil = mono + holdMs;
      LOG.atWarn().addKeyValue("paused_ms", mono - lastApply).addKeyValue("hold_ms", holdMs)
          .log("no cluster judgement for {} ms: this process was paused; refusing history for {} ms", mono - lastApply,
              holdMs);
    }
    lastApply = mono;
    for (Member m : members) {
      // a member first seen in the view counts as heard from now: it just joined, or this node did
      heard.putIfAbsent(m.getUuid(), now);
    }
    view = List.copyOf(members);
    boolean byView = enough(members.size());
    if (byView && members.size() > expected) {
      expected = members.size();
    }
    boolean was = quorate;
    quorate = byView && enough(live(members, now)) && mono >= pausedUntil;
    if (was != quorate || (!quorate && mono - lastReport >= REPORT_MS)) {
      lastReport = mono;
      LOG.atWarn().addKeyValue("serving", quorate).addKeyValue("members", members.size())
          .addKeyValue("expected", expected)
          .log((quorate ? "serving: " : was ? "not serving: " : "still not serving: ") + describe(members, now, mono));
    }
    if (byView != majority) {
      majority = byView;
      listeners.forEach(l -> l.accept(byView));
    }
    return quorate;
  }

  @Override
  public void onHeartbeat(Member member, long timestamp) {
    heard.put(member.getUuid(), System.currentTimeMillis());
  }

  @Override
  public void memberAdded(MembershipEvent event) {
    heard.put(event.getMember().getUuid(), System.currentTimeMillis());
    pausedUntil = 0; // the cluster told this member where it stands: no need to wait for it after a pause
    LOG.atInfo().addKeyValue("member", event.getMember().getAddress().toString())
        .addKeyValue("members", event.getMembers().size()).addKeyValue("expected", expected)
        .log("member {} joined; {} expected", event.getMember().getAddress(), expected);
  }

  @Override
  public synchronized void memberRemoved(MembershipEvent event) {
    UUID gone = event.getMember().getUuid();
    heard.remove(gone);
    pausedUntil = 0; // as for a join: the view is news from the cluster, the hold waited for it
    if (event.getMember().isLiteMember()) {
      // a gateway (lite member) never counted: its departure, announced or not, changes no expectation
      announced.remove(gone);
      removals++;
      return;
    }
    boolean announcedIt = announced.remove(gone);
    if (announcedIt) {
      departed();
    }
    LOG.atInfo().addKeyValue("member", event.getMember().getAddress().toString())
        .addKeyValue("members", event.getMembers().size()).addKeyValue("expected", expected)
        .addKeyValue("announced", announcedIt)
        .log("member {} left{}; {} expected", event.getMember().getAddress(), announcedIt ? " (announced)" : "", expected);
    if (!announcedIt) {
      vanished.addLast(gone);
      while (vanished.size() > RECENT) {
        vanished.removeFirst();
      }
    }
    removals++; // last: once it shows, this removal's effect on the expectation does too
  }

  /**
   * The member announced that it leaves on purpose (a drain, or a stop): once it is gone the cluster
   * expects one data member fewer. An announcement that arrives after the member's removal still
   * counts. Announcements of lite members (gateways) are ignored.
   */
  public synchronized void leaving(UUID member) {
    if (vanished.remove(member)) {
      departed();
      apply(view); // judged a minority when it went unannounced: judge again with the lower expectation
    } else if (announced.size() < RECENT && inView(member)) {
      announced.add(member);
    }
    // else not a data member in this node's view (a gateway: a lite member, which Hazelcast leaves out
    // of the view it judges; or unknown): it never counted, so its departure lowers nothing. A data
    // member that joined since the last judgement is left out too: it then counts as vanished when it
    // goes, which is the strict side.
  }

  private boolean inView(UUID member) {
    for (Member m : view) {
      if (m.getUuid().equals(member)) {
        return true;
      }
    }
    return false;
  }

  private void departed() {
    if (expected > 1) {
      expected--;
    }
  }

  private String describe(Collection<Member> members, long now, long mono) {
    StringBuilder b = new StringBuilder().append(members.size()).append(" member(s) in view, ")
        .append(live(members, now)).append(" heard from, ").append(expected).append(" expected");
    for (Member m : members) {
      Long t = heard.get(m.getUuid());
      b.append(m.localMember() ? "; this " : "; ").append(m.getAddress()).append(' ')
          .append(m.localMember() ? "" : t == null ? "never heard" : "heard " + (now - t) + " ms ago");
    }
    if (mono < pausedUntil) {
      b.append("; paused, refusing for ").append(pausedUntil - mono).append(" ms more");
    }
    return b.toString();
  }

  private static long monotonicMs() {
    return System.nanoTime() / 1_000_000;
  }

  private int live(Collection<Member> members, long now) {
    int n = 0;
    for (Member m : members) {
      Long t = m.localMember() ? Long.valueOf(now) : heard.get(m.getUuid());
      if (t != null && now - t < toleranceMs) {
        n++;
      }
    }
    return n;
  }

  /** How long a member may go unheard and still count (half the member timeout). */
  public long toleranceMs() {
    return toleranceMs;
  }

  /** Whether {@code members} members (this one included) are enough to serve. */
  public boolean holds(int members) {
    return enough(members);
  }

  /**
   * Whether {@code answered} members (this one included) are enough among those not leaving: a member
   * that announced its departure (a drain) is expected gone, and may no longer answer.
   */
  public boolean holdsAmongStaying(int answered) {
    return fixed > 0 ? answered >= fixed : 2 * answered > expected - announced.size();
  }

  /** Whether this member announced that it leaves on purpose. */
  public boolean leaving(Member m) {
    return announced.contains(m.getUuid());
  }

  private boolean enough(int members) {
    return fixed > 0 ? members >= fixed : 2 * members > expected;
  }
}
