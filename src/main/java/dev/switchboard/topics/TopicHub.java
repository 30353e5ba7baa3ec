package dev.switchboard.topics;

import com.fasterxml.jackson.databind.JsonNode;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.ringbuffer.Ringbuffer;
import com.hazelcast.ringbuffer.StaleSequenceException;
import dev.switchboard.cluster.Addresses;
import dev.switchboard.cluster.Directory;
import dev.switchboard.cluster.HzFutures;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.internal.logging.Logger;
import io.vertx.core.internal.logging.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * Topics on this node. Offsets come from a Hazelcast Ringbuffer per topic (offset = sequence + 1,
 * contiguous, cluster-wide); the publishing node appends, then publishes on the topic's address;
 * every node with local subscribers holds one clustered consumer per topic, restores offset order
 * (publications from different nodes can cross on the bus) with a reorder buffer, and fills gaps
 * (events the bus dropped, e.g. during the "no handlers yet" window) from the ring. All topic
 * state lives on one context, so it needs no locks; frames are encoded once per node and handed to
 * each subscriber's event loop in one task per loop.
 */
public final class TopicHub {
  private static final Logger LOG = LoggerFactory.getLogger(TopicHub.class);
  /** Wait this long for a missing offset to arrive on the bus before reading it from history. */
  static final long GAP_WAIT_MS = 200;
  static final int READ_BATCH = 1000;
  /** Most publications appended in one Hazelcast call. */
  static final int APPEND_BATCH = 256;

  /** A topic position. */
  public record Position(long offset, String epoch) {
  }

  /** What {@code topic.subscribe} answers. */
  /** {@code repeat}: the topic was already followed (or being subscribed): nothing starts, no position moves. */
  public record Subscribed(long offset, String epoch, boolean recovered, int missed, boolean repeat) {
    Subscribed(long offset, String epoch, boolean recovered, int missed) {
      this(offset, epoch, recovered, missed, false);
    }
  }

  /** A page of history. */
  public record History(List<TopicEvent> events, long offset, String epoch, long oldest) {
  }

  final Vertx vertx;
  private final HazelcastInstance hz;
  private final Namespaces namespaces;
  final Context hub;
  final Map<String, TopicState> topics = new HashMap<>();
  /** One inbox per event loop with subscribers (hub-confined map; the inboxes are shared with their loops). */
  private final Map<Context, LoopInbox> inboxes = new HashMap<>();
  private final TopicLog log;
  final PresenceRelay presence;
  public TopicHub(Vertx vertx, HazelcastInstance hz, Namespaces namespaces) {
    this.vertx = vertx;
    this.hz = hz;
    this.namespaces = namespaces;
    // The hub's own ordered context, off the event loops: while a loop writes a publication to its
    // thousand sockets, the hub already hands the next one to the other loops.
    this.hub = ((io.vertx.core.internal.VertxInternal) vertx).createWorkerContext();
    this.log = new TopicLog(vertx, hz, hub);
    this.presence = new PresenceRelay(vertx, namespaces, hub);
  }

  public Namespaces namespaces() {
    return namespaces;
  }

  /** Set once at start-up. */
  public void directory(Directory directory) {
    presence.directory(directory);
  }

  /** Leave frames for the members of a node that left the cluster (its entries are already removed). */
  public void membersLost(List<Directory.Member> lost) {
    presence.membersLost(lost);
  }

  /** Appends to the topic's history and publishes to every node with subscribers (see {@link TopicLog}). */
  public Future<Position> publish(String topic, JsonNode data, String from) {
    return log.publish(topic, data, from);
  }

