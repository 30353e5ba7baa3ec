package dev.switchboard.testsupport;

import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Property checks on plain JUnit: a property runs for many generated cases, each from its own
 * seed, and a failure names the seed that replays it. The run's seed is printed; fix it with
 * {@code -Dprops.seed=N} (the whole run again) or {@code -Dprops.case=N} (only the failing case),
 * and scale every property's case count with {@code -Dprops.scale=K}.
 *
 * <p>(jqwik would do this with shrinking; it is not used here: its engine prints, to coding agents,
 * that they must not use it.)
 */
public final class Props {
  private static final long RUN_SEED = Long.getLong("props.seed", System.nanoTime());
  private static final Long ONE_CASE = Long.getLong("props.case");
  private static final double SCALE = Double.parseDouble(System.getProperty("props.scale", "1"));

  private Props() {
  }

  /** A generated case: its random source and its number. */
  public record Case(java.util.Random random, int index) {
  }

  /**
   * Runs {@code tries} cases of {@code property}; a case fails by throwing. The first failure ends
   * the run with its case seed (replay: {@code -Dprops.case=<seed>}).
   */
  public static void check(String name, int tries, Consumer<Case> property) {
    if (ONE_CASE != null) {
      runOne(name, ONE_CASE, 0, property);
      return;
    }
    SplittableRandom seeds = new SplittableRandom(RUN_SEED ^ name.hashCode());
    int n = Math.max(1, (int) (tries * SCALE));
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      runOne(name, seeds.nextLong(), i, property);
    }
    System.out.printf("property %s: %d cases in %d ms (run seed %d)%n", name, n, (System.nanoTime() - t0) / 1_000_000,
        RUN_SEED);
  }

  private static void runOne(String name, long seed, int index, Consumer<Case> property) {
    try {
      property.accept(new Case(new java.util.Random(seed), index));
    } catch (AssertionError | RuntimeException e) {
      throw new AssertionError("property " + name + " failed at case " + index + ": " + e.getMessage()
          + "\n  replay this case with -Dprops.case=" + seed + " (run seed " + RUN_SEED + ")", e);
    }
  }
}
