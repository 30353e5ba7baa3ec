package dev.switchboard.transport;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.transport.FuzzCases.Case;
import dev.switchboard.transport.FuzzCases.End;
import dev.switchboard.transport.FuzzCases.Terminal;
import dev.switchboard.transport.FuzzConnection.Observed;

import java.io.IOException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.atomic.LongAdder;

/** Runs one fuzz case on its connection and checks what the node sent against what it owes. */
final class FuzzChecks {
  private FuzzChecks() {
  }

  static void run(FuzzConnection c, Case k, String where, FrameFuzzTest.Tally tally) throws IOException {
    try {
      for (byte[] w : k.writes) {
        c.ws.writeRaw(w);
      }
    } catch (IOException e) {
      if (k.end == End.OPEN) {
        throw new AssertionError(where + ": the node dropped an open connection: " + e + describe(k));
      }
    }
    Observed o;
    switch (k.end) {
      case OPEN -> {
        String sentinel = c.sendSentinel();
        o = c.read(f -> sentinel.equals(f.path("id").asText()) && f.path("type").asText().matches("result|error"), true);
        require(o.stop != null && "result".equals(o.stop.path("type").asText()), where, "no answer to the ping after the case", o, k);
      }
      case CLOSE -> {
        o = c.read(f -> false, false);
        require(o.closeCode != null && o.closeCode == k.closeCode, where, "closed with " + o.closeCode + " (end of stream: " + o.eof
            + ") instead of " + k.closeCode, o, k);
      }
      case CHAOS -> {
        try {
          c.ws.shutdownOutput();
        } catch (IOException gone) {
          // the node may have closed already
        }
        o = c.read(f -> false, false);
        require(o.closeCode == null ? o.eof : FrameFuzzTest.MALFORMED_CODES.contains(o.closeCode), where,
            "ended with " + o.closeCode + " (end of stream: " + o.eof + ")", o, k);
      }
      default -> {
        c.ws.abort();
        return;
      }
    }
    if (o.closeCode != null) { // the node's own closes; a client's close code only comes back as its echo
      (k.echoed ? tally.echoes : tally.closes).computeIfAbsent(o.closeCode, x -> new LongAdder()).increment();
    }
    tally.terminals.add(o.terminals.size());
    tally.pongs.add(o.pongs.size());
    require(o.oddities.isEmpty(), where, "odd frames " + o.oddities, o, k);
    for (JsonNode t : o.terminals) {
      String code = t.at("/error/code").asText("");
      require(!code.equals("INTERNAL"), where, "INTERNAL " + t, o, k);
      require(code.isEmpty() || FrameFuzzTest.CODES.contains(code), where, "an error code outside the catalog " + t, o, k);
      String message = t.at("/error/message").asText("");
      require(!message.matches("(?s).*(Exception|com\\.fasterxml|java\\.|io\\.netty|io\\.vertx).*"), where,
          "a message that exposes internals " + t, o, k);
    }
    if (k.end == End.CHAOS) {
      return; // what the rest of a lying frame means is not known: only that nothing above went wrong
    }
    require(o.terminals.size() == k.terminals.size(), where, o.terminals.size() + " terminals for " + k.terminals.size()
        + " messages", o, k);
    for (int i = 0; i < k.terminals.size(); i++) {
      require(matches(k.terminals.get(i), o.terminals.get(i)), where, "message " + (i + 1) + " owed " + k.terminals.get(i)
          + " but got " + o.terminals.get(i), o, k);
    }
    require(o.pongs.size() == k.pongs.size(), where, o.pongs.size() + " pongs for " + k.pongs.size() + " pings", o, k);
    for (int i = 0; i < k.pongs.size(); i++) {
      require(Arrays.equals(k.pongs.get(i), o.pongs.get(i)), where, "pong " + (i + 1) + " does not carry its ping's payload", o, k);
    }
  }

  private static boolean matches(Terminal owed, JsonNode got) {
    boolean success = "result".equals(got.path("type").asText());
    String code = success ? "result" : got.at("/error/code").asText();
    if (owed.codes() != FuzzCases.ANY && !owed.codes().contains(code)) {
      return false;
    }
    if (owed.id() == FuzzCases.ANY_ID) {
      return true;
    }
    JsonNode id = got.get("id");
    if (owed.id() == null) {
      return id == null;
    }
    return id != null && owed.id().isTextual() == id.isTextual()
        && (owed.id().isTextual() ? owed.id().equals(id) : owed.id().longValue() == id.longValue() && id.isIntegralNumber());
  }

  private static void require(boolean ok, String where, String what, Observed o, Case k) {
    if (!ok) {
      throw new AssertionError(where + ": " + what + "\n  got terminals " + o.terminals + ", " + o.pongs.size() + " pongs, close "
          + o.closeCode + (o.eof ? ", end of stream" : "") + describe(k));
    }
  }

  private static String describe(Case k) {
    StringBuilder b = new StringBuilder("\n  case writes:");
    for (byte[] w : k.writes) {
      String hex = HexFormat.of().formatHex(w, 0, Math.min(w.length, 160));
      b.append("\n    ").append(hex).append(w.length > 160 ? "… (" + w.length + " bytes)" : "");
    }
    return b.toString();
  }
}