  private Future<String> epoch(String topic) {
    return log.epoch(topic);
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
      LoopInbox inbox = inboxes.computeIfAbsent(s.context(), LoopInbox::new);
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
          if (sinceOffset == null || !st.epoch.equals(sinceEpoch) || sinceOffset > st.last) {
            st.replaying.remove(s);
            return live(st, s, inbox, answer);
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
    return read(st.topic, st.epoch, after, REPLAY_BATCH).transform(ar -> {
      List<TopicEvent> events = ar.succeeded() ? ar.result() : List.of();
      if (st.replaying.get(s) != marker) {
        events.forEach(TopicEvent::release); // unsubscribed (or closed) meanwhile
        return answered(inbox, answer, new Subscribed(st.last, st.epoch, false, 0));
      }
      if (ar.failed() && !(unwrap(ar.cause()) instanceof StaleSequenceException)) {
        return Future.failedFuture(ar.cause()); // the caller drops the pending entry and the presence record
      }
      if (events.isEmpty() || events.get(0).offset != after + 1) {
        events.forEach(TopicEvent::release);
        st.replaying.remove(s);
        return live(st, s, inbox, answer); // history no longer holds that position: not recoverable
      }
      Subscribed r = new Subscribed(st.last, st.epoch, true, (int) Math.min(Integer.MAX_VALUE, st.last - after));
      inbox.run(() -> answer.accept(r));
      Replay replay = new Replay(this, st, s, inbox, after, events);
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
    TopicState st = new TopicState(topic);
    st.consumer = vertx.eventBus().consumer(Addresses.topic(topic), m -> onBus(st, m));
    epoch(topic).compose(epoch -> {
      st.epoch = epoch;
      return st.consumer.completion();
    }).compose(x -> vertx.executeBlocking(() -> ring(topic).tailSequence(), false)).onComplete(ar -> {
      if (st.ready.future().isComplete()) {
        return; // closed while opening (its last subscriber left first)
      }
      if (ar.failed()) {
        LOG.warn("topic " + topic + " could not be opened: " + ar.cause().getMessage());
        st.ready.fail(ar.cause());
        return;
      }
      st.last = ar.result() + 1;
      st.initialized = true;
      drain(st);
      // A node that cached "no handlers" for our address before the registration reached it drops
      // publishes for a few ms: look for them in history once that window has passed.
      vertx.setTimer(100, t -> catchUp(st));
      vertx.setTimer(1000, t -> catchUp(st));
      st.ready.complete();
    });
    return st;
  }

  void close(TopicState st) {
    if (topics.get(st.topic) == st) {
      topics.remove(st.topic);
    }
    // closed while opening: whoever waits for it goes on (a pending subscribe finds its marker gone)
    st.ready.tryFail("topic closed while opening");
    st.consumer.unregister();
    if (st.gapTimer >= 0) {
      vertx.cancelTimer(st.gapTimer);
    }
    st.held.values().forEach(TopicEvent::release);
    st.held.clear();
  }

  // ------------------------------------------------------------------ delivery

  private void onBus(TopicState st, Message<String> m) {
    if ("p".equals(m.headers().get("k"))) {
      fanOut(st, TopicEvent.raw(st.topic, m.body()));
      return;
    }
    long offset;
    try {
      offset = Long.parseLong(m.headers().get("o"));
    } catch (RuntimeException e) {
      return;
    }
    String epoch = m.headers().get("e");
    if (st.epoch != null && !st.epoch.equals(epoch)) {
      checkEpoch(st, epoch);
      return;
    }
    if (st.initialized && offset <= st.last) {
      return;
    }
    st.held.putIfAbsent(offset, new TopicEvent(st.topic, offset, m.headers().get("e"), m.body()));
    if (st.initialized) {
      drain(st);
    }
  }

  /**
   * An event of another epoch: if it is the topic's epoch now, the history was lost and restarted;
   * follow it from its first offset (subscribers see the new epoch and know to reload). An event of
   * an older epoch still in flight is dropped.
   */
  private void checkEpoch(TopicState st, String seen) {
    log.forgetEpoch(st.topic);
    log.freshEpoch(st.topic).onSuccess(current -> {
      if (current.equals(seen) && !current.equals(st.epoch) && topics.get(st.topic) == st) {
        LOG.warn("topic " + st.topic + ": history was lost, new epoch " + current);
        st.epoch = current;
        st.last = 0;
        st.held.values().forEach(TopicEvent::release);
        st.held.clear();
        fill(st);
      }
    });
  }

  /** Delivers held events in offset order while they are contiguous; arms a gap fill otherwise. */
  private void drain(TopicState st) {
    while (!st.held.isEmpty()) {
      Map.Entry<Long, TopicEvent> first = st.held.firstEntry();
      if (first.getKey() <= st.last) {
        st.held.pollFirstEntry().getValue().release();
      } else if (first.getKey() == st.last + 1) {
        st.held.pollFirstEntry();
        st.last = first.getKey();
        fanOut(st, first.getValue());
      } else {
        break;
      }
    }
    if (st.held.isEmpty()) {
      if (st.gapTimer >= 0) {
        vertx.cancelTimer(st.gapTimer);
        st.gapTimer = -1;
      }
    } else if (st.held.size() > TopicState.MAX_HELD) {
      fill(st);
    } else if (st.gapTimer < 0) {
      st.gapTimer = vertx.setTimer(GAP_WAIT_MS, t -> {
        st.gapTimer = -1;
        fill(st);
      });
    }
  }

  private void catchUp(TopicState st) {
    if (topics.get(st.topic) != st) {
      return;
    }
    vertx.executeBlocking(() -> ring(st.topic).tailSequence(), false).onSuccess(tail -> {
      if (tail + 1 > st.last && st.held.isEmpty()) {
        fill(st);
      }
    });
  }

  /** Reads what is missing after {@code last} from history and delivers it. */
  private void fill(TopicState st) {
    if (st.filling || topics.get(st.topic) != st) {
      return;
    }
    st.filling = true;
    read(st.topic, st.epoch, st.last, READ_BATCH).onComplete(ar -> {
      st.filling = false;
      if (ar.succeeded()) {
        for (TopicEvent e : ar.result()) {
          if (e.offset > st.last) {
            st.held.putIfAbsent(e.offset, e);
          }
        }
      } else if (unwrap(ar.cause()) instanceof StaleSequenceException) {
        // history no longer holds the gap: skip to the oldest event it has
        long head = ((StaleSequenceException) unwrap(ar.cause())).getHeadSeq();
        LOG.warn("topic " + st.topic + ": offsets " + (st.last + 1) + ".." + head + " left history before delivery");
        st.last = Math.max(st.last, head);
      }
      drain(st);
    });
  }

  /**
   * Encodes the event once for this node and hands it to the inbox of every event loop with
   * subscribers; each loop holds a reference to the frames until it has written them.
   */
  private void fanOut(TopicState st, TopicEvent e) {
    e.jsonFrame();
    if (st.binarySubscribers > 0) {
      e.cborFrame();
    }
    for (Map.Entry<Context, Subscriber[]> group : st.byLoop.entrySet()) {
      e.retain();
      inboxes.computeIfAbsent(group.getKey(), LoopInbox::new).offer(group.getValue(), e);
    }
    e.release();
  }

  // ------------------------------------------------------------------ history

  /**
   * Up to {@code limit} events after offset {@code after} (oldest first), with the topic's latest
   * offset; {@code after} &lt; 0 means the latest {@code limit} events.
   */
  public Future<History> history(String topic, long after, int limit) {
    Promise<History> done = Promise.promise();
    hub.runOnContext(v -> epoch(topic).compose(epoch -> vertx.executeBlocking(() -> {
      Ringbuffer<String> r = ring(topic);
      return new long[] {r.headSequence(), r.tailSequence()};
    }, false).compose(ht -> {
      long latest = ht[1] + 1;
      long from = Math.max(after < 0 ? latest - limit : after, ht[0]);
      int n = (int) Math.max(0, Math.min(limit, latest - from));
      Future<List<TopicEvent>> events = n == 0 ? Future.succeededFuture(List.of()) : read(topic, epoch, from, n);
      return events.map(list -> new History(list, latest, epoch, ht[0] + 1));
    })).onComplete(done));
    return done.future();
  }

  /** Events from offset {@code after}+1, at most {@code max}, as available now. */
  Future<List<TopicEvent>> read(String topic, String epoch, long after, int max) {
    return fromStage(ring(topic).readManyAsync(after, 0, max, null)).map(rs -> {
      List<TopicEvent> out = new ArrayList<>(rs.size());
      for (int i = 0; i < rs.size(); i++) {
        out.add(new TopicEvent(topic, rs.getSequence(i) + 1, epoch, rs.get(i)));
      }
      return out;
    });
  }

  // ------------------------------------------------------------------ plumbing

  Ringbuffer<String> ring(String topic) {
    return hz.getRingbuffer(Addresses.history(topic));
  }

  /** A Hazelcast stage as a Vert.x future completed on the hub's context (never on the common pool). */
  private <T> Future<T> fromStage(CompletionStage<T> stage) {
    return HzFutures.on(hub, stage);
  }

  static Throwable unwrap(Throwable t) {
    return HzFutures.unwrap(t);
  }

}
