package dev.switchboard.topics;

import com.fasterxml.jackson.databind.JsonNode;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.ringbuffer.StaleSequenceException;
import dev.switchboard.cluster.Directory;
import dev.switchboard.cluster.HzFutures;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Topics on this node. Offsets come from a Hazelcast Ringbuffer per topic (offset = sequence + 1,
 * contiguous, cluster-wide); the publishing node appends, then publishes on the topic's address;
 * every node with local subscribers holds one clustered consumer per topic, restores offset order
 * (publications from different nodes can cross on the bus) with a reorder buffer, and fills gaps
 * (events the bus dropped, e.g. during the "no handlers yet" window) from the ring. All topic
 * state lives on one context, so it needs no locks; frames are encoded once per node and handed to
 * each subscriber's event loop in one task per loop. The hub keeps who subscribes and how each
 * subscription starts; the ordered delivery is its {@link LiveFeed}, the history its {@link TopicLog}.
 */
public final class TopicHub {
  private static final Logger LOG = LoggerFactory.getLogger(TopicHub.class);

  /** A topic position. */
  public record Position(long offset, String epoch) {
  }

  /**
   * What {@code topic.subscribe} answers. {@code repeat}: the topic was already followed (or being
   * subscribed): nothing starts, no position moves.
   */
  public record Subscribed(long offset, String epoch, boolean recovered, int missed, boolean repeat) {
    Subscribed(long offset, String epoch, boolean recovered, int missed) {
      this(offset, epoch, recovered, missed, false);
    }
  }

  /** A page of history. */
  public record History(List<TopicEvent> events, long offset, String epoch, long oldest) {
  }

  final Vertx vertx;
  private final Namespaces namespaces;
  final Context hub;
  final Map<String, TopicState> topics = new HashMap<>();
  final TopicLog log;
  private final LiveFeed feed;
  final PresenceRelay presence;
  /**
   * {@code quorum}: whether this node's side of the cluster may use history now; while it may not,
   * publications fail (UNAVAILABLE) and nothing is read.
   */
  public TopicHub(Vertx vertx, HazelcastInstance hz, Namespaces namespaces, dev.switchboard.cluster.Quorum quorum) {
    this.vertx = vertx;
    this.namespaces = namespaces;
    // The hub's own ordered context, off the event loops: while a loop writes a publication to its
    // thousand sockets, the hub already hands the next one to the other loops.
    this.hub = ((io.vertx.core.internal.VertxInternal) vertx).createWorkerContext();
    this.log = new TopicLog(vertx, hz, hub, topics, quorum, new dev.switchboard.cluster.MajorityProbe(vertx, hz, quorum));
    this.feed = new LiveFeed(vertx, log, topics);
    this.presence = new PresenceRelay(vertx, namespaces, hub);
    this.stats = new TopicStats(this);
    this.unused = new UnusedTopics(vertx, hz, namespaces);
    this.retired = vertx.eventBus().<io.vertx.core.json.JsonArray>consumer(
        dev.switchboard.cluster.Addresses.EPOCHS_RETIRED, m -> hub.runOnContext(v -> {
          for (Object t : m.body()) {
            log.forgetEpoch(String.valueOf(t));
          }
          if (hz.getCluster().getLocalMember().isLiteMember()) {
            vertx.executeBlocking(() -> {
              for (Object t : m.body()) {
                TopicRetire.dropProxyIfLite(hz, dev.switchboard.cluster.Addresses.history(String.valueOf(t)));
              }
              return null;
            }, false);
          }
        }));
    unused.start();
    this.replaced = vertx.eventBus().<io.vertx.core.json.JsonArray>consumer(
        dev.switchboard.cluster.Addresses.EPOCHS_REPLACED, m -> hub.runOnContext(v -> epochsReplaced(m.body())));
  }

  private final io.vertx.core.eventbus.MessageConsumer<io.vertx.core.json.JsonArray> replaced;
  private final TopicStats stats;

