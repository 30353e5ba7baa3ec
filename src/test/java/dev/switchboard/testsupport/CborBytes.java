package dev.switchboard.testsupport;

import java.io.ByteArrayOutputStream;
import java.util.Random;

/**
 * Hostile CBOR (RFC 8949) built item by item: every major type, every argument width, lengths and
 * counts that lie, indefinite lengths, stray breaks, tags with odd contents (bignums, decimal
 * fractions with extreme exponents), NaN and infinite floats, undefined and simple values.
 */
public final class CborBytes {
  private static final long[] EDGES = {0, 1, 23, 24, 255, 256, 65535, 65536, 0xFFFFFFFFL, 1L << 32, Long.MAX_VALUE, -1L};
  private static final int[] TAGS = {0, 1, 2, 3, 4, 5, 21, 22, 23, 24, 25, 28, 29, 32, 33, 35, 256, 55799};

  private final Random r;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();

  private CborBytes(Random r) {
    this.r = r;
  }

  /** One random item, {@code depth} containers deep at most. */
  public static byte[] item(Random r, int depth) {
    CborBytes b = new CborBytes(r);
    b.any(depth);
    return b.out.toByteArray();
  }

  /** An envelope map whose id, method or params hold hostile items (the decoder and then the envelope rules see them). */
  public static byte[] envelope(Random r) {
    CborBytes b = new CborBytes(r);
    b.head(5, 3);
    b.text("id");
    if (r.nextBoolean()) {
      b.any(2);
    } else {
      b.head(r.nextBoolean() ? 0 : 1, b.argument());
    }
    b.text("method");
    if (r.nextInt(3) == 0) {
      b.any(1);
    } else {
      b.text("system.ping");
    }
    b.text("params");
    b.any(3);
    return b.out.toByteArray();
  }

  private long argument() {
    return r.nextBoolean() ? EDGES[r.nextInt(EDGES.length)] : r.nextInt(40);
  }

  /** A head with the shortest width, or sometimes a longer one than needed (still valid CBOR). */
  private void head(int major, long arg) {
    int m = major << 5;
    int width = arg >= 0 && arg < 24 && r.nextInt(4) > 0 ? 0
        : arg >= 0 && arg < 256 && r.nextInt(3) > 0 ? 1
        : arg >= 0 && arg < 65536 && r.nextInt(2) > 0 ? 2
        : arg >= 0 && arg < 0x100000000L && r.nextBoolean() ? 4 : 8;
    switch (width) {
      case 0 -> out.write(m | (int) arg);
      case 1 -> {
        out.write(m | 24);
        out.write((int) arg);
      }
      case 2 -> {
        out.write(m | 25);
        writeN(arg, 2);
      }
      case 4 -> {
        out.write(m | 26);
        writeN(arg, 4);
      }
      default -> {
        out.write(m | 27);
        writeN(arg, 8);
      }
    }
  }

  private void writeN(long v, int n) {
    for (int i = n - 1; i >= 0; i--) {
      out.write((int) (v >>> (8 * i)) & 0xff);
    }
  }

  private void text(String s) {
    byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    head(3, b.length);
    out.write(b, 0, b.length);
  }

  private void any(int depth) {
    switch (r.nextInt(depth > 0 ? 12 : 8)) {
      case 0 -> head(0, argument());
      case 1 -> head(1, argument());
      case 2, 3 -> string(r.nextBoolean() ? 2 : 3);
      case 4 -> simple();
      case 5 -> out.write(0xff); // a break where none belongs
      case 6 -> out.write(0x1c + r.nextInt(3) | (r.nextInt(8) << 5)); // reserved additional info 28-30
      case 7 -> text(word(r));
      case 8 -> tagged(depth);
      case 9 -> container(4, depth);
      default -> container(5, depth);
    }
  }

  private void string(int major) {
    int n = r.nextInt(12);
    if (r.nextInt(5) == 0) {
      out.write(major << 5 | 31); // indefinite: chunks, then a break (chunks of the other type sometimes)
      for (int i = r.nextInt(3); i > 0; i--) {
        int chunkMajor = r.nextInt(6) == 0 ? 5 - major : major;
        head(chunkMajor, n);
        randomBytes(major, n);
      }
      out.write(0xff);
      return;
    }
    long declared = r.nextInt(6) == 0 ? argument() : n; // a length that lies, now and then
    head(major, declared);
    randomBytes(major, n);
  }

  private void randomBytes(int major, int n) {
    for (int i = 0; i < n; i++) {
      out.write(major == 3 && r.nextInt(4) > 0 ? 'a' + r.nextInt(26) : r.nextInt(256));
    }
  }

  private void simple() {
    switch (r.nextInt(7)) {
      case 0 -> out.write(0xf4 + r.nextInt(4)); // false, true, null, undefined
      case 1 -> out.write(0xe0 + r.nextInt(20)); // unassigned simple values
      case 2 -> {
        out.write(0xf8);
        out.write(r.nextInt(256));
      }
      case 3 -> { // half float: NaN, infinities, subnormals, anything
        out.write(0xf9);
        writeN(r.nextBoolean() ? Gen.pick(r, 0x7e00, 0x7c00, 0xfc00, 0x0001, 0x7bff) : r.nextInt(65536), 2);
      }
      case 4 -> {
        out.write(0xfa);
        writeN(Float.floatToRawIntBits(anyFloat(r)) & 0xffffffffL, 4);
      }
      default -> {
        out.write(0xfb);
        writeN(Double.doubleToRawLongBits(anyDouble(r)), 8);
      }
    }
  }

  private void tagged(int depth) {
    int tag = r.nextInt(4) == 0 ? r.nextInt(100_000) : TAGS[r.nextInt(TAGS.length)];
    head(6, tag);
    switch (tag) {
      case 2, 3 -> { // bignum: a byte string, sometimes long
        int n = r.nextInt(5) == 0 ? 2000 + r.nextInt(20_000) : r.nextInt(20);
        head(2, n);
        randomBytes(2, n);
      }
      case 4, 5 -> { // decimal fraction / bigfloat: [exponent, mantissa], exponent at the edges
        head(4, r.nextInt(8) == 0 ? r.nextInt(4) : 2);
        head(r.nextBoolean() ? 0 : 1, argument());
        if (r.nextBoolean()) {
          head(r.nextBoolean() ? 0 : 1, argument());
        } else {
          any(0);
        }
      }
      default -> any(depth - 1);
    }
  }

  private void container(int major, int depth) {
    int n = r.nextInt(4);
    boolean indefinite = r.nextInt(4) == 0;
    if (indefinite) {
      out.write(major << 5 | 31);
    } else {
      head(major, r.nextInt(8) == 0 ? argument() : n); // a count that lies, now and then
    }
    for (int i = 0; i < n; i++) {
      if (major == 5) {
        if (r.nextInt(6) == 0) {
          any(0); // a key that is not a string
        } else {
          text(word(r));
        }
      }
      any(depth - 1);
    }
    if (indefinite && r.nextInt(6) > 0) {
      out.write(0xff);
    }
  }

  private static String word(Random r) {
    return Gen.pick(r, "id", "method", "params", "topic", "data", "since", "x", "", "\u00e9", "\u0000");
  }

  private static float anyFloat(Random r) {
    return Gen.pick(r, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE, -0f, 1.5f, r.nextFloat());
  }

  private static double anyDouble(Random r) {
    return Gen.pick(r, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.MIN_VALUE, Double.MAX_VALUE,
        -0d, r.nextDouble(), Double.longBitsToDouble(r.nextLong()));
  }
}
