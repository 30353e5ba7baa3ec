package dev.switchboard.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.testsupport.SevereLog;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The line shapes of {@link LineEncoder}, without a node: JSON that parses whatever the message holds, and text. */
class LineEncoderTest {
  static final ObjectMapper JSON = new ObjectMapper();
  static final LoggerContext CONTEXT = new LoggerContext();

  static LoggingEvent event(String msg, Throwable t) {
    Logger logger = CONTEXT.getLogger("dev.switchboard.Sample");
    LoggingEvent e = new LoggingEvent(Logger.class.getName(), logger, Level.WARN, msg, t, null);
    e.setThreadName("vert.x-eventloop-thread-0");
    e.setMDCPropertyMap(Map.of("trace", "t1"));
    e.addKeyValuePair(new org.slf4j.event.KeyValuePair("conn", "c_1"));
    e.addKeyValuePair(new org.slf4j.event.KeyValuePair("code", 1000));
    e.addKeyValuePair(new org.slf4j.event.KeyValuePair("ok", true));
    return e;
  }

  static String encode(LineEncoder enc, LoggingEvent e) {
    return new String(enc.encode(e), StandardCharsets.UTF_8);
  }

  @Test
  void jsonIsOneFlatObjectPerLineWhateverTheMessageHolds() throws Exception {
    LineEncoder enc = new LineEncoder();
    enc.setNode("n1");
    String hostile = "quote \" backslash \\ newline \n tab \t nul \u0000 bell \u0007 sep \u2028 é 😀";
    String line = encode(enc, event(hostile, new IllegalStateException("boom\nline two")));
    assertTrue(line.endsWith("}\n"), line);
    assertEquals(1, line.split("\n", -1).length - 1, "one line: " + line);
    JsonNode n = JSON.readTree(line);
    assertEquals(hostile, n.path("msg").asText());
    assertEquals("WARN", n.path("level").asText());
    assertEquals("dev.switchboard.Sample", n.path("logger").asText());
    assertEquals("vert.x-eventloop-thread-0", n.path("thread").asText());
    assertEquals("n1", n.path("node").asText());
    assertEquals("t1", n.path("trace").asText());
    assertEquals("c_1", n.path("conn").asText());
    assertTrue(n.path("code").isInt(), "numbers stay numbers: " + line);
    assertTrue(n.path("ok").isBoolean(), line);
    assertTrue(n.path("exc").asText().startsWith("java.lang.IllegalStateException: boom"), line);
    assertTrue(n.path("ts").asText().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"), line);
    List<String> order = new java.util.ArrayList<>();
    n.fieldNames().forEachRemaining(order::add);
    assertEquals(List.of("ts", "level", "logger", "thread", "msg", "node"), order.subList(0, 6));
  }

  @Test
  void textIsOneLinePlusTheStackTrace() {
    LineEncoder enc = new LineEncoder();
    enc.setFormat("text");
    assertEquals("text", enc.getFormat());
    String out = encode(enc, event("connection closed", new IllegalStateException("boom")));
    String first = out.lines().findFirst().orElseThrow();
    assertTrue(first.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z WARN  \\[vert\\.x-eventloop-thread-0\\] "
        + "dev\\.switchboard\\.Sample - connection closed trace=t1 conn=c_1 code=1000 ok=true"), first);
    assertTrue(out.contains("java.lang.IllegalStateException: boom"), out);
    assertFalse(out.startsWith("{"));
  }

  @Test
  void textKeepsAClientsLineBreaksOnItsLine() {
    LineEncoder enc = new LineEncoder();
    enc.setFormat("text");
    String out = encode(enc, event("topic chat:x\n2026-12-07T00:00:00.000Z ERROR forged\r", null));
    assertEquals(1, out.lines().count(), out);
    assertTrue(out.contains("chat:x\\n2026"), out);
  }

  @Test
  void severeLogSeesErrorsLoggedThroughSlf4j() {
    try (SevereLog severe = SevereLog.install()) {
      LoggerFactory.getLogger("dev.switchboard.Sample").warn("only a warning");
      LoggerFactory.getLogger("dev.switchboard.Sample").error("it broke", new IllegalStateException("x"));
      assertEquals(List.of("dev.switchboard.Sample: it broke java.lang.IllegalStateException: x"), severe.records());
    }
  }
}
