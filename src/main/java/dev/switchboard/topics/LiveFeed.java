package dev.switchboard.topics;

import com.hazelcast.ringbuffer.StaleSequenceException;
import dev.switchboard.cluster.Addresses;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;

/**
 * The live side of this node's topics: the one clustered consumer per open topic, the restoring of
 * offset order (publications from different nodes can cross on the bus) with the topic's reorder
 * buffer, the filling of gaps (events the bus dropped, e.g. during the "no handlers yet" window) from
 * history, and the fan-out: each event is encoded once for this node and handed to the inbox of every
 * event loop with subscribers. Its own class so that the hub keeps who subscribes and how a
 * subscription starts (live, or after a {@link Replay}), and this how events reach the loops in
 * order. Confined to the hub's context, like the topic states it works on.
 */
final class LiveFeed {
  private static final Logger LOG = LoggerFactory.getLogger(LiveFeed.class);
  /** Wait this long for a missing offset to arrive on the bus before reading it from history. */
  static final long GAP_WAIT_MS = 200;
  static final int READ_BATCH = 1000;

  private final Vertx vertx;
  private final TopicLog log;
  /** The hub's open topics: a state no longer in it was closed, and its late callbacks do nothing. */
  private final Map<String, TopicState> topics;
  /** One inbox per event loop with subscribers (hub-confined map; the inboxes are shared with their loops). */
  private final Map<Context, LoopInbox> inboxes = new HashMap<>();

  /** Set by the hub once the node's metrics exist; read on the hub's context and by the loops' inboxes. */
  volatile TopicMeters meters = TopicMeters.NONE;

  LiveFeed(Vertx vertx, TopicLog log, Map<String, TopicState> topics) {
    this.vertx = vertx;
    this.log = log;
    this.topics = topics;
  }

  /** The inbox of a subscriber's loop: what is queued there goes ahead of every later event for it. */
  LoopInbox inbox(Context loop) {
    return inboxes.computeIfAbsent(loop, l -> new LoopInbox(l, () -> meters));
  }

  /** Registers the topic's clustered consumer; events are held until {@link #opened}. */
  void listen(TopicState st) {
    st.consumer = vertx.eventBus().consumer(Addresses.topic(st.topic), m -> onBus(st, m));
  }

  /**
   * The topic is open, delivered up to offset {@code last}: the events held meanwhile go out, and
   * history is looked at again for events the bus dropped.
   */
  void opened(TopicState st, long last) {
    st.last = last;
    st.initialized = true;
    drain(st);
    // A node that cached "no handlers" for our address before the registration reached it drops
    // publishes for a few ms: look for them in history once that window has passed.
    vertx.setTimer(100, t -> catchUp(st));
    vertx.setTimer(1000, t -> catchUp(st));
  }

