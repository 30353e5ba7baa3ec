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
  public record Subscribed(long offset, String epoch, boolean recovered, int missed) {
  }

  /** A page of history. */
  public record History(List<TopicEvent> events, long offset, String epoch, long oldest) {
  }

  private final Vertx vertx;
  private final HazelcastInstance hz;
  private final Namespaces namespaces;
  private final Context hub;
  private final Map<String, TopicState> topics = new HashMap<>();
  /** One inbox per event loop with subscribers (hub-confined map; the inboxes are shared with their loops). */
  private final Map<Context, LoopInbox> inboxes = new HashMap<>();
  private final TopicLog log;
  private final PresenceRelay presence;
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
   */
  public Future<Subscribed> subscribe(Subscriber s, String topic, Long sinceOffset, String sinceEpoch,
                                      java.util.function.Consumer<Subscribed> beforeReplay) {
    Promise<Subscribed> done = Promise.promise();
    hub.runOnContext(v -> {
      TopicState st = topics.computeIfAbsent(topic, this::open);
      st.ready.future().compose(x -> {
        if (sinceOffset == null || !st.epoch.equals(sinceEpoch) || sinceOffset > st.last) {
          st.add(s);
          return Future.succeededFuture(new Subscribed(st.last, st.epoch, false, 0));
        }
        return replay(st, s, sinceOffset, new ArrayList<>(), beforeReplay);
      }).onComplete(ar -> {
        if (ar.failed() && st.subscriberCount == 0) {
          close(st);
        }
        if (ar.succeeded()) {
          // answered once the member is recorded: the subscriber is then in topic.presence
          presence.joined(s, topic).onComplete(x -> done.handle(ar));
        } else {
          done.handle(ar);
        }
      });
    });
    return done.future();
  }

  private Future<Subscribed> replay(TopicState st, Subscriber s, long after, List<TopicEvent> got,
                                    java.util.function.Consumer<Subscribed> beforeReplay) {
    if (after >= st.last) {
      // caught up, on the hub's context: add now so the next live event follows the replay
      Subscribed r = new Subscribed(st.last, st.epoch, true, got.size());
      st.add(s);
      // through the loop's inbox: the replay goes out before the live events queued after it
      inboxes.computeIfAbsent(s.context(), LoopInbox::new).run(() -> {
        beforeReplay.accept(r);
        for (TopicEvent e : got) {
          s.deliver(e, e.sharedFrame(s.binary()), 1);
          e.release(); // replayed events were read for this subscriber alone
        }
      });
      return Future.succeededFuture(r);
    }
    int count = (int) Math.min(READ_BATCH, st.last - after);
    return read(st.topic, st.epoch, after, count).compose(events -> {
      if (events.isEmpty()) {
        // history no longer holds that position: not recoverable
        st.add(s);
        return Future.succeededFuture(new Subscribed(st.last, st.epoch, false, 0));
      }
      for (TopicEvent e : events) {
        if (e.offset <= st.last) {
          e.jsonFrame();
          if (s.binary()) {
            e.cborFrame();
          }
          got.add(e);
        }
      }
      return replay(st, s, events.get(events.size() - 1).offset, got, beforeReplay);
    }, err -> {
      if (unwrap(err) instanceof StaleSequenceException) {
        st.add(s);
        return Future.succeededFuture(new Subscribed(st.last, st.epoch, false, 0));
      }
      return Future.failedFuture(err);
    });
  }

  public void unsubscribe(Subscriber s, String topic) {
    hub.runOnContext(v -> {
      TopicState st = topics.get(topic);
      if (st != null && st.remove(s)) {
        presence.left(s, topic);
        if (st.subscriberCount == 0) {
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

  private void close(TopicState st) {
    if (topics.get(st.topic) == st) {
      topics.remove(st.topic);
    }
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
  private Future<List<TopicEvent>> read(String topic, String epoch, long after, int max) {
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

  private static Throwable unwrap(Throwable t) {
    return HzFutures.unwrap(t);
  }

}
