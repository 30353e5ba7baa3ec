package dev.switchboard.chaos;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The soak's verdict rule on made-up series (pure; milliseconds). */
class SoakTrendTest {
  private static final double THRESHOLD = 10;

  /** 40 samples over 20 minutes from minute 10: the window of a 30-minute soak sampled every 30 s. */
  private static double[] hours() {
    double[] h = new double[40];
    for (int i = 0; i < h.length; i++) {
      h[i] = (10 + i * 0.5) / 60;
    }
    return h;
  }

  private static double[] series(double mean, double pctPerHour, double noisePct, long seed) {
    Random r = new Random(seed);
    double[] h = hours();
    double[] y = new double[h.length];
    for (int i = 0; i < h.length; i++) {
      y[i] = mean * (1 + pctPerHour / 100 * (h[i] - h[0])) + mean * noisePct / 100 * r.nextGaussian();
    }
    return y;
  }

  @Test
  void aConstantSeriesIsFlat() {
    SoakTrend.Fit f = SoakTrend.fit(hours(), series(300, 0, 0, 1), THRESHOLD, 0);
    assertEquals(SoakTrend.Verdict.FLAT, f.verdict());
    assertEquals(0, f.slopePerHour(), 1e-9);
    assertEquals(300, f.mean(), 1e-9);
  }

  @Test
  void noiseAroundALevelIsFlat() {
    for (long seed = 1; seed <= 20; seed++) {
      assertEquals(SoakTrend.Verdict.FLAT, SoakTrend.fit(hours(), series(60, 0, 1, seed), THRESHOLD, 0).verdict(),
          "seed " + seed);
    }
  }

  @Test
  void aSteadyLeakIsGrowingWithItsRate() {
    SoakTrend.Fit f = SoakTrend.fit(hours(), series(60, 40, 0.5, 3), THRESHOLD, 0);
    assertEquals(SoakTrend.Verdict.GROWING, f.verdict());
    assertEquals(60 * 0.40, f.slopePerHour(), 60 * 0.40 * 0.15);
  }

  @Test
  void aSlopeOverTheThresholdInNoiseTooLoudToTellIsUnclear() {
    // 12 %/h against 10 % noise per sample: the slope's standard error is about 16 %/h
    SoakTrend.Fit f = SoakTrend.fit(hours(), series(60, 12, 10, 5), THRESHOLD, 0);
    if (f.pctPerHour() > THRESHOLD) {
      assertEquals(SoakTrend.Verdict.UNCLEAR, f.verdict());
    }
  }

  @Test
  void fallingIsFlat() {
    assertEquals(SoakTrend.Verdict.FLAT, SoakTrend.fit(hours(), series(100, -50, 0.5, 7), THRESHOLD, 0).verdict());
  }

  @Test
  void smallCountsAreMeasuredAgainstTheFloor() {
    // a map holding about one entry that gains half an entry per hour: 50 %/h of its mean, 5 %/h of a floor of 10
    double[] h = hours();
    double[] y = new double[h.length];
    for (int i = 0; i < y.length; i++) {
      y[i] = 1 + 0.5 * (h[i] - h[0]) + (i % 2 == 0 ? 0.001 : -0.001);
    }
    assertEquals(SoakTrend.Verdict.FLAT, SoakTrend.fit(h, y, THRESHOLD, 10).verdict());
    assertEquals(SoakTrend.Verdict.GROWING, SoakTrend.fit(h, y, THRESHOLD, 0).verdict());
  }

  @Test
  void underFourSamplesIsTooFew() {
    assertEquals(SoakTrend.Verdict.TOO_FEW, SoakTrend.fit(new double[] {0, 1, 2}, new double[] {1, 2, 3}, 10, 0)
        .verdict());
  }
}
