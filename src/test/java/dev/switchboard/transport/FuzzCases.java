package dev.switchboard.transport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import dev.switchboard.testsupport.CborBytes;
import dev.switchboard.testsupport.Gen;
import dev.switchboard.testsupport.RawWs;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * The frame fuzzer's cases, each with what the node owes for it (docs/protocol.md, Limits): the
 * terminal of every message in order, a pong for every ping in order, and how the connection ends
 * (open, a close code, or, for frames whose lengths lie, any of the malformed-frame codes).
 * Requests are all answered synchronously (ping, unknown methods, refused params or rights), so
 * their terminals come in the order sent. One generator per connection; not thread-safe.
 */
final class FuzzCases {
  static final int SOFT = 1024;
  static final int HARD = 4096;
  static final ObjectMapper JSON = new ObjectMapper();
  static final ObjectMapper CBOR = new ObjectMapper(new CBORFactory());
  /** Any id, or none: the terminal of a message whose content is not known (garbage). */
  static final JsonNode ANY_ID = TextNode.valueOf("\u0000any");
  static final Set<String> ANY = null;

  enum End { OPEN, CLOSE, CHAOS, ABORT }

  /** A terminal the node owes: its id (null: none) and the codes it may carry ("result": success; null: any but INTERNAL). */
  record Terminal(JsonNode id, Set<String> codes) {
  }

  /** One case: the socket writes, what is owed for them, and how the connection ends. */
  static final class Case {
    final String kind;
    final List<byte[]> writes = new ArrayList<>();
    final List<Terminal> terminals = new ArrayList<>();
    final List<byte[]> pongs = new ArrayList<>();
    End end = End.OPEN;
    int closeCode;
    /** The close code owed is the client's own, echoed. */
    boolean echoed;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    /** Where the last frame starts: a case the node ends writes it whole, last (see chunk). */
    private int lastFrameAt;

    Case(String kind) {
      this.kind = kind;
    }

    int size() {
      return writes.stream().mapToInt(b -> b.length).sum();
    }
  }

  /** A data message: its bytes, its frame type, and the terminal it gets. */
  private record Msg(byte[] payload, boolean binary, Terminal owed) {
  }

  private final Random r;
  private final boolean cbor;
  private int ids;

  FuzzCases(Random r, boolean cbor) {
    this.r = r;
    this.cbor = cbor;
  }

  Case next() {
    int k = r.nextInt(100);
    Case c;
    if (k < 28) {
      c = messages("requests", this::request);
    } else if (k < 46) {
      c = messages("garbage", this::garbage);
    } else if (k < 52) {
      c = controls();
    } else if (k < 56) {
      c = oversized();
    } else if (k < 82) {
      c = violation();
    } else if (k < 89) {
      c = invalidUtf8();
    } else if (k < 93) {
      c = clientClose();
    } else if (k < 98) {
      c = lyingLength();
    } else {
      c = abort();
    }
    chunk(c);
    return c;
  }

  // ------------------------------------------------------------------ messages

  private Msg request() {
    ObjectNode env = JSON.createObjectNode();
    JsonNode id = r.nextBoolean() ? TextNode.valueOf("r" + (++ids) + Gen.pick(r, "", "-\u00e9", "\ud83d\ude00")) : IntNode.valueOf(++ids);
    env.set("id", id);
    env.put("method", "system.ping");
    String code = "result";
    switch (r.nextInt(8)) {
      case 0 -> {
        env.putObject("params").put("unknown", 1);
        code = "INVALID_PARAMS";
      }
      case 1 -> {
        env.put("method", "no." + Gen.string(r, "abc", 5));
        code = "UNKNOWN_METHOD";
      }
      case 2 -> {
        env.put("method", "topic.publish").putObject("params").put("topic", Gen.pick(r, "bad topic", "", "é")).put("data", 1);
        code = "INVALID_PARAMS";
      }
      case 3 -> {
        env.put("method", "topic.publish").putObject("params").put("topic", "secret:" + ids).put("data", 1);
        code = "FORBIDDEN";
      }
      case 4 -> { // padded towards the soft limit: an unknown param (INVALID_PARAMS) or too large
        env.putObject("params").put("pad", "x".repeat(Gen.between(r, SOFT - 120, SOFT + 40)));
        code = "INVALID_PARAMS";
      }
      case 5 -> {
        env.put("id", Gen.pick(r, "y".repeat(65), "1.5"));
        if (env.get("id").asText().equals("1.5")) {
          env.put("id", 1.5);
        }
        return sized(encode(env), cbor, new Terminal(null, Set.of("INVALID_REQUEST")));
      }
      default -> {
        // a plain ping
      }
    }
    return sized(encode(env), cbor, new Terminal(id, Set.of(code)));
  }

