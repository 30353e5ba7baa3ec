package dev.switchboard.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.encoder.EncoderBase;
import org.slf4j.event.KeyValuePair;

import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;

/**
 * One log event, one line. {@code json} (the default):
 * <pre>{"ts":"2026-12-07T20:15:26.123Z","level":"INFO","logger":"dev.switchboard.transport.Upgrader",
 * "thread":"vert.x-eventloop-thread-1","msg":"upgrade refused","node":"n1","status":401,"reason":"expired",
 * "remote":"10.0.0.7"}</pre>
 * then the MDC entries and the event's SLF4J key-values as top-level fields (numbers and booleans as
 * such), and {@code "exc"} with the stack trace when there is one. {@code text}: the same fields for
 * people, {@code ts LEVEL [thread] logger - msg key=value…}, a stack trace on the lines after.
 *
 * <p>Why not Logback's own {@code JsonEncoder}: it repeats the logger context (name, birth date,
 * properties) in every line, nests the MDC and the key-values ({@code "kvpList":[{"k":"v"}]}) and
 * spreads a stack trace over one object per frame; log pipelines (Loki, Elasticsearch, Cloud
 * Logging) query flat top-level fields best, and a stack trace as one string reads as it would in a
 * terminal.
 *
 * <p>Thread-safety: Logback's appenders encode outside their write lock, on the logging threads at
 * once: nothing here is shared but immutable or volatile state.
 */
public final class LineEncoder extends EncoderBase<ILoggingEvent> {
  private static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'")
      .withZone(ZoneOffset.UTC);
  private static final byte[] EMPTY = new byte[0];
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private volatile boolean text;
  private volatile String node;

  /** {@code json} or {@code text} (anything else is json: the setting is validated by config.LogOptions). */
  public void setFormat(String format) {
    this.text = "text".equalsIgnoreCase(format == null ? "" : format.trim());
  }

  public String getFormat() {
    return text ? "text" : "json";
  }

  /** The node id every line carries (one node per process). */
  public void setNode(String node) {
    this.node = node == null || node.isEmpty() ? null : node;
  }

  @Override
  public byte[] headerBytes() {
    return EMPTY;
  }

  @Override
  public byte[] footerBytes() {
    return EMPTY;
  }

  @Override
  public byte[] encode(ILoggingEvent e) {
    StringBuilder b = new StringBuilder(256);
    if (text) {
      text(b, e);
    } else {
      json(b, e);
    }
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  private void json(StringBuilder b, ILoggingEvent e) {
    b.append("{\"ts\":\"");
    TS.formatTo(e.getInstant(), b);
    b.append("\",\"level\":\"").append(e.getLevel()).append('"');
    field(b, "logger", e.getLoggerName());
    field(b, "thread", e.getThreadName());
    field(b, "msg", e.getFormattedMessage());
    String n = node;
    if (n != null) {
      field(b, "node", n);
    }
    Map<String, String> mdc = e.getMDCPropertyMap();
    List<KeyValuePair> kvs = e.getKeyValuePairs();
    if (mdc != null) {
      for (Map.Entry<String, String> m : mdc.entrySet()) {
        if (!"node".equals(m.getKey()) || n == null) {
          field(b, m.getKey(), m.getValue());
        }
      }
    }
    if (kvs != null) {
      for (KeyValuePair kv : kvs) {
        b.append(",\"");
        escape(b, kv.key);
        b.append("\":");
        value(b, kv.value);
      }
    }
    IThrowableProxy t = e.getThrowableProxy();
    if (t != null) {
      field(b, "exc", ThrowableProxyUtil.asString(t));
    }
    b.append("}\n");
  }

  private void text(StringBuilder b, ILoggingEvent e) {
    TS.formatTo(e.getInstant(), b);
    b.append(' ').append(e.getLevel());
    b.append(e.getLevel().toString().length() == 4 ? "  [" : " [").append(e.getThreadName()).append("] ");
    // the whole logger name: the one log.levels takes
    b.append(e.getLoggerName()).append(" - ");
    oneLine(b, e.getFormattedMessage());
    Map<String, String> mdc = e.getMDCPropertyMap();
    if (mdc != null) {
      mdc.forEach((k, v) -> pair(b, k, v));
    }
    List<KeyValuePair> kvs = e.getKeyValuePairs();
    if (kvs != null) {
      for (KeyValuePair kv : kvs) {
        pair(b, kv.key, kv.value);
      }
    }
    b.append(CoreConstants.LINE_SEPARATOR);
    IThrowableProxy t = e.getThrowableProxy();
    if (t != null) {
      b.append(ThrowableProxyUtil.asString(t));
    }
  }

  private static void pair(StringBuilder b, String key, Object value) {
    String v = String.valueOf(value);
    b.append(' ');
    oneLine(b, key);
    b.append('=');
    if (v.isEmpty() || v.indexOf(' ') >= 0 || v.indexOf('"') >= 0) {
      b.append('"');
      oneLine(b, v.replace("\"", "\\\""));
      b.append('"');
    } else {
      oneLine(b, v);
    }
  }

  /**
   * Text lines: what a client can put in a message (a topic name, a position it claims) must not
   * start a line of its own that reads like another event: line breaks and control characters are
   * escaped as in JSON.
   */
  private static void oneLine(StringBuilder b, String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x2028 || c == 0x2029 || c == 0x85) {
        escape(b, String.valueOf(c));
      } else {
        b.append(c);
      }
    }
  }

  private static void field(StringBuilder b, String key, String value) {
    b.append(",\"");
    escape(b, key);
    b.append("\":");
    if (value == null) {
      b.append("null");
      return;
    }
    b.append('"');
    escape(b, value);
    b.append('"');
  }

  private static void value(StringBuilder b, Object v) {
    if (v == null) {
      b.append("null");
    } else if (v instanceof Boolean || v instanceof Integer || v instanceof Long || v instanceof Short
        || v instanceof Byte) {
      b.append(v);
    } else if ((v instanceof Double d && Double.isFinite(d)) || (v instanceof Float f && Float.isFinite(f))) {
      b.append(v);
    } else {
      b.append('"');
      escape(b, String.valueOf(v));
      b.append('"');
    }
  }

  /** JSON string escaping (RFC 8259): quotes, backslashes and control characters; the rest as is. */
  static void escape(StringBuilder b, String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20 || c == 0x85 || c == 0x2028 || c == 0x2029) { // (U+0085, U+2028/2029: line breaks to some readers)
            b.append("\\u").append(HEX[(c >> 12) & 0xf]).append(HEX[(c >> 8) & 0xf])
                .append(HEX[(c >> 4) & 0xf]).append(HEX[c & 0xf]);
          } else {
            b.append(c);
          }
        }
      }
    }
  }
}
