package dev.switchboard.topics;

import com.hazelcast.ringbuffer.StaleSequenceException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/** One subscriber's replay in progress; every step runs on the hub's context. */
final class Replay {
  private static final Logger LOG = LoggerFactory.getLogger(Replay.class);
  final TopicHub owner;
  final TopicState st;
  final Subscriber s;
  final LoopInbox inbox;
  final String epoch;
  final java.util.ArrayDeque<TopicEvent> queue = new java.util.ArrayDeque<>();
  long handed;
  boolean reading;

  Replay(TopicHub owner, TopicState st, Subscriber s, LoopInbox inbox, long after, List<TopicEvent> first) {
    this.owner = owner;
    this.st = st;
    this.s = s;
    this.inbox = inbox;
    this.epoch = st.epoch;
    this.handed = after;
    queue.addAll(first);
  }

  void step() {
    if (st.replaying.get(s) != this || owner.topics.get(st.topic) != st || s.isClosing()) {
      drop(); // unsubscribed or gone meanwhile
      return;
    }
    if (!epoch.equals(st.epoch)) {
      finish(); // the history was lost meanwhile: follow the new epoch live
      return;
    }
    if (handed >= st.last) {
      finish();
      return;
    }
    if (s.congested()) {
      owner.vertx.setTimer(TopicHub.REPLAY_WAIT_MS, t -> step());
      return;
    }
    // A chunk is one event, plus more while they fit the room the subscriber has left under its
    // outbound limit (and the chunk size). Not congested means at most half the limit is unsent, so
    // a replay alone never makes it a slow consumer unless one event is larger than half the limit
    // (possible only with a limit below twice the message size): that one is judged like a live
    // event, rather than held back for a moment when nothing at all is unsent, which a client with
    // other live topics might never have.
    long budget = Math.min(TopicHub.REPLAY_CHUNK_BYTES, s.room());
    List<TopicEvent> chunk = new ArrayList<>();
    long bytes = 0;
    while (!queue.isEmpty()) {
      TopicEvent e = queue.peek();
      if (e.offset > st.last) {
        break; // not delivered live here yet: it comes live once the replay is done
      }
      if (e.offset <= handed) {
        queue.poll().release();
        continue;
      }
      int size = e.sharedFrame(s.binary()).readableBytes(); // builds the CBOR frame for a binary subscriber
      if (!chunk.isEmpty() && bytes + size > budget) {
        break;
      }
      queue.poll();
      bytes += size;
      chunk.add(e);
      handed = e.offset;
    }
    if (!chunk.isEmpty()) {
      inbox.run(() -> {
        try {
          for (TopicEvent e : chunk) {
            LoopInbox.deliver(s, e, e.sharedFrame(s.binary()), 1);
          }
        } finally {
          chunk.forEach(TopicEvent::release); // read for this subscriber alone
          owner.hub.runOnContext(v -> step()); // once written: the next chunk sees the queue it made
        }
      });
      return;
    }
    if (handed >= st.last) {
      finish();
      return;
    }
    if (reading) {
      return;
    }
    reading = true;
    owner.log.read(st.topic, epoch, handed, TopicHub.REPLAY_BATCH).onComplete(ar -> {
      reading = false;
      if (ar.succeeded() && ar.result().isEmpty()) {
        // nothing readable yet (the history was replaced meanwhile): look again later, no spin
        owner.vertx.setTimer(TopicHub.REPLAY_WAIT_MS * 10, t -> step());
        return;
      } else if (ar.succeeded()) {
        queue.addAll(ar.result());
      } else if (ar.failed() && TopicHub.unwrap(ar.cause()) instanceof StaleSequenceException) {
        // Publications outran the replay (a subscriber reading slower than the topic is published)
        // and overwrote what it had not read yet. It was promised no gap: rather than skip, it is
        // closed as the slow consumer it is (4008); its `since` on reconnect then answers
        // recovered:false, and the client knows to reload.
        LOG.atWarn().addKeyValue("topic", st.topic).addKeyValue("conn", s.connectionId())
            .log("topic {}: replay to {} overrun by history overwrite after offset {}; closing it (4008)", st.topic,
                s.connectionId(), handed);
        drop();
        s.close(dev.switchboard.protocol.CloseCode.SLOW_CONSUMER);
        return;
      } else if (ar.failed()) {
        LOG.atWarn().addKeyValue("topic", st.topic).addKeyValue("conn", s.connectionId())
            .log("topic {}: replay read failed: {}", st.topic, String.valueOf(ar.cause().getMessage()));
        owner.vertx.setTimer(TopicHub.REPLAY_WAIT_MS * 10, t -> step());
        return;
      }
      step();
    });
  }

  /** Caught up: live delivery from the next offset on (the hub is single-threaded, so none is missed). */
  private void finish() {
    release();
    st.replaying.remove(s);
    st.add(s);
  }

  private void drop() {
    release();
    if (st.replaying.get(s) == this) {
      st.replaying.remove(s);
      owner.presence.left(s, st.topic); // its unsubscribe will not find it here any more
      if (st.subscriberCount == 0 && st.replaying.isEmpty() && owner.topics.get(st.topic) == st) {
        owner.close(st);
      }
    }
  }

  private void release() {
    queue.forEach(TopicEvent::release);
    queue.clear();
  }
}