  /** What this node holds open, for the admin API and the live figures. */
  public TopicStats stats() {
    return stats;
  }

  private final UnusedTopics unused;
  private final io.vertx.core.eventbus.MessageConsumer<io.vertx.core.json.JsonArray> retired;

  /** Retires now the topics nobody uses any more whose epoch entries this member owns (see {@link UnusedTopics}); for tests. */
  public Future<Integer> sweepUnused() {
    return unused.sweep();
  }

  /** Registered on the bus (start-up waits for it, so that no replacement is missed once serving). */
  /** Where publications, replays, gap fills and epoch changes are counted (the node's metrics). */
  public void meters(TopicMeters m) {
    this.meters = m;
    feed.meters = m;
  }

  private TopicMeters meters = TopicMeters.NONE;
  private final java.util.concurrent.atomic.AtomicInteger subscriptions = new java.util.concurrent.atomic.AtomicInteger();

  /** Live subscriptions on this node, over all topics (replays still running not included); any thread. */
  public int subscriptions() {
    return subscriptions.get();
  }

  public Future<Void> ready() {
    return replaced.completion().compose(v -> retired.completion());
  }

  /**
   * These topics' epochs were replaced (a side that served while apart merged back): forget the cached
   * epochs; an open topic goes on from the offset it delivered, under the new epoch.
   */
  private void epochsReplaced(io.vertx.core.json.JsonArray names) {
    for (Object o : names) {
      String t = String.valueOf(o);
      log.forgetEpoch(t);
      TopicState st = topics.get(t);
      if (st != null && st.initialized) {
        log.freshEpoch(t).onSuccess(e -> {
          if (topics.get(t) == st && !e.equals(st.epoch)) {
            LOG.atWarn().addKeyValue("topic", t).addKeyValue("epoch", e).addKeyValue("previous_epoch", st.epoch)
                .addKeyValue("cause", "merge").log("topic {}: epoch replaced after a merge, now {}", t, e);
            st.epoch = e;
            meters.epochChanged("merge");
          }
        });
      }
    }
  }

  public Namespaces namespaces() {
    return namespaces;
  }

  /** Set once at start-up. */
  public void directory(Directory directory) {
    presence.directory(directory);
  }

  /** Writes back this node's presence records the cluster lost (see PresenceRelay#reassert); any thread. */
  public void reassertPresence() {
    hub.runOnContext(v -> presence.reassert(topics));
  }

  /** Leave frames for the members of a node that left the cluster (its entries are already removed). */
  public void membersLost(List<Directory.Member> lost) {
    presence.membersLost(lost);
  }

  /**
   * Members left or joined the cluster, or this node merged back: every open topic is checked
   * against history shortly after (see {@link LiveFeed#membershipChanged}).
   */
  public void membershipChanged() {
    hub.runOnContext(v -> feed.membershipChanged());
  }

  /**
   * This node rejoined the majority after being cut off: what it cached of epochs and offsets may be of
   * its own copy of the histories, which the merge discarded.
   */
  public void rejoined() {
    hub.runOnContext(v -> log.forgetEpochs());
  }

  /**
   * This node's side merged into another after a split: its copies of the histories were discarded.
   * Every topic it appended to while apart gets a new epoch in the merged cluster (see TopicLog#merged).
   */
  public Future<Integer> merged() {
    Promise<Integer> done = Promise.promise();
    hub.runOnContext(v -> {
      log.merged().onComplete(done);
      feed.membershipChanged();
    });
    return done.future();
  }

  /** Appends to the topic's history and publishes to every node with subscribers (see {@link TopicLog}). */
  public Future<Position> publish(String topic, JsonNode data, String from) {
    if (TopicNames.reserved(topic)) { // whatever door it came by: only the node itself publishes there
      return Future.failedFuture(new dev.switchboard.protocol.SwitchboardException(
          dev.switchboard.protocol.ErrorCode.FORBIDDEN, "reserved topic"));
    }
    meters.published(topic);
    return log.publish(topic, data, from);
  }

