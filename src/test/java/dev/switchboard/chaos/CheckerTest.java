package dev.switchboard.chaos;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The checker on hand-made recordings: each rule, and what it must not flag. */
class CheckerTest {
  int clock;
  final Recorder rec = new Recorder(List.of("chat:a", "chat:b"), () -> clock);
  final int e1 = rec.epoch("E1");
  final int e2 = rec.epoch("E2");

  ClientLog client(String user, int... topics) {
    ClientLog c = rec.client(user, "d", topics);
    c.connection("n1 s1 new");
    c.add(ClientLog.CONNECTED, 0, 0, 0, 0, 1, 0);
    return c;
  }

  Publication acked(int topic, int epoch, long offset) {
    Publication p = rec.publication(topic, "ws1");
    p.outcome = Publication.Outcome.ACKED;
    p.ackEpoch = epoch;
    p.ackOffset = offset;
    p.ackAt = clock;
    return p;
  }

  void event(ClientLog c, int topic, int epoch, long offset, Publication p, int conn) {
    c.add(ClientLog.EVENT, 0, topic, epoch, offset, p == null ? -1 : p.id, conn);
  }

  Checker.Result check() {
    return Checker.check(rec);
  }

  @Test
  void deliveredEverywhereIsClean() {
    ClientLog c = client("u1", 0);
    c.add(ClientLog.SUB, 0, 0, e1, 0, 0, 0);
    clock = 10;
    Publication p1 = acked(0, e1, 1);
    Publication p2 = acked(0, e1, 2);
    clock = 20;
    event(c, 0, e1, 1, p1, 0);
    event(c, 0, e1, 2, p2, 0);
    // a resume replays both again on the next connection: repeats of one position are fine
    event(c, 0, e1, 1, p1, 1);
    event(c, 0, e1, 2, p2, 1);
    Checker.Result r = check();
    assertEquals(0, r.totalViolations(), r.report());
    assertEquals(2, r.figures().get("expected"));
    assertEquals(4, r.figures().get("events"));
  }

  @Test
  void aPublicationSentBeforeTheSubscriptionIsNotExpected() {
    Publication p = acked(0, e1, 1);
    clock = 5;
    ClientLog c = client("u1", 0);
    c.add(ClientLog.SUB, 0, 0, e1, 1, 0, 0);
    Checker.Result r = check();
    assertEquals(0, r.totalViolations(), r.report());
    assertEquals(0, r.figures().get("expected"));
    assertEquals(1, p.id);
  }

  @Test
  void missingWithoutTellingIsLost() {
    ClientLog c = client("u1", 0);
    c.add(ClientLog.SUB, 0, 0, e1, 0, 0, 0);
    clock = 10;
    acked(0, e1, 1);
    Checker.Result r = check();
    assertEquals(1, r.violations().get("lost"), r.report());
  }

  @Test
  void aNewEpochToldAfterThePublicationExcusesIt() {
    ClientLog c = client("u1", 0);
    c.add(ClientLog.SUB, 0, 0, e1, 0, 0, 0);
    clock = 10;
    acked(0, e1, 1);
    clock = 20;
    Publication q = acked(0, e2, 1);
    event(c, 0, e2, 1, q, 0);
    Checker.Result r = check();
    assertEquals(0, r.violations().get("lost"), r.report());
    assertEquals(1, r.figures().get("excused"));
  }

  @Test
  void recoveredFalseToASubscribeWithSinceExcusesButARepeatDoesNot() {
    ClientLog told = client("u1", 0);
    ClientLog repeat = client("u2", 0);
    told.add(ClientLog.SUB, 0, 0, e1, 0, 0, 0);
    repeat.add(ClientLog.SUB, 0, 0, e1, 0, 0, 0);
    clock = 10;
    acked(0, e1, 1);
    clock = 20;
    told.add(ClientLog.SUB, ClientLog.SINCE, 0, e1, 1, 0, 0);
    repeat.add(ClientLog.SUB, ClientLog.SINCE | ClientLog.REPEAT, 0, e1, 1, 0, 0);
    Checker.Result r = check();
    assertEquals(1, r.violations().get("lost"), r.report());
    assertEquals(1, r.figures().get("excused"));
  }

  @Test
  void aGapInAnEpochIsLostWhateverWasToldLater() {
    ClientLog c = client("u1", 0);
    c.add(ClientLog.SUB, 0, 0, e1, 0, 0, 0);
    clock = 10;
    acked(0, e1, 1);
    Publication p2 = acked(0, e1, 2);
    Publication q = acked(0, e2, 1);
    clock = 20;
    event(c, 0, e1, 2, p2, 0);
    event(c, 0, e2, 1, q, 0);
    Checker.Result r = check();
    assertEquals(1, r.violations().get("lost"), r.report());
  }

