package dev.switchboard.transport;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.Node;
import dev.switchboard.api.Scrape;
import dev.switchboard.testsupport.RawWs;
import dev.switchboard.testsupport.TestNode;
import dev.switchboard.testsupport.Tokens;
import dev.switchboard.testsupport.WsClient;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Slow consumers (SB_OUTBOUND_QUEUE_BYTES): a client that stops reading while its replies pile up is
 * closed 4008 by the node, its slot is released, and other connections are not affected.
 */
class SlowConsumerTest {
  static final Duration WAIT = Duration.ofSeconds(30);
  static Node node;
  /** A node whose limit is far above the socket's own write-buffer high-water mark (64 KiB in Netty). */
  static Node bigQueueNode;
  static Vertx vertx;

  @BeforeAll
  static void up() {
    node = TestNode.start(Map.of("SB_OUTBOUND_QUEUE_BYTES", "65536",
        "SB_RATE_PER_SEC", "1000000", "SB_RATE_BURST", "1000000"));
    bigQueueNode = TestNode.start(Map.of("SB_OUTBOUND_QUEUE_BYTES", "1048576",
        "SB_RATE_PER_SEC", "1000000", "SB_RATE_BURST", "1000000"));
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void down() {
    TestNode.stop(node, bigQueueNode);
    vertx.close();
  }

  private static double closes4008() {
    return closes4008(node);
  }

  private static double closes4008(Node n) {
    return Scrape.now(n.port(), "sb_closes_total", "code=\"4008\"");
  }

  private static double connections() {
    return connections(node);
  }

  private static double connections(Node n) {
    return Scrape.now(n.port(), "sb_connections");
  }

  /**
   * Sends system.methods requests on a socket it never reads, from a thread of its own (the writes
   * may block once the node stops reading), until the node counted a 4008 close or the deadline.
   */
  private static long floodWithoutReading(Node n, RawWs slow, double before) throws InterruptedException {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong sent = new AtomicLong();
    byte[] request = "{\"method\":\"system.methods\"}".getBytes(StandardCharsets.UTF_8);
    Thread sender = new Thread(() -> {
      try {
        while (!stop.get()) {
          slow.send(RawWs.TEXT, true, request);
          sent.incrementAndGet();
        }
      } catch (IOException closedByTheNode) {
        // the node dropped the socket: expected sooner or later
      }
    }, "slow-consumer-sender");
    sender.setDaemon(true);
    sender.start();
    try {
      Scrape.until(() -> closes4008(n) > before, WAIT, "a 4008 close is counted while the client does not read");
    } finally {
      stop.set(true);
      slow.close(); // unblocks a write stuck on a full socket
      sender.join(10_000);
    }
    return sent.get();
  }

  @Test
  void clientThatStopsReadingIsClosedWith4008AndOthersKeepWorking() throws Exception {
    try (WsClient bystander = WsClient.connect(vertx, node.port(), Tokens.user("alice"))) {
      double before = closes4008();
      RawWs slow = RawFrames.open(node.port(), Tokens.user("bob"));
      Scrape.until(() -> connections() == 2, Duration.ofSeconds(10), "two connections open");
      floodWithoutReading(node, slow, before);
      assertEquals(before + 1, closes4008());
      // the slow socket's slot is released (the client already dropped its end)
      Scrape.until(() -> connections() == 1, Duration.ofSeconds(20), "only the bystander is left");
      assertEquals("result", bystander.call("system.ping", null).get("type").asText());
      assertEquals("result", bystander.call("system.methods", null).get("type").asText());
    }
    Scrape.until(() -> connections() == 0, Duration.ofSeconds(20), "sb_connections back to 0");
  }

  @Test
  void readingClientWithABurstOfLargeRepliesIsNotClosed() {
    try (WsClient c = WsClient.connect(vertx, node.port(), Tokens.user("erin"))) {
      int n = 300;
      for (int i = 0; i < n; i++) {
        c.request("system.methods", null);
      }
      int results = 0;
      long bytes = 0;
      while (results < n) {
        JsonNode f = c.await(WsClient::isTerminal, Duration.ofSeconds(20));
        assertEquals("result", f.get("type").asText(), f.toString());
        bytes += f.toString().length();
        results++;
      }
      assertTrue(bytes > 2 * 65536, "the burst's replies exceed the queue limit in total: " + bytes);
      assertEquals("result", c.call("system.ping", null).get("type").asText());
      assertFalse(c.isClosed());
    }
  }

  @Test
  void pipelinedBurstInOneSegmentFromAReadingClientIsNotClosed() throws Exception {
    try (RawWs ws = RawFrames.open(node.port(), Tokens.user("frank"))) {
      // 1000 requests in one write: read by the node in one go, their replies (far more than the
      // 64 KiB limit) are written before the flush at the end of the read; the client reads them all.
      int n = 1000;
      byte[] request = "{\"method\":\"system.methods\"}".getBytes(StandardCharsets.UTF_8);
      ws.sendBatch(RawWs.TEXT, Collections.nCopies(n, request));
      for (int i = 0; i < n; i++) {
        JsonNode f = RawFrames.nextTerminal(ws, Duration.ofSeconds(20));
        assertEquals("result", f.get("type").asText(), "reply " + i + ": " + f);
      }
    }
  }

  @Test
  void limitAboveTheSocketHighWaterMarkStillClosesWith4008() throws Exception {
    double before = closes4008(bigQueueNode);
    RawWs slow = RawFrames.open(bigQueueNode.port(), Tokens.user("dave"));
    floodWithoutReading(bigQueueNode, slow, before);
    assertEquals(before + 1, closes4008(bigQueueNode));
    Scrape.until(() -> connections(bigQueueNode) == 0, Duration.ofSeconds(20), "sb_connections back to 0");
  }

  @Test
  void pausedVertxClientIsClosedWith4008() throws Exception {
    try (WsClient paused = WsClient.connect(vertx, node.port(), Tokens.user("carol"))) {
      double before = closes4008();
      paused.socket().pause();
      // the replies are never consumed: the client's buffers fill and then the node's
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (closes4008() <= before) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("no 4008 close within " + WAIT);
        }
        for (int i = 0; i < 2000; i++) {
          paused.request("system.methods", null);
        }
      }
      assertEquals(before + 1, closes4008());
      paused.socket().resume();
      // The close frame queues behind the unread replies; if the node's closing timeout dropped the
      // TCP connection before the client caught up, the client sees an abnormal end (1006) instead.
      short seen = paused.awaitClose(Duration.ofSeconds(30));
      assertTrue(seen == 4008 || seen == 1006, "client saw close " + seen);
    }
    Scrape.until(() -> connections() == 0, Duration.ofSeconds(20), "sb_connections back to 0");
  }
}
