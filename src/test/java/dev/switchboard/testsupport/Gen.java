package dev.switchboard.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Random;

/** Generators for {@link Props}: strings, bytes and JSON trees, leaning towards edge cases. */
public final class Gen {
  private static final JsonNodeFactory NODES = JsonNodeFactory.withExactBigDecimals(true);
  private static final long[] EDGE_LONGS = {0, 1, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, Long.MAX_VALUE,
      Long.MIN_VALUE, 9007199254740993L, 1L << 53};

  private Gen() {
  }

  public static int between(Random r, int min, int max) {
    return min + r.nextInt(max - min + 1);
  }

  @SafeVarargs
  public static <T> T pick(Random r, T... options) {
    return options[r.nextInt(options.length)];
  }

  /** A length in 0..max, small ones and the bound itself more often than a uniform draw gives. */
  public static int length(Random r, int max) {
    return switch (r.nextInt(4)) {
      case 0 -> Math.min(max, r.nextInt(4));
      case 1 -> max;
      default -> r.nextInt(max + 1);
    };
  }

  public static String string(Random r, String alphabet, int maxLength) {
    int n = length(r, maxLength);
    StringBuilder b = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      b.append(alphabet.charAt(r.nextInt(alphabet.length())));
    }
    return b.toString();
  }

  /** Valid Unicode (no lone surrogates) of at most {@code maxCodePoints}: ASCII, controls, BMP and astral. */
  public static String unicode(Random r, int maxCodePoints) {
    int n = length(r, maxCodePoints);
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < n; i++) {
      int cp = switch (r.nextInt(6)) {
        case 0 -> r.nextInt(0x20);
        case 1, 2 -> 0x20 + r.nextInt(0x60);
        case 3 -> 0x80 + r.nextInt(0x800 - 0x80);
        case 4 -> 0x800 + r.nextInt(0xD800 - 0x800);
        default -> 0x10000 + r.nextInt(0x110000 - 0x10000);
      };
      b.appendCodePoint(cp);
    }
    return b.toString();
  }

  public static byte[] bytes(Random r, int maxLength) {
    byte[] b = new byte[length(r, maxLength)];
    r.nextBytes(b);
    return b;
  }

  public static long anyLong(Random r) {
    return r.nextInt(3) == 0 ? EDGE_LONGS[r.nextInt(EDGE_LONGS.length)] : r.nextLong() >> r.nextInt(64);
  }

  /** A number node: int, long, beyond long, or a decimal (exact BigDecimal, as the strict readers give). */
  public static JsonNode number(Random r) {
    return switch (r.nextInt(4)) {
      case 0 -> NODES.numberNode(r.nextInt());
      case 1 -> NODES.numberNode(anyLong(r));
      case 2 -> NODES.numberNode(BigInteger.valueOf(anyLong(r)).multiply(BigInteger.TEN.pow(r.nextInt(30))));
      default -> NODES.numberNode(BigDecimal.valueOf(anyLong(r), between(r, -20, 20)));
    };
  }

  /** A JSON tree of at most {@code depth} nested containers (0: a scalar), keys unique per object. */
  public static JsonNode tree(Random r, int depth) {
    int kind = r.nextInt(depth > 0 ? 8 : 5);
    switch (kind) {
      case 0 -> {
        return NODES.nullNode();
      }
      case 1 -> {
        return NODES.booleanNode(r.nextBoolean());
      }
      case 2 -> {
        return number(r);
      }
      case 3, 4 -> {
        return NODES.textNode(unicode(r, 20));
      }
      case 5 -> {
        ArrayNode a = NODES.arrayNode();
        int n = r.nextInt(5);
        for (int i = 0; i < n; i++) {
          a.add(tree(r, depth - 1));
        }
        return a;
      }
      default -> {
        ObjectNode o = NODES.objectNode();
        int n = r.nextInt(5);
        for (int i = 0; i < n; i++) {
          o.set(unicode(r, 8), tree(r, depth - 1)); // a repeated key replaces: keys stay unique
        }
        return o;
      }
    }
  }

  /** {@code depth} arrays nested in one another around a scalar: {@code [[[1]]]}. */
  public static JsonNode nested(int depth) {
    JsonNode n = NODES.numberNode(1);
    for (int i = 0; i < depth; i++) {
      n = NODES.arrayNode().add(n);
    }
    return n;
  }

  /** {@code b} changed a little: bits flipped, bytes cut, inserted or repeated (hostile input that is nearly valid). */
  public static byte[] mutate(Random r, byte[] b) {
    byte[] out = b.clone();
    int edits = 1 + r.nextInt(3);
    for (int e = 0; e < edits && out.length > 0; e++) {
      int at = r.nextInt(out.length);
      switch (r.nextInt(5)) {
        case 0 -> out[at] ^= (byte) (1 << r.nextInt(8));
        case 1 -> out[at] = (byte) r.nextInt(256);
        case 2 -> out = java.util.Arrays.copyOf(out, at);
        case 3 -> {
          byte[] grown = new byte[out.length + 1];
          System.arraycopy(out, 0, grown, 0, at);
          grown[at] = (byte) r.nextInt(256);
          System.arraycopy(out, at, grown, at + 1, out.length - at);
          out = grown;
        }
        default -> {
          int len = Math.min(out.length - at, 1 + r.nextInt(8));
          byte[] grown = new byte[out.length + len];
          System.arraycopy(out, 0, grown, 0, at + len);
          System.arraycopy(out, at, grown, at + len, out.length - at);
          out = grown;
        }
      }
    }
    return out;
  }
}
