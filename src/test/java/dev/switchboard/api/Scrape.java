package dev.switchboard.api;

import dev.switchboard.testsupport.Http;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads a node's Prometheus text (GET /metrics) and polls conditions with a bounded deadline. */
public final class Scrape {
  private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([^}]*)\\})?\\s+(\\S+)");

  private Scrape() {
  }

  /** The /metrics body; fails unless the status is 200. */
  public static String metrics(int port) {
    HttpResponse<String> r = Http.get(port, "/metrics");
    if (r.statusCode() != 200) {
      throw new AssertionError("GET /metrics: " + r.statusCode());
    }
    return r.body();
  }

  /**
   * The sum of the samples named {@code name} whose labels include every {@code label="value"} given
   * (e.g. {@code "code=\"4008\""}); NaN when there is no such sample at all.
   */
  public static double value(String text, String name, String... labels) {
    double sum = 0;
    boolean found = false;
    for (String line : text.split("\n")) {
      if (line.startsWith("#")) {
        continue;
      }
      Matcher m = SAMPLE.matcher(line);
      if (!m.find() || !m.group(1).equals(name)) {
        continue;
      }
      String have = m.group(3) == null ? "" : m.group(3);
      boolean all = true;
      for (String l : labels) {
        if (!("," + have + ",").contains("," + l + ",")) {
          all = false;
          break;
        }
      }
      if (all) {
        sum += Double.parseDouble(m.group(4));
        found = true;
      }
    }
    return found ? sum : Double.NaN;
  }

  /** {@link #value} of a fresh scrape, 0 when the series does not exist yet. */
  public static double now(int port, String name, String... labels) {
    double v = value(metrics(port), name, labels);
    return Double.isNaN(v) ? 0 : v;
  }

  /** Polls until the condition holds; fails with {@code what} after the timeout. */
  public static void until(BooleanSupplier condition, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + timeout + ": " + what);
      }
      try {
        Thread.sleep(50); // polling interval of a bounded wait on a condition
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }
}