  @Test
  void onePublicationAtTwoPositionsIsDuplicated() {
    ClientLog c = client("u1", 0);
    c.add(ClientLog.SUB, 0, 0, e1, 0, 0, 0);
    clock = 10;
    Publication p = acked(0, e1, 1);
    event(c, 0, e1, 1, p, 0);
    event(c, 0, e1, 2, p, 0);
    Checker.Result r = check();
    assertEquals(1, r.violations().get("duplicated"), r.report());
    assertEquals(0, r.violations().get("misplaced"), r.report()); // also delivered at its acknowledged position
    assertEquals(0, r.totalViolations(), "reported, not a violation: at-least-once across a failover");
  }

  @Test
  void twoPublicationsAtOnePositionAreAFork() {
    ClientLog a = client("u1", 0);
    ClientLog b = client("u2", 0);
    a.add(ClientLog.SUB, 0, 0, e1, 0, 0, 0);
    b.add(ClientLog.SUB, 0, 0, e1, 0, 0, 0);
    clock = 10;
    Publication p = acked(0, e1, 1);
    Publication q = acked(0, e1, 1);
    event(a, 0, e1, 1, p, 0);
    event(b, 0, e1, 1, q, 0);
    Checker.Result r = check();
    assertEquals(1, r.violations().get("forked"), r.report());
  }

  @Test
  void anAckForAPositionDeliveredWithAnotherPublicationIsAFork() {
    ClientLog a = client("u1", 0);
    a.add(ClientLog.SUB, 0, 0, e1, 0, 0, 0);
    clock = 10;
    Publication p = acked(0, e1, 1);
    Publication q = acked(0, e1, 1);
    q.outcome = Publication.Outcome.ACKED;
    event(a, 0, e1, 1, p, 0);
    Checker.Result r = check();
    assertEquals(1, r.violations().get("forked"), r.report());
  }

  @Test
  void goingBackInOffsetOrEpochIsDisordered() {
    ClientLog c = client("u1", 0);
    c.add(ClientLog.SUB, 0, 0, e1, 0, 0, 0);
    event(c, 0, e1, 2, null, 0);
    event(c, 0, e1, 1, null, 0);
    event(c, 0, e2, 1, null, 0);
    event(c, 0, e1, 3, null, 0);
    Checker.Result r = check();
    assertEquals(2, r.violations().get("disordered"), r.report());
  }

  @Test
  void theSamePositionTwiceOnOneConnectionIsDisordered() {
    ClientLog c = client("u1", 0);
    c.add(ClientLog.SUB, 0, 0, e1, 0, 0, 0);
    event(c, 0, e1, 1, null, 0);
    event(c, 0, e1, 1, null, 0);
    Checker.Result r = check();
    assertEquals(1, r.violations().get("disordered"), r.report());
  }

  OpFollow follow(ClientLog c, String op, String how, Object... frames) {
    OpFollow f = rec.follow(c.index, op, how);
    for (int i = 0; i < frames.length; i += 3) {
      f.frame(new OpFollow.Frame((String) frames[i], (Integer) frames[i + 1], (String) frames[i + 2], clock, 0));
    }
    return f;
  }

  @Test
  void operationsNeedExactlyOneTerminalThatStatusAgreesWith() {
    ClientLog a = client("u1");
    ClientLog b = client("u1b");
    Recorder.OpInfo ok = rec.op("op_ok", "u1", a.index, "{}");
    follow(a, "op_ok", "start", "progress", 1, null, "stream", 2, null, "result", 3, null, "result", 3, null);
    follow(b, "op_ok", "attach", "stream", 2, null, "result", 3, null);
    ok.statusState = "done";
    ok.statusSeq = 3;
    Recorder.OpInfo missing = rec.op("op_missing", "u1", a.index, "{}");
    follow(a, "op_missing", "start", "progress", 1, null, "stream", 2, null);
    missing.statusState = "running";
    Recorder.OpInfo twice = rec.op("op_twice", "u1", a.index, "{}");
    follow(a, "op_twice", "start", "progress", 1, null, "result", 3, null, "error", 4, "NODE_LOST");
    twice.statusState = "done";
    twice.statusSeq = 3;
    // the result read, its node killed before the session recorded it: the stand-in at its seq is a repeat
    Recorder.OpInfo standIn = rec.op("op_stand_in", "u1", a.index, "{}");
    follow(a, "op_stand_in", "start", "progress", 1, null, "result", 2, null, "error", 2, "NODE_LOST");
    standIn.statusState = "done";
    standIn.statusSeq = 2;
    Recorder.OpInfo wrong = rec.op("op_wrong", "u1", a.index, "{}");
    follow(a, "op_wrong", "start", "progress", 1, null, "error", 2, "CANCELLED");
    wrong.statusState = "done";
    wrong.statusSeq = 2;
    Checker.Result r = check();
    assertEquals(1, r.violations().get("terminal.missing"), r.report());
    assertEquals(1, r.violations().get("terminal.several"), r.report());
    assertEquals(1, r.violations().get("terminal.status"), r.report());
    assertEquals(3, r.figures().get("terminal"), r.report());
  }

  @Test
  void findingsOfTheLiveChecksAreEndViolations() {
    rec.finding("presence", "chat:a missing [u1/d]");
    Checker.Result r = check();
    assertEquals(1, r.figures().get("end"));
    assertEquals(1, r.totalViolations());
  }
}