  /** A node's own publication on a reserved system topic (see api/SysFeed). */
  public Future<Position> publishSystem(String topic, JsonNode data, String from) {
    return log.publish(topic, data, from);
  }

  // ------------------------------------------------------------------ subscribe

  /**
   * Adds a local subscriber. Without {@code sinceOffset} it gets everything after the returned
   * offset; with it, the events after {@code sinceOffset} are replayed first (recovered) when the
   * epoch matches and history still holds them. No gap, no duplicate: the replay and the switch to
   * live delivery happen on the hub's context.
   *
   * <p>The subscriber is first recorded in presence (where the namespace has it), then goes live or
   * starts its replay. {@code answer} is called once, on the subscriber's loop, with the result when
   * the subscription succeeds; it is queued ahead of every event the subscription delivers, so the
   * result frame comes first. A subscribe of a topic the subscriber already follows (live, or
   * still replaying) is answered with the topic's last offset and delivers nothing twice.
   */
  public Future<Subscribed> subscribe(Subscriber s, String topic, Long sinceOffset, String sinceEpoch,
                                      java.util.function.Consumer<Subscribed> answer) {
    Promise<Subscribed> done = Promise.promise();
    hub.runOnContext(v -> {
      TopicState st = topics.computeIfAbsent(topic, this::open);
      LoopInbox inbox = feed.inbox(s.context());
      boolean repeat = st.contains(s) || st.replaying.containsKey(s);
      // Pending from now on, while the topic opens too: an unsubscribe or close meanwhile removes the
      // marker, and the subscription then never goes live.
      Object marker = repeat ? null : new Object();
      if (!repeat) {
        st.replaying.put(s, marker);
      }
      st.ready.future().transform(opened -> {
        if (!repeat && st.replaying.get(s) != marker) {
          // unsubscribed (or closed) while the topic opened, whether it opened or not: nothing starts
          return answered(inbox, answer, new Subscribed(st.last, st.epoch, false, 0, true));
        }
        if (opened.failed()) {
          return Future.failedFuture(opened.cause());
        }
        if (repeat) {
          return answered(inbox, answer, new Subscribed(st.last, st.epoch, false, 0, true));
        }
        return presence.joined(s, topic).transform(joined -> {
          if (st.replaying.get(s) != marker) {
            // unsubscribed or closed while being recorded: undo the record, unless subscribed again since
            TopicState now = topics.get(topic);
            if (now == null || !(now.contains(s) || now.replaying.containsKey(s))) {
              presence.left(s, topic);
            }
            return answered(inbox, answer, new Subscribed(st.last, st.epoch, false, 0, true));
          }
          if (sinceOffset == null || !st.epoch.equals(sinceEpoch)) {
            st.replaying.remove(s);
            if (sinceOffset != null) {
              notRecovered(st, s, sinceEpoch, sinceOffset, "another epoch");
            }
            return live(st, s, inbox, answer);
          }
          if (sinceOffset > st.last) {
            return ahead(st, s, inbox, sinceOffset, marker, answer);
          }
          return replay(st, s, inbox, sinceOffset, marker, answer);
        });
      }).onComplete(ar -> {
        if (ar.failed() && marker != null && st.replaying.get(s) == marker) {
          st.replaying.remove(s);
          presence.left(s, topic);
        }
        if (ar.failed() && st.subscriberCount == 0 && st.replaying.isEmpty()) {
          close(st);
        }
        done.handle(ar);
      });
    });
    return done.future();
  }

  /** A subscribe with a position that goes live without replaying (the client is told recovered:false): rare, worth a line. */
  private static void notRecovered(TopicState st, Subscriber s, String epoch, long since, String why) {
    LOG.atInfo().addKeyValue("topic", st.topic).addKeyValue("conn", s.connectionId())
        .log("topic {}: {} since {}:{} not recovered ({}), live from {}:{}", st.topic, s.connectionId(), epoch, since, why,
            st.epoch, st.last);
  }

