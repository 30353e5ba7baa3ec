package dev.switchboard.transport;

import dev.switchboard.api.Scrape;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.RawWs;
import dev.switchboard.testsupport.Tokens;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.time.Duration;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Pongs are frames of ours like any other: a client that sends pings and never reads is closed as a
 * slow consumer (4008) once the unread pongs pass the outbound limit. Vert.x used to queue them in a
 * queue of its own, unbounded and unseen by the limit: 52 MB of pings grew the heap by ~90 MB and
 * the connection stayed.
 */
@Cluster(env = "SB_OUTBOUND_QUEUE_BYTES=" + PingFloodTest.OUTBOUND_LIMIT)
class PingFloodTest {
  static final int OUTBOUND_LIMIT = 256 * 1024;
  static Nodes nodes;

  @Test
  void aPingIsAnsweredWithItsPayload() throws IOException {
    try (RawWs ws = RawFrames.open(nodes.port(0), Tokens.user("pinger"))) {
      byte[] payload = {1, 2, 3, 'p'};
      ws.send(RawWs.PING, true, payload);
      RawWs.Frame f;
      do {
        f = ws.read(Duration.ofSeconds(10));
      } while (f != null && f.opcode() != RawWs.PONG);
      assertTrue(f != null, "no pong");
      assertArrayEquals(payload, f.payload());
    }
  }

  @Test
  void aClientThatFloodsPingsWithoutReadingIsClosedAsASlowConsumer() throws IOException {
    double before = Scrape.now(nodes.port(0), "sb_closes_total", "code=\"4008\"");
    Random r = new Random(7);
    try (RawWs ws = new RawWs(nodes.port(0), "/ws?token=" + Tokens.user("flooder"), 4096, null)) {
      assertEquals(101, ws.status);
      byte[] one = ClientFrame.of(RawWs.PING, true, new byte[125]).bytes(r);
      byte[] batch = new byte[one.length * 1000];
      for (int i = 0; i < 1000; i++) {
        System.arraycopy(one, 0, batch, i * one.length, one.length);
      }
      try {
        for (int i = 0; i < 160; i++) { // 160,000 pings, 21 MB of pongs owed: 80 times the limit
          ws.writeRaw(batch);
        }
      } catch (IOException dropped) {
        // the node may already have closed the connection and dropped it after the closing timeout
      }
      // reading now drains what the node wrote before it gave up on us: then its close frame
      assertEquals(4008, ws.awaitClose(Duration.ofSeconds(20)).closeCode());
    }
    Scrape.until(() -> Scrape.now(nodes.port(0), "sb_closes_total", "code=\"4008\"") > before, Duration.ofSeconds(10),
        "the 4008 close counted");
  }
}
