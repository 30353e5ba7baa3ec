package dev.switchboard.chaos;

import dev.switchboard.testsupport.Netns;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two minutes of kills (SIGKILL) and drains (SIGTERM) against three node processes ({@link ChaosRun}),
 * then the checker: no acknowledged publication lost, forked or out of order, presence, devices and
 * Hazelcast clean at the end. The seed is fixed and printed; the whole output
 * (fault log, counters, violations with examples) is in this test's surefire output file.
 *
 * <p>With operations (started, attached from other nodes, cancelled, checked against op.status): they
 * joined the suite's run on 2026-12-07 after the defects the runs found were fixed, each with its own
 * test, and a series of seeds passed (docs/chaos.md).
 *
 * <p>Freezes ({@code stop}: SIGSTOP past the member timeout) are not in the suite's mix: each takes
 * 12 s plus the merge, so two minutes hold few faults, and FrozenNodeTest covers one freeze in the
 * suite. Runs with them ({@code -Dchaos.args="--faults kill,term,stop"}, seeds 11-13 on 2026-12-07,
 * and the 10-minute runs of {@code bench/chaos.sh}, its default mix) found no violation since the
 * fixes of that day; what they found before is in docs/chaos.md, "What the runs find".
 *
 * <p>Other mixes from the command line, e.g. {@code mvn -B test -Dtest=ChaosTest
 * -Dchaos.args="--faults kill,term --seed 7"} (any {@link ChaosOptions#USAGE} option); with
 * {@code --net netns} it skips where network namespaces cannot be made (not root).
 */
class ChaosTest {
  @Test
  void twoMinutesOfKillsAndDrainsLoseNoPublicationAndEndEveryOperationOnce() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("minutes", "2");
    m.put("seed", "11");
    m.put("faults", "kill,term");
    m.put("ops", "on");
    String extra = System.getProperty("chaos.args", "").trim();
    if (!extra.isEmpty()) {
      String[] a = extra.split("\\s+");
      for (int i = 0; i + 1 < a.length; i += 2) {
        m.put(a[i].replaceFirst("^--", ""), a[i + 1]);
      }
    }
    ChaosOptions o = ChaosOptions.from(m);
    if (o.net().equals(ChaosOptions.NETNS)) {
      String why = Netns.available();
      Assumptions.assumeTrue(why == null, "skipped: " + why);
    }
    Checker.Result r = ChaosRun.run(o, System.out);
    assertFalse(r.truncated(), "the recording was truncated (a bound was reached): " + r.line());
    assertTrue(r.totalViolations() == 0, r.line() + "\n" + r.report());
  }
}