  /** The topic closed: its consumer leaves the bus, a pending gap fill is cancelled, held events released. */
  void stop(TopicState st) {
    st.consumer.unregister();
    if (st.gapTimer >= 0) {
      vertx.cancelTimer(st.gapTimer);
    }
    st.held.values().forEach(TopicEvent::release);
    st.held.clear();
  }

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
    st.held.putIfAbsent(offset, new TopicEvent(st.topic, offset, m.headers().get("e"), m.body(), accepted(m)));
    if (st.initialized) {
      drain(st);
    }
  }

  /** The publication's accept time from the bus header {@code t} (µs); 0 without it (a node of an older version). */
  private static long accepted(Message<String> m) {
    String t = m.headers().get("t");
    if (t == null) {
      return 0;
    }
    try {
      return Long.parseLong(t);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /**
   * An event of another epoch: if it is the topic's epoch now, the history was lost and restarted;
   * follow it from its first offset (subscribers see the new epoch and know to reload). An event of
   * an epoch that is no longer the topic's is dropped, and history is read after the last offset
   * delivered: it may be a late one of the lost history, or a publication of the current history
   * labelled with an epoch its node cached before the loss (a node without the topic open hears no
   * event of the new epoch, and cannot tell a loss once the new history has passed what it knew);
   * history holds the latter under the topic's epoch.
   */
  private void checkEpoch(TopicState st, String seen) {
    log.forgetEpoch(st.topic);
    log.freshEpoch(st.topic).onSuccess(current -> {
      if (topics.get(st.topic) != st) {
        return;
      }
      if (current.equals(seen) && !current.equals(st.epoch)) {
        LOG.atWarn().addKeyValue("topic", st.topic).addKeyValue("epoch", current).addKeyValue("previous_epoch", st.epoch)
            .addKeyValue("cause", "history_lost").log("topic {}: history was lost, new epoch {}", st.topic, current);
        st.epoch = current;
        meters.epochChanged("history_lost");
        st.last = 0;
        st.held.values().forEach(TopicEvent::release);
        st.held.clear();
        fill(st);
      } else if (current.equals(st.epoch) && st.initialized) {
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

  /**
   * Members left or joined the cluster, or this node merged back. The clustered event bus keeps its
   * consumers' registrations in Hazelcast: when the members holding both copies of one are gone,
   * publishers stop reaching this node's consumer until Vert.x registers it again; after a merge,
   * the merged node's routes and connections settle for seconds (the chaos run saw a merged node's
   * publications miss another node's consumers 7 s after the merge); and no later event tells of
   * the gap when the topic goes quiet. A loss may also have taken a topic's history (a new epoch,
   * offsets starting again at 1, which no offset comparison here notices). So every open topic is
   * checked against history 1, 3 and 10 s later: its epoch (followed if it changed) and its tail
   * (events missed are read). Two reads per open topic each time: membership changes are rare.
   */
  void membershipChanged() {
    for (long delay : RECHECK_MS) {
      vertx.setTimer(delay, t -> recheckAll());
    }
  }

  private static final long[] RECHECK_MS = {1_000, 3_000, 10_000};

  private void recheckAll() {
    for (TopicState st : new java.util.ArrayList<>(topics.values())) {
      if (!st.initialized) {
        continue;
      }
      log.freshEpoch(st.topic).onSuccess(current -> {
        if (topics.get(st.topic) != st) {
          return;
        }
        if (!current.equals(st.epoch)) {
          checkEpoch(st, current);
        } else {
          catchUp(st);
        }
      });
    }
  }

  private void catchUp(TopicState st) {
    if (topics.get(st.topic) != st) {
      return;
    }
    log.tail(st.topic).onSuccess(tail -> {
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
    meters.gapFilled();
    String epoch = st.epoch;
    log.read(st.topic, epoch, st.last, READ_BATCH).onComplete(ar -> {
      st.filling = false;
      if (!epoch.equals(st.epoch)) {
        // the history was lost and restarted while this read ran (checkEpoch): what it read belongs
        // to the old history, at offsets the new one reuses; read again under the new epoch
        if (ar.succeeded()) {
          ar.result().forEach(TopicEvent::release);
        }
        fill(st);
        return;
      }
      if (ar.succeeded()) {
        for (TopicEvent e : ar.result()) {
          if (e.offset > st.last) {
            st.held.putIfAbsent(e.offset, e);
          }
        }
      } else if (TopicHub.unwrap(ar.cause()) instanceof StaleSequenceException) {
        // History no longer holds the gap: the live subscribers here cannot be given those events.
        // Rather than skip them silently, they are closed as 4008: their `since` on reconnect
        // answers recovered:false and they know to reload. The topic goes on from the oldest event
        // history has (for subscribers that come after).
        long head = ((StaleSequenceException) TopicHub.unwrap(ar.cause())).getHeadSeq();
        LOG.atWarn().addKeyValue("topic", st.topic)
            .log("topic {}: offsets {}..{} left history before delivery; closing its {} subscriber(s) here (4008)",
                st.topic, st.last + 1, head, st.subscriberCount);
        st.last = Math.max(st.last, head);
        for (Subscriber[] group : st.byLoop.values()) {
          for (Subscriber sub : group) {
            sub.close(dev.switchboard.protocol.CloseCode.SLOW_CONSUMER);
          }
        }
      }
      drain(st);
    });
  }

  /**
   * Encodes the event once for this node and hands it to the inbox of every event loop with
   * subscribers; each loop holds a reference to the frames until it has written them.
   */
  private void fanOut(TopicState st, TopicEvent e) {
    if (st.subscriberCount > 0) {
      meters.delivered(st.topic, st.subscriberCount); // one count per event and node, not per subscriber
    }
    e.jsonFrame();
    if (st.binarySubscribers > 0) {
      e.cborFrame();
    }
    for (Map.Entry<Context, Subscriber[]> group : st.byLoop.entrySet()) {
      e.retain();
      inbox(group.getKey()).offer(group.getValue(), e);
    }
    e.release();
  }
}
