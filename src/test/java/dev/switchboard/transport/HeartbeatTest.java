package dev.switchboard.transport;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.testsupport.Cluster;
import dev.switchboard.testsupport.Nodes;
import dev.switchboard.testsupport.RawWs;
import dev.switchboard.testsupport.Tokens;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Liveness (PROTOCOL.md section 9): the node pings every SB_HEARTBEAT_MS and closes 4000 a client
 * from which nothing, not even a pong, arrived for SB_IDLE_TIMEOUT_MS.
 */
@Cluster(env = {"SB_HEARTBEAT_MS=" + HeartbeatTest.HEARTBEAT_MS, "SB_IDLE_TIMEOUT_MS=" + HeartbeatTest.IDLE_MS})
class HeartbeatTest {
  static final long HEARTBEAT_MS = 200;
  static final long IDLE_MS = 1000;
  static Nodes nodes;

  @Test
  void connectedFrameAnnouncesTheHeartbeatAndPingFramesArrive() throws Exception {
    try (RawWs ws = new RawWs(nodes.port(0), "/ws?token=" + Tokens.user("alice"))) {
      assertEquals(101, ws.status);
      int pings = 0;
      boolean connected = false;
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (pings < 3) {
        if (System.nanoTime() > deadline) {
          fail("only " + pings + " pings within 10 s at a heartbeat of " + HEARTBEAT_MS + " ms");
        }
        RawWs.Frame f = ws.read(Duration.ofMillis(500));
        if (f == null) {
          continue;
        }
        switch (f.opcode()) {
          case RawWs.TEXT -> {
            JsonNode hello = RawFrames.JSON.readTree(f.payload());
            assertEquals("connected", hello.get("type").asText());
            assertEquals(HEARTBEAT_MS, hello.get("heartbeat_ms").asLong());
            connected = true;
          }
          case RawWs.PING -> {
            pings++;
            ws.send(RawWs.PONG, true, f.payload()); // stay alive while counting
          }
          case RawWs.CLOSE -> fail("closed with " + f.closeCode() + " although every ping was answered");
          default -> {
          }
        }
      }
      assertTrue(connected, "the connected frame comes before the pings");
    }
  }

  @Test
  void silentClientIsClosedWith4000() throws Exception {
    try (RawWs ws = new RawWs(nodes.port(0), "/ws?token=" + Tokens.user("bob"))) {
      assertEquals(101, ws.status);
      long start = System.nanoTime();
      // reads frames (the connected frame, pings) but never sends anything, pongs included
      RawWs.Frame close = ws.awaitClose(Duration.ofSeconds(15));
      long elapsedMs = (System.nanoTime() - start) / 1_000_000;
      assertEquals(4000, close.closeCode());
      // loose lower bound only: not closed at once, nor at the first missing pong
      assertTrue(elapsedMs >= IDLE_MS / 2, "closed after " + elapsedMs + " ms");
    }
  }

  @Test
  void clientAnsweringPingsStaysOpenPastTheIdleTimeout() throws Exception {
    try (RawWs ws = RawFrames.open(nodes.port(0), Tokens.user("carol"))) {
      long until = System.nanoTime() + Duration.ofMillis(IDLE_MS * 4).toNanos();
      int pings = 0;
      while (System.nanoTime() < until) {
        RawWs.Frame f = ws.read(Duration.ofMillis(100));
        if (f == null) {
          continue;
        }
        if (f.opcode() == RawWs.PING) {
          pings++;
          ws.send(RawWs.PONG, true, f.payload());
        } else if (f.opcode() == RawWs.CLOSE) {
          fail("closed with " + f.closeCode() + " after " + pings + " answered pings");
        }
      }
      assertTrue(pings >= 2, "pings seen: " + pings);
      // only pongs were sent so far: the connection is still served
      ws.sendText("{\"id\":1,\"method\":\"system.ping\"}");
      JsonNode r = RawFrames.nextTerminal(ws, Duration.ofSeconds(10));
      assertEquals("result", r.get("type").asText(), r.toString());
    }
  }
}