  /** Over the soft limit, a message gets MESSAGE_TOO_LARGE (not parsed: no id) whatever it is. */
  private static Msg sized(byte[] payload, boolean binary, Terminal owed) {
    return new Msg(payload, binary, payload.length > SOFT ? new Terminal(null, Set.of("MESSAGE_TOO_LARGE")) : owed);
  }

  private byte[] encode(JsonNode env) {
    try {
      return cbor ? CBOR.writeValueAsBytes(env) : JSON.writeValueAsBytes(env);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A message that is not a request: its terminal is an error of some kind, never INTERNAL. */
  private Msg garbage() {
    if (r.nextInt(5) == 0) { // the other format: refused as such
      byte[] b = cbor ? Gen.unicode(r, 40).getBytes(StandardCharsets.UTF_8) : Gen.bytes(r, 60);
      return sized(b, !cbor, new Terminal(null, Set.of("INVALID_REQUEST")));
    }
    ObjectNode ping = JSON.createObjectNode().put("id", "g" + (++ids)).put("method", "system.ping");
    byte[] b;
    if (cbor) {
      b = switch (r.nextInt(3)) {
        case 0 -> CborBytes.item(r, 3);
        case 1 -> CborBytes.envelope(r);
        default -> Gen.mutate(r, encode(ping));
      };
    } else {
      b = r.nextBoolean() ? Gen.unicode(r, 60).getBytes(StandardCharsets.UTF_8) : Gen.mutate(r, encode(ping));
      if (!utf8(b)) {
        b = Gen.unicode(r, 30).getBytes(StandardCharsets.UTF_8); // invalid UTF-8 is a case of its own (1007)
      }
    }
    if (b.length > HARD) { // (a long bignum): past the hard limit a message is a 1009 close, a case of its own
      b = java.util.Arrays.copyOf(b, Gen.between(r, SOFT, HARD));
    }
    return sized(b, cbor, new Terminal(ANY_ID, ANY));
  }

  static boolean utf8(byte[] b) {
    try {
      StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(b));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  /** A message as 1-5 frames, pings and pongs between them now and then. */
  private void emit(Case c, Msg m) {
    int pieces = r.nextInt(3) == 0 ? Gen.between(r, 2, 5) : 1;
    List<byte[]> parts = ReassemblyProperties.split(r, m.payload(), pieces);
    for (int i = 0; i < pieces; i++) {
      int op = i > 0 ? RawWs.CONTINUATION : m.binary() ? RawWs.BINARY : RawWs.TEXT;
      frame(c, ClientFrame.of(op, i == pieces - 1, parts.get(i)));
      if (i < pieces - 1 && r.nextInt(3) == 0) {
        control(c);
      }
    }
    c.terminals.add(m.owed());
  }

  private void control(Case c) {
    byte[] payload = Gen.bytes(r, 125);
    if (r.nextInt(3) > 0) {
      frame(c, ClientFrame.of(RawWs.PING, true, payload));
      c.pongs.add(payload);
    } else {
      frame(c, ClientFrame.of(RawWs.PONG, true, payload)); // unsolicited: nothing owed
    }
  }

  private void frame(Case c, ClientFrame f) {
    c.lastFrameAt = c.bytes.size();
    c.bytes.writeBytes(f.bytes(r));
  }

  // ------------------------------------------------------------------ kinds of case

  private Case messages(String kind, java.util.function.Supplier<Msg> source) {
    Case c = new Case(kind);
    for (int i = Gen.between(r, 1, 4); i > 0; i--) {
      emit(c, source.get());
    }
    return c;
  }

  private Case controls() {
    Case c = new Case("control frames");
    for (int i = Gen.between(r, 1, 5); i > 0; i--) {
      control(c);
    }
    return c;
  }

  /** A fragmented message between the limits: MESSAGE_TOO_LARGE, the connection stays. */
  private Case oversized() {
    Case c = new Case("fragmented over the soft limit");
    byte[] payload = new byte[Gen.between(r, SOFT + 1, HARD)];
    java.util.Arrays.fill(payload, (byte) 'z');
    emitFragmented(c, payload, new Terminal(null, Set.of("MESSAGE_TOO_LARGE")));
    return c;
  }

  private void emitFragmented(Case c, byte[] payload, Terminal owed) {
    int pieces = Gen.between(r, 2, 6);
    List<byte[]> parts = ReassemblyProperties.split(r, payload, pieces);
    for (int i = 0; i < pieces; i++) {
      frame(c, ClientFrame.of(i == 0 ? (cbor ? RawWs.BINARY : RawWs.TEXT) : RawWs.CONTINUATION, i == pieces - 1, parts.get(i)));
    }
    c.terminals.add(owed);
  }

  /**
   * A frame that breaks RFC 6455 framing, after what a connection may have before it: whole
   * messages (answered first), pings, a fragmented message left open.
   */
  private Case violation() {
    Case c = new Case("malformed frame");
    for (int i = r.nextInt(3); i > 0; i--) {
      if (r.nextBoolean()) {
        emit(c, request());
      } else {
        control(c);
      }
    }
    boolean open = r.nextBoolean();
    if (open) { // at least a byte: a continuation of HARD bytes then passes the hard limit
      byte[] first = new byte[Gen.between(r, 1, 20)];
      r.nextBytes(first);
      frame(c, ClientFrame.of(cbor ? RawWs.BINARY : RawWs.TEXT, false, first));
    }
    c.end = End.CLOSE;
    c.closeCode = 1008;
    byte[] small = Gen.bytes(r, 20);
    int controlOp = Gen.pick(r, RawWs.PING, RawWs.PONG, RawWs.CLOSE);
    ClientFrame bad = switch (r.nextInt(12)) {
      case 0 -> ClientFrame.of(Gen.pick(r, RawWs.TEXT, RawWs.BINARY, RawWs.PING), true, small).withRsv(Gen.between(r, 1, 7));
      case 1 -> ClientFrame.of(Gen.pick(r, 3, 4, 5, 6, 7, 11, 12, 13, 14, 15), r.nextBoolean(), small);
      case 2 -> ClientFrame.of(Gen.pick(r, RawWs.TEXT, RawWs.BINARY, RawWs.PING), true, small).unmasked();
      case 3 -> ClientFrame.of(controlOp, false, new byte[0]);
      case 4 -> ClientFrame.of(controlOp, true, new byte[Gen.between(r, 126, 300)]);
      case 5 -> ClientFrame.of(Gen.pick(r, RawWs.TEXT, RawWs.PING), true, small).declaring(-1, Gen.pick(r, 16, 64));
      case 6 -> ClientFrame.of(RawWs.TEXT, true, new byte[0]).declaring(Long.MIN_VALUE + r.nextInt(100), 64);
      case 7 -> open ? ClientFrame.of(Gen.pick(r, RawWs.TEXT, RawWs.BINARY), true, small) : ClientFrame.of(RawWs.CONTINUATION, r.nextBoolean(), small);
      case 8 -> ClientFrame.of(RawWs.CLOSE, true, new byte[] {(byte) r.nextInt(256)});
      case 9 -> ClientFrame.of(RawWs.CLOSE, true, ClientFrame.closePayload(
          Gen.pick(r, 0, 999, 1004, 1005, 1006, 1015, 1016, Gen.between(r, 1016, 2999)), new byte[0]));
      case 10 -> {
        c.closeCode = 1007;
        yield ClientFrame.of(RawWs.CLOSE, true, ClientFrame.closePayload(1000, new byte[] {'a', (byte) 0xC3, 0x28}));
      }
      default -> {
        c.closeCode = 1009;
        int op = open ? RawWs.CONTINUATION : cbor ? RawWs.BINARY : RawWs.TEXT; // (a new message inside an open one is 1008 first)
        yield ClientFrame.of(op, true, new byte[0]).declaring(HARD + 1 + r.nextInt(1 << 20), 0);
      }
    };
    if (open && c.closeCode == 1008 && r.nextInt(4) == 0) { // or: the open message grows past the hard limit
      c.closeCode = 1009;
      bad = ClientFrame.of(RawWs.CONTINUATION, r.nextBoolean(), new byte[HARD]);
    }
    frame(c, bad);
    return c;
  }

  /** A text message (whole or fragmented) with invalid UTF-8, even split across fragments: 1007. */
  private Case invalidUtf8() {
    Case c = new Case("invalid UTF-8");
    byte[] good = ("{\"id\":\"" + Gen.unicode(r, 20) + "\",\"method\":\"system.ping\"}").getBytes(StandardCharsets.UTF_8);
    byte[] bad = Gen.pick(r, new byte[] {(byte) 0xC0, (byte) 0x80}, new byte[] {(byte) 0x80}, new byte[] {(byte) 0xE2, (byte) 0x82},
        new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, new byte[] {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
        new byte[] {(byte) 0xFE}, new byte[] {(byte) 0xC3, 0x28}, new byte[] {(byte) 0xF0, (byte) 0x9F, (byte) 0x98});
    int at = r.nextBoolean() ? good.length : r.nextInt(good.length + 1);
    byte[] msg = new byte[good.length + bad.length];
    System.arraycopy(good, 0, msg, 0, at);
    System.arraycopy(bad, 0, msg, at, bad.length);
    System.arraycopy(good, at, msg, at + bad.length, good.length - at);
    emit(c, new Msg(msg, false, null));
    c.terminals.remove(c.terminals.size() - 1); // closed, not answered
    c.end = End.CLOSE;
    c.closeCode = 1007;
    return c;
  }

  /** A valid close frame from the client, perhaps in the middle of a fragmented message: its code echoed. */
  private Case clientClose() {
    Case c = new Case("client close");
    if (r.nextBoolean()) {
      emit(c, request());
    }
    if (r.nextBoolean()) {
      frame(c, ClientFrame.of(cbor ? RawWs.BINARY : RawWs.TEXT, false, new byte[] {'{'}));
    }
    int code = Gen.pick(r, 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, Gen.between(r, 3000, 4999));
    byte[] reason = Gen.unicode(r, 30).getBytes(StandardCharsets.UTF_8);
    frame(c, ClientFrame.of(RawWs.CLOSE, true, ClientFrame.closePayload(code, java.util.Arrays.copyOf(reason, Math.min(reason.length, 123)))));
    c.end = End.CLOSE;
    c.closeCode = code;
    c.echoed = true;
    return c;
  }

  /**
   * A data frame whose length lies (shorter or longer than what follows), then the client's FIN:
   * what the node makes of the rest is not known, only that it ends within the contract.
   */
  private Case lyingLength() {
    Case c = new Case("lying length");
    byte[] payload = Gen.string(r, "abcdefghij{}\":,", 200).getBytes(StandardCharsets.US_ASCII);
    long declared = r.nextBoolean() ? r.nextInt(payload.length + 1) : payload.length + 1 + r.nextInt(2 * HARD);
    // a zero mask key: what follows a short length is this printable text, whose every byte read as
    // a frame header has reserved bits set (not, say, a close frame with a code of its own)
    c.bytes.writeBytes(ClientFrame.of(cbor ? RawWs.BINARY : RawWs.TEXT, true, payload).declaring(declared, 0).bytes(new byte[4]));
    c.end = End.CHAOS;
    return c;
  }

  /** Part of a frame, then a TCP reset. */
  private Case abort() {
    Case c = new Case("reset mid-frame");
    byte[] whole = ClientFrame.of(RawWs.TEXT, r.nextBoolean(), Gen.bytes(r, 200)).bytes(r);
    c.bytes.write(whole, 0, r.nextInt(whole.length));
    c.end = End.ABORT;
    return c;
  }

  /**
   * The case's bytes in 1-4 socket writes, cut anywhere (inside headers too); except that when the
   * node is to close, the frame that makes it comes whole in the last write: nothing of ours may
   * arrive after the node closed (its reset could discard the close frame on its way to us).
   */
  private void chunk(Case c) {
    byte[] all = c.bytes.toByteArray();
    int cut = c.end == End.CLOSE ? c.lastFrameAt : all.length;
    byte[] head = java.util.Arrays.copyOf(all, cut);
    for (byte[] part : ReassemblyProperties.split(r, head, r.nextInt(3) == 0 ? Gen.between(r, 2, 4) : 1)) {
      if (part.length > 0) {
        c.writes.add(part);
      }
    }
    if (cut < all.length) {
      c.writes.add(java.util.Arrays.copyOfRange(all, cut, all.length));
    }
  }
}
