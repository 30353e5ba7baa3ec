package dev.switchboard.chaos;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parsing of what jcmd prints (JDK 17), as captured from real processes; pure. */
class NodeProbeTest {
  private static final String SERIAL = """
      16997:
      Command executed successfully
       def new generation   total 78656K, used 1234K [0x00000000f0000000, 0x00000000f5550000, 0x00000000f5550000)
        eden space 69952K,   1% used [0x00000000f0000000, 0x00000000f0000000, 0x00000000f4450000)
        from space 8704K,   0% used [0x00000000f4450000, 0x00000000f4450000, 0x00000000f4cd0000)
        to   space 8704K,   0% used [0x00000000f4cd0000, 0x00000000f4cd0000, 0x00000000f5550000)
       tenured generation   total 174784K, used 52241K [0x00000000f5550000, 0x0000000100000000, 0x0000000100000000)
         the space 174784K,  29% used [0x00000000f5550000, 0x00000000f57806a8, 0x00000000f5780800, 0x0000000100000000)
       Metaspace       used 58940K, committed 59088K, reserved 1114112K
        class space    used 7062K, committed 7152K, reserved 1048576K
      """;

  private static final String G1 = """
      4242:
       garbage-first heap   total 262144K, used 40321K [0x00000000f0000000, 0x0000000100000000)
        region size 1024K, 2 young (2048K), 0 survivors (0K)
       Metaspace       used 61234K, committed 61800K, reserved 1105920K
        class space    used 7421K, committed 7680K, reserved 1048576K
      """;

  @Test
  void serialHeapIsBothGenerations() {
    assertEquals(1234 + 52241, NodeProbe.heapUsedKb(SERIAL));
    assertEquals(58940, NodeProbe.metaspaceKb(SERIAL));
  }

  @Test
  void g1HeapIsTheOneLine() {
    assertEquals(40321, NodeProbe.heapUsedKb(G1));
    assertEquals(61234, NodeProbe.metaspaceKb(G1));
  }

  @Test
  void noHeapFiguresIsAnError() {
    assertThrows(IllegalStateException.class, () -> NodeProbe.heapUsedKb("1234:\nCommand executed successfully\n"));
  }

  @Test
  void histogramLinesAndGrowth() {
    Map<String, NodeProbe.ClassCount> before = NodeProbe.parseHistogram("""
        16997:
         num     #instances         #bytes  class name (module)
        -------------------------------------------------------
           1:          8302         586024  [B (java.base@17.0.15)
           2:          2501         298496  java.lang.Class (java.base@17.0.15)
           3:          8209         197016  java.lang.String (java.base@17.0.15)
        Total         19012        1081536
        """);
    assertEquals(3, before.size());
    assertEquals(new NodeProbe.ClassCount(8302, 586024), before.get("[B"));
    Map<String, NodeProbe.ClassCount> after = Map.of("[B", new NodeProbe.ClassCount(9302, 686024),
        "java.lang.String", new NodeProbe.ClassCount(8209, 197016),
        "dev.switchboard.Leak", new NodeProbe.ClassCount(10, 240));
    var lines = NodeProbe.growth(before, after, 2);
    assertEquals(2, lines.size());
    assertTrue(lines.get(0).contains("+100000 B") && lines.get(0).endsWith("[B"), lines.get(0));
    assertTrue(lines.get(1).endsWith("dev.switchboard.Leak"), lines.get(1));
    assertEquals(1081536, NodeProbe.totalBytes(before));
  }
}