  private static Future<Subscribed> answered(LoopInbox inbox, java.util.function.Consumer<Subscribed> answer,
                                             Subscribed r) {
    inbox.run(() -> answer.accept(r));
    return Future.succeededFuture(r);
  }

  /** Live from the topic's last offset on; the answer is queued before any live event can be. */
  private static Future<Subscribed> live(TopicState st, Subscriber s, LoopInbox inbox,
                                         java.util.function.Consumer<Subscribed> answer) {
    Subscribed r = new Subscribed(st.last, st.epoch, false, 0);
    inbox.run(() -> answer.accept(r));
    st.add(s);
    return Future.succeededFuture(r);
  }

  /**
   * The client saw offsets up to {@code since}, beyond what this node delivered of the topic (it came
   * from a node further ahead, whose events are on their way here). History decides: when it holds
   * that position, the client recovered (it goes live here, and drops by offset the events it already
   * has); otherwise it saw what history does not hold (nothing the majority acknowledged): not
   * recovered, and it knows to reload.
   */
  private Future<Subscribed> ahead(TopicState st, Subscriber s, LoopInbox inbox, long since, Object marker,
                                   java.util.function.Consumer<Subscribed> answer) {
    String epoch = st.epoch;
    return log.tail(st.topic).transform(ar -> {
      if (st.replaying.get(s) != marker) {
        return answered(inbox, answer, new Subscribed(st.last, st.epoch, false, 0, true)); // gone meanwhile
      }
      if (ar.failed()) {
        return Future.failedFuture(ar.cause()); // the caller drops the pending entry and the presence record
      }
      long latest = ar.result() + 1;
      if (!epoch.equals(st.epoch) || since > latest) {
        st.replaying.remove(s);
        notRecovered(st, s, epoch, since, epoch.equals(st.epoch) ? "ahead of history (latest " + latest + ")"
            : "the epoch changed meanwhile");
        return live(st, s, inbox, answer);
      }
      if (since < st.last) {
        // the topic's events went past the client's position here while history was asked (they
        // reached the others, not this pending subscriber): those come from history, as any replay
        return replay(st, s, inbox, since, marker, answer);
      }
      st.replaying.remove(s);
      Subscribed r = new Subscribed(Math.max(st.last, latest), st.epoch, true, 0);
      inbox.run(() -> answer.accept(r));
      st.add(s);
      return Future.succeededFuture(r);
    });
  }

  /**
   * Recovery from {@code after}: when history still holds offset {@code after}+1, the answer goes
   * out first, then the missed events in order, paced by the subscriber's outbound queue (a replay
   * never makes a subscriber a slow consumer), then live events: the subscriber joins the topic's
   * live set, on the hub's context, only once the replay has handed over everything up to the
   * topic's last offset. {@code marker} is the subscriber's pending entry in {@code st.replaying}.
   */
  private Future<Subscribed> replay(TopicState st, Subscriber s, LoopInbox inbox, long after, Object marker,
                                    java.util.function.Consumer<Subscribed> answer) {
    if (after >= st.last) {
      st.replaying.remove(s);
      Subscribed r = new Subscribed(st.last, st.epoch, true, 0);
      inbox.run(() -> answer.accept(r));
      st.add(s);
      return Future.succeededFuture(r);
    }
    String epoch = st.epoch;
    return log.read(st.topic, epoch, after, REPLAY_BATCH).transform(ar -> {
      List<TopicEvent> events = ar.succeeded() ? ar.result() : List.of();
      if (st.replaying.get(s) != marker) {
        events.forEach(TopicEvent::release); // unsubscribed (or closed) meanwhile: nothing started
        return answered(inbox, answer, new Subscribed(st.last, st.epoch, false, 0, true));
      }
      if (!epoch.equals(st.epoch)) {
        // the history was lost and restarted during the read: the position is of the old epoch
        events.forEach(TopicEvent::release);
        st.replaying.remove(s);
        notRecovered(st, s, epoch, after, "the epoch changed meanwhile");
        return live(st, s, inbox, answer);
      }
      if (ar.failed() && !(unwrap(ar.cause()) instanceof StaleSequenceException)) {
        return Future.failedFuture(ar.cause()); // the caller drops the pending entry and the presence record
      }
      if (events.isEmpty() || events.get(0).offset != after + 1) {
        notRecovered(st, s, epoch, after, events.isEmpty() ? "history holds nothing after it"
            : "history starts at " + events.get(0).offset);
        events.forEach(TopicEvent::release);
        st.replaying.remove(s);
        return live(st, s, inbox, answer); // history no longer holds that position: not recoverable
      }
      Subscribed r = new Subscribed(st.last, st.epoch, true, (int) Math.min(Integer.MAX_VALUE, st.last - after));
      inbox.run(() -> answer.accept(r));
      Replay replay = new Replay(this, st, s, inbox, after, events);
      meters.replayed();
      st.replaying.put(s, replay);
      replay.step();
      return Future.succeededFuture(r);
    });
  }

