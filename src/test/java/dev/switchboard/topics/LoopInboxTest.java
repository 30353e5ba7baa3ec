package dev.switchboard.topics;

import io.netty.buffer.ByteBuf;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The per-loop inbox: events that pile up while the loop is busy reach each subscriber as one write
 * holding all their frames in offset order; tasks keep their place among the events; every shared
 * frame is released once written.
 */
class LoopInboxTest {
  static Vertx vertx;

  @BeforeAll
  static void up() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void down() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
  }

  /** Records what the inbox hands it, on the loop. */
  static final class Recorder implements Subscriber {
    dev.switchboard.protocol.CloseCode closedWith;
    boolean failing;

    @Override
    public void close(dev.switchboard.protocol.CloseCode code) {
      closedWith = code;
    }

    final Context loop;
    final List<String> writes = new ArrayList<>();
    final List<Integer> counts = new ArrayList<>();
    final List<TopicEvent> lasts = new ArrayList<>();
    final boolean binary;

    Recorder(Context loop, boolean binary) {
      this.loop = loop;
      this.binary = binary;
    }

    @Override
    public Context context() {
      return loop;
    }

    @Override
    public String connectionId() {
      return "c";
    }

    @Override
    public String deviceId() {
      return "d";
    }

    @Override
    public String userId() {
      return "u";
    }

    @Override
    public boolean binary() {
      return binary;
    }

    @Override
    public boolean congested() {
      return false;
    }

    @Override
    public long room() {
      return Long.MAX_VALUE;
    }

    @Override
    public boolean isClosing() {
      return false;
    }

    @Override
    public boolean deliver(TopicEvent last, ByteBuf frames, int count) {
      assertTrue(loop.isEventLoopContext() && Context.isOnEventLoopThread());
      if (failing) {
        throw new IllegalStateException("boom");
      }
      ByteBuf mine = frames.retainedDuplicate(); // what a socket does: write a duplicate, release it once sent
      writes.add(mine.toString(StandardCharsets.ISO_8859_1));
      mine.release();
      counts.add(count);
      lasts.add(last);
      return true;
    }
  }

  private static TopicEvent event(long offset) {
    TopicEvent e = new TopicEvent("t:x", offset, "ep", "{\"data\":" + offset + ",\"ts\":1}");
    e.jsonFrame();
    return e;
  }

  @Test
  void eventsThatPileUpWhileTheLoopIsBusyGoOutAsOneWritePerSubscriberInOrder() throws Exception {
    Context loop = vertx.getOrCreateContext();
    LoopInbox inbox = new LoopInbox(loop);
    Recorder a = new Recorder(loop, false);
    Recorder b = new Recorder(loop, false);
    Subscriber[] subs = {a, b};
    List<TopicEvent> events = new ArrayList<>();
    StringBuilder expected = new StringBuilder();
    for (long k = 1; k <= 5; k++) {
      TopicEvent e = event(k);
      events.add(e);
      expected.append(e.jsonFrame().toString(StandardCharsets.ISO_8859_1));
    }
    CountDownLatch busy = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    loop.runOnContext(v -> {
      busy.countDown();
      try {
        release.await(10, TimeUnit.SECONDS); // the loop is busy while the hub offers
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    assertTrue(busy.await(10, TimeUnit.SECONDS));
    for (TopicEvent e : events) {
      e.retain(); // the inbox's reference
      inbox.offer(subs, e);
      e.release(); // the hub's
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    inbox.run(() -> done.complete(null));
    release.countDown();
    done.get(10, TimeUnit.SECONDS);

    for (Recorder r : List.of(a, b)) {
      assertEquals(List.of(expected.toString()), r.writes, "one write with the five frames in order");
      assertEquals(List.of(5), r.counts);
      assertSame(events.get(4), r.lasts.get(0));
    }
    for (TopicEvent e : events) {
      assertEquals(0, e.jsonFrame().refCnt(), "shared frame released after the write");
    }
  }

  @Test
  void aSubscriberWhoseDeliveryThrowsIsClosedAndTheOthersGetEveryEvent() throws Exception {
    Context loop = vertx.getOrCreateContext();
    LoopInbox inbox = new LoopInbox(loop);
    Recorder a = new Recorder(loop, false);
    Recorder broken = new Recorder(loop, false);
    broken.failing = true;
    Recorder c = new Recorder(loop, false);
    Subscriber[] subs = {a, broken, c};
    TopicEvent e1 = event(1);
    inbox.offer(subs, e1);
    CompletableFuture<Void> done = new CompletableFuture<>();
    inbox.run(() -> done.complete(null));
    done.get(10, TimeUnit.SECONDS);
    assertEquals(1, a.writes.size());
    assertEquals(1, c.writes.size(), "the subscriber after the failing one still gets the event");
    assertEquals(dev.switchboard.protocol.CloseCode.INTERNAL, broken.closedWith);
    assertEquals(null, a.closedWith);
    assertEquals(0, e1.jsonFrame().refCnt(), "the event is released");
  }

  @Test
  void aTaskRunsBetweenTheEventsOfferedBeforeAndAfterIt() throws Exception {
    Context loop = vertx.getOrCreateContext();
    LoopInbox inbox = new LoopInbox(loop);
    Recorder a = new Recorder(loop, false);
    Subscriber[] subs = {a};
    List<String> order = new ArrayList<>();
    CountDownLatch busy = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    loop.runOnContext(v -> {
      busy.countDown();
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    assertTrue(busy.await(10, TimeUnit.SECONDS));
    TopicEvent e1 = event(1);
    TopicEvent e2 = event(2);
    inbox.offer(subs, e1);
    inbox.run(() -> order.add("task after " + a.writes.size() + " writes"));
    inbox.offer(subs, e2);
    CompletableFuture<Void> done = new CompletableFuture<>();
    inbox.run(() -> done.complete(null));
    release.countDown();
    done.get(10, TimeUnit.SECONDS);
    assertEquals(List.of("task after 1 writes"), order);
    assertEquals(List.of(1, 1), a.counts, "the task splits the events into two writes");
    assertEquals(0, e1.jsonFrame().refCnt());
    assertEquals(0, e2.jsonFrame().refCnt());
  }

  @Test
  void presenceFramesAloneMoveNoPosition() throws Exception {
    Context loop = vertx.getOrCreateContext();
    LoopInbox inbox = new LoopInbox(loop);
    Recorder a = new Recorder(loop, false);
    TopicEvent presence = TopicEvent.raw("t:x", "{\"type\":\"presence\"}");
    presence.jsonFrame();
    inbox.offer(new Subscriber[] {a}, presence);
    CompletableFuture<Void> done = new CompletableFuture<>();
    inbox.run(() -> done.complete(null));
    done.get(10, TimeUnit.SECONDS);
    assertEquals(1, a.writes.size());
    assertNull(a.lasts.get(0));
  }
}
