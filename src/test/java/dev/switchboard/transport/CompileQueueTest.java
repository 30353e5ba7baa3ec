package dev.switchboard.transport;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading HotSpot's compile queues (what the warm-up waits on between rounds). */
class CompileQueueTest {
  @Test
  void countsTheMethodsWaitingInBothQueuesButNotTheOnesBeingCompiled() {
    String text = """
        Current compiles:\s
        C2 CompilerThread0  1156   !   4       com.example.A::run (497 bytes)

        C1 compile queue:
        1160       3       com.example.B::get (12 bytes)

        C2 compile queue:
        1157       4       com.example.C::width (42 bytes)
        1158       4       com.example.D::fromUtf (174 bytes)
        """;
    assertEquals(3, WarmUp.CompileQueue.count(text));
  }

  @Test
  void emptyQueuesCountZero() {
    assertEquals(0, WarmUp.CompileQueue.count("Current compiles: \n\nC1 compile queue:\nEmpty\n\nC2 compile queue:\nEmpty\n"));
  }

  @Test
  void textWithoutQueuesIsUnknown() {
    assertEquals(-1, WarmUp.CompileQueue.count("Unknown diagnostic command"));
  }

  @Test
  void thisJvmAnswers() {
    assertTrue(WarmUp.CompileQueue.pending() >= 0, "HotSpot answers Compiler.queue through the DiagnosticCommand MBean");
  }
}