  /** Events a replay hands over per step (then it waits for the loop to have written them). */
  static final int REPLAY_CHUNK_BYTES = 32 * 1024;
  static final int REPLAY_BATCH = 100;
  /** How often a replay looks again at a congested subscriber. */
  static final long REPLAY_WAIT_MS = 20;


  /** Whether this node holds the topic open (local subscribers, pending or replaying ones); for tests and diagnostics. */
  public Future<Boolean> isOpen(String topic) {
    Promise<Boolean> p = Promise.promise();
    hub.runOnContext(v -> p.complete(topics.containsKey(topic)));
    return p.future();
  }

  public void unsubscribe(Subscriber s, String topic) {
    hub.runOnContext(v -> {
      TopicState st = topics.get(topic);
      if (st == null) {
        return;
      }
      boolean wasReplaying = st.replaying.remove(s) != null; // its replay stops at its next step
      if (st.remove(s) || wasReplaying) {
        presence.left(s, topic);
        if (st.subscriberCount == 0 && st.replaying.isEmpty()) {
          close(st);
        }
      }
    });
  }

  private TopicState open(String topic) {
    TopicState st = new TopicState(topic, subscriptions);
    feed.listen(st);
    // The map's epoch, not the cached one: a cache entry may predate a loss this node did not see
    // (the topic was not open here), and a `since` of the old epoch would then be "recovered" from
    // the new history.
    log.freshEpoch(topic).compose(epoch -> {
      st.epoch = epoch;
      return st.consumer.completion();
    }).compose(x -> log.tail(topic)).onComplete(ar -> {
      if (st.ready.future().isComplete()) {
        return; // closed while opening (its last subscriber left first)
      }
      if (ar.failed()) {
        LOG.atWarn().addKeyValue("topic", topic)
            .log("topic {} could not be opened: {}", topic, String.valueOf(ar.cause().getMessage()));
        st.ready.fail(ar.cause());
        return;
      }
      feed.opened(st, ar.result() + 1);
      st.ready.complete();
    });
    return st;
  }

  void close(TopicState st) {
    if (topics.get(st.topic) == st) {
      topics.remove(st.topic);
    }
    st.closed();
    if (st.initialized) {
      log.known(st.topic, st.epoch, st.last); // what it delivered still tells a later append of a lost history
    }
    // closed while opening: whoever waits for it goes on (a pending subscribe finds its marker gone)
    st.ready.tryFail("topic closed while opening");
    feed.stop(st);
  }

  // ------------------------------------------------------------------ history

  /**
   * Up to {@code limit} events after offset {@code after} (oldest first), with the topic's latest
   * offset; {@code after} &lt; 0 means the latest {@code limit} events (see {@link TopicLog}).
   */
  public Future<History> history(String topic, long after, int limit) {
    return log.history(topic, after, limit);
  }

  // ------------------------------------------------------------------ plumbing

  static Throwable unwrap(Throwable t) {
    return HzFutures.unwrap(t);
  }

}
