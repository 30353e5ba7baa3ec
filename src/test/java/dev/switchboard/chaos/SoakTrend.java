package dev.switchboard.chaos;

/**
 * Flat or growing: a least-squares line through a series' samples (time in hours), its slope per
 * hour as a percentage of the series' mean, and the slope's standard error.
 *
 * <p>A series is GROWING when its slope exceeds the threshold (percent of the mean per hour) and is
 * at least three standard errors above zero; FLAT when the slope is at most the threshold (falling
 * included); UNCLEAR when the slope exceeds the threshold but the samples are too noisy to tell
 * (run longer); TOO_FEW under 4 samples. Counts near zero are measured against {@code floor}
 * instead of their mean (a map that holds 0-3 entries has no meaningful percentage).
 */
final class SoakTrend {
  enum Verdict { FLAT, GROWING, UNCLEAR, TOO_FEW }

  /**
   * The fit of one series: sample count, mean, slope and its standard error (units per hour), and
   * the slope in % of max(mean, floor) per hour.
   */
  record Fit(int n, double mean, double slopePerHour, double sePerHour, double pctPerHour, Verdict verdict) {
  }

  /** Standard errors a slope must stand above zero to count as growth. */
  static final double MIN_T = 3;

  private SoakTrend() {
  }

  static Fit fit(double[] hours, double[] y, double thresholdPct, double floor) {
    int n = Math.min(hours.length, y.length);
    double tm = 0;
    double ym = 0;
    for (int i = 0; i < n; i++) {
      tm += hours[i];
      ym += y[i];
    }
    if (n == 0) {
      return new Fit(0, 0, 0, 0, 0, Verdict.TOO_FEW);
    }
    tm /= n;
    ym /= n;
    double sxx = 0;
    double sxy = 0;
    for (int i = 0; i < n; i++) {
      sxx += (hours[i] - tm) * (hours[i] - tm);
      sxy += (hours[i] - tm) * (y[i] - ym);
    }
    if (n < 4 || sxx == 0) {
      return new Fit(n, ym, 0, 0, 0, Verdict.TOO_FEW);
    }
    double slope = sxy / sxx;
    double rss = 0;
    for (int i = 0; i < n; i++) {
      double r = y[i] - (ym + slope * (hours[i] - tm));
      rss += r * r;
    }
    double se = Math.sqrt(rss / (n - 2) / sxx);
    double pct = 100 * slope / Math.max(Math.abs(ym), floor);
    Verdict v;
    if (pct <= thresholdPct) {
      v = Verdict.FLAT;
    } else if (se == 0 || slope / se >= MIN_T) {
      v = Verdict.GROWING;
    } else {
      v = Verdict.UNCLEAR;
    }
    return new Fit(n, ym, slope, se, pct, v);
  }
}
