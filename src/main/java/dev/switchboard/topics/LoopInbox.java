package dev.switchboard.topics;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.vertx.core.Context;

import java.util.ArrayList;
import java.util.List;

/**
 * The publications waiting for one event loop. The hub adds to it from its own context; the loop
 * takes everything pending in one task per turn (not one task per publication) and, where several
 * events of one topic are waiting for the same subscribers, copies their frames once into one
 * buffer so that each socket gets them in one write: under overload a socket's cost stays one
 * write per turn however many publications piled up meanwhile. After a run is written, each of its
 * publications is reported once to the publish→deliver histogram (one clock read per run, one
 * record per event and loop, none per subscriber).
 */
final class LoopInbox {
  /** Largest buffer events are coalesced into; a longer run is split. */
  static final int MAX_COALESCED_BYTES = 256 * 1024;

  /** An event for subscribers, or a task (a replay) that must keep its place among the events. */
  private record Item(Subscriber[] subscribers, TopicEvent event, Runnable task) {
  }

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LoopInbox.class);

  private final Context loop;
  /** The node's topic meters, read per run (they are set once the node's metrics exist). */
  private final java.util.function.Supplier<TopicMeters> meters;
  private List<Item> pending = new ArrayList<>();
  private boolean scheduled;

  LoopInbox(Context loop, java.util.function.Supplier<TopicMeters> meters) {
    this.loop = loop;
    this.meters = meters;
  }

  LoopInbox(Context loop) {
    this(loop, () -> TopicMeters.NONE);
  }

  /**
   * Hands an event to the loop for the given subscribers (all on that loop). The inbox owns one
   * reference to the event's frames from here on ({@link TopicEvent#retain} before calling).
   */
  void offer(Subscriber[] subscribers, TopicEvent event) {
    add(new Item(subscribers, event, null));
  }

  /**
   * Runs a task on the loop after the events offered before it and before those offered after it
   * (a replay to a new subscriber goes ahead of the live events it was added for).
   */
  void run(Runnable task) {
    add(new Item(null, null, task));
  }

  private void add(Item item) {
    boolean schedule;
    synchronized (this) {
      pending.add(item);
      schedule = !scheduled;
      scheduled = true;
    }
    if (schedule) {
      loop.runOnContext(v -> drain());
    }
  }

  private void drain() {
    List<Item> batch;
    synchronized (this) {
      batch = pending;
      pending = new ArrayList<>();
      scheduled = false;
    }
    int i = 0;
    while (i < batch.size()) {
      if (batch.get(i).task != null) {
        try {
          batch.get(i).task.run();
        } catch (RuntimeException e) {
          LOG.error("topic delivery task failed", e);
        }
        i++;
        continue;
      }
      // a run: consecutive events for the same subscriber array (so the same topic and subscribers)
      Subscriber[] subs = batch.get(i).subscribers;
      int bytes = batch.get(i).event.jsonFrame().readableBytes();
      int j = i + 1;
      while (j < batch.size() && batch.get(j).subscribers == subs) {
        bytes += batch.get(j).event.jsonFrame().readableBytes();
        if (bytes > MAX_COALESCED_BYTES) {
          break;
        }
        j++;
      }
      try {
        deliver(subs, batch.subList(i, j));
      } catch (RuntimeException e) {
        LOG.error("topic delivery failed", e); // the run's events are released; the next runs go on
      }
      i = j;
    }
  }

  /**
   * One subscriber's delivery: if it throws, that subscriber alone is closed (1011), so it comes back
   * with its session and replays what it missed, and the others of the run still get theirs.
   */
  static void deliver(Subscriber s, TopicEvent cursor, ByteBuf frames, int count) {
    try {
      s.deliver(cursor, frames, count);
    } catch (RuntimeException e) {
      LOG.atError().addKeyValue("conn", s.connectionId()).setCause(e).log("delivery to {} failed; closing it", s.connectionId());
      s.close(dev.switchboard.protocol.CloseCode.INTERNAL);
    }
  }

  private void deliver(Subscriber[] subs, List<Item> run) {
    try {
      if (run.size() == 1) {
        TopicEvent e = run.get(0).event;
        TopicEvent cursor = e.epoch() == null ? null : e;
        for (Subscriber s : subs) {
          deliver(s, cursor, e.sharedFrame(s.binary()), 1);
        }
        if (cursor != null) {
          written(run);
        }
        return;
      }
      TopicEvent cursor = null;
      for (Item it : run) {
        if (it.event.epoch() != null) {
          cursor = it.event;
        }
      }
      ByteBuf json = null;
      ByteBuf cbor = null;
      try {
        for (Subscriber s : subs) {
          ByteBuf frames;
          try {
            if (s.binary()) {
              frames = cbor == null ? (cbor = concat(run, true)) : cbor;
            } else {
              frames = json == null ? (json = concat(run, false)) : json;
            }
          } catch (RuntimeException e) {
            LOG.atError().addKeyValue("conn", s.connectionId()).addKeyValue("topic", run.get(0).event.topic()).setCause(e)
                .log("frames for {} could not be built; closing it", s.connectionId());
            s.close(dev.switchboard.protocol.CloseCode.INTERNAL);
            continue;
          }
          deliver(s, cursor, frames, run.size());
        }
        if (cursor != null) {
          written(run);
        }
      } finally {
        if (json != null) {
          json.release();
        }
        if (cbor != null) {
          cbor.release();
        }
      }
    } finally {
      for (Item it : run) {
        it.event.release();
      }
    }
  }

  /**
   * The run's publications are written to every subscriber of this loop (into their channels, flushed
   * at the end of this turn): each one's time since it was accepted goes to the histogram.
   */
  private void written(List<Item> run) {
    TopicMeters meters = this.meters.get();
    long now = TopicEvent.nowMicros();
    for (Item it : run) {
      if (it.event.epoch() != null) {
        long accepted = it.event.acceptedMicros();
        if (accepted > 0) {
          meters.publishDelivered(now - accepted);
        }
      }
    }
  }

  private static ByteBuf concat(List<Item> run, boolean binary) {
    int size = 0;
    for (Item it : run) {
      size += it.event.sharedFrame(binary).readableBytes();
    }
    ByteBuf out = Unpooled.directBuffer(size);
    for (Item it : run) {
      ByteBuf f = it.event.sharedFrame(binary);
      out.writeBytes(f, f.readerIndex(), f.readableBytes());
    }
    return out;
  }
}
