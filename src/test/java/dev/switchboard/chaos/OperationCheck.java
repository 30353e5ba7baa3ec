package dev.switchboard.chaos;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The operation rules of the {@link Checker} (its javadoc defines them): one terminal per follow,
 * nothing after it, no refused re-attach, {@code op.status} and the follows of one operation agreeing.
 * Pure; one use.
 */
final class OperationCheck {
  private final Recorder rec;
  private final Violations v;

  OperationCheck(Recorder rec, Violations v) {
    this.rec = rec;
    this.v = v;
  }

  private static String status(Recorder.OpInfo info) {
    if (info == null) {
      return "? (not asked)";
    }
    return info.statusState != null ? info.statusState + " seq " + info.statusSeq : "error " + info.statusError;
  }

  /** The client's connections from {@code at} on (at most 3), for reports. */
  private static String connectionsAfter(ClientLog c, int at) {
    List<String> out = new ArrayList<>();
    int more = 0;
    for (int r = 0; r < c.size(); r++) {
      if (c.kind(r) == ClientLog.CONNECTED && c.time(r) >= at) {
        if (out.size() < 3) {
          out.add(c.connectionInfo(c.conn(r)));
        } else {
          more++;
        }
      }
    }
    return out.isEmpty() ? "no new connection" : "connected " + out + (more > 0 ? " and " + more + " more" : "");
  }

  void run() {
    Map<String, List<OpFollow>> byOp = new HashMap<>();
    for (OpFollow f : rec.follows()) {
      byOp.computeIfAbsent(f.opId, k -> new ArrayList<>()).add(f);
    }
    List<ClientLog> clients = rec.clients();
    for (Map.Entry<String, List<OpFollow>> e : byOp.entrySet()) {
      String opId = e.getKey();
      Recorder.OpInfo info = rec.ops().get(opId);
      Set<String> endings = new java.util.TreeSet<>();
      boolean result = false;
      for (OpFollow f : e.getValue()) {
        String who = opId + " " + f.how + " by " + clients.get(f.client).name() + " (started "
            + f.startedAt + "ms, re-attaches " + f.reattaches + ")";
        Map<String, OpFollow.Frame> terminals = new LinkedHashMap<>();
        OpFollow.Frame first = null;
        boolean after = false;
        for (OpFollow.Frame fr : f.frames) {
          if (fr.terminal() || fr.type().equals("attach-error")) {
            // a terminal at a seq already seen is a repeat, as clients count it (docs/protocol.md): a
            // stand-in (NODE_LOST for an operation whose terminal the client read but had not
            // acknowledged when its node died) carries the real terminal's seq; which one came first
            // is what op.status must agree with
            terminals.putIfAbsent(fr.seq() >= 0 ? "seq " + fr.seq() : fr.type() + " " + fr.code(), fr);
            if (first == null) {
              first = fr;
            }
          } else if (first != null && fr.seq() > first.seq() && !after) {
            after = true;
            v.add("terminal.after", who + ": " + fr.type() + " seq " + fr.seq() + " at " + fr.at()
                + "ms after terminal " + first.type() + " seq " + first.seq());
          }
        }
        if (terminals.isEmpty()) {
          OpFollow.Frame last = f.frames.isEmpty() ? null : f.frames.get(f.frames.size() - 1);
          ClientLog c = clients.get(f.client);
          v.add("terminal.missing", who + ": " + f.frames.size() + " frames, the last "
              + (last == null ? "none" : last.type() + " seq " + last.seq() + " at " + last.at() + "ms on "
              + c.connectionInfo(last.conn())) + "; then " + connectionsAfter(c, last == null ? f.startedAt : last.at()));
          continue;
        }
        if (terminals.size() > 1) {
          v.add("terminal.several", who + ": " + terminals.keySet());
        }
        OpFollow.Frame t = first;
        if (t.type().equals("attach-error") || t.seq() < 0) {
          // a refusal of the follow's op.attach, or of its session's re-attach: no frame of the operation
          if ("NODE_LOST".equals(t.code())) {
            endings.add("error");
            if (info != null && info.statusState != null && !info.statusState.equals("error")) {
              v.add("terminal.status", who + ": re-attach answered NODE_LOST at " + t.at()
                  + "ms but op.status says " + info.statusState + " seq " + info.statusSeq);
            }
          } else {
            v.add("terminal.refused", who + ": " + (t.type().equals("attach-error") ? "op.attach" : "the resumed "
                + "session's re-attach") + " answered " + t.code() + " at " + t.at() + "ms on "
                + clients.get(f.client).connectionInfo(t.conn()) + ", while op.status says " + status(info));
          }
          continue;
        }
        String state = t.type().equals("result") ? "done" : "CANCELLED".equals(t.code()) ? "cancelled" : "error";
        endings.add(state);
        result |= state.equals("done");
        if (info != null && info.statusState != null && !info.statusState.equals(state)) {
          v.add("terminal.status", who + ": terminal " + t.type() + (t.code() == null ? "" : " " + t.code())
              + " seq " + t.seq() + " but op.status says " + info.statusState + " seq " + info.statusSeq);
        } else if (info != null && info.statusState != null && !"NODE_LOST".equals(t.code())
            && info.statusSeq != t.seq()) {
          v.add("terminal.status", who + ": terminal " + t.type() + (t.code() == null ? "" : " " + t.code())
              + " seq " + t.seq() + " but op.status says " + info.statusState + " seq " + info.statusSeq);
        }
      }
      if (endings.size() > 1) {
        v.add("terminal.disagree", opId + ": its follows ended as " + endings);
      }
      if (info != null && info.statusError != null) {
        v.add("terminal.status", opId + ": op.status answered " + info.statusError);
      }
      if (info != null && result) {
        synchronized (info.cancels) {
          for (String c : info.cancels) {
            if (c.contains("state=cancelled")) {
              v.add("terminal.cancel", opId + ": ended with a result, but a cancel answered " + c);
            }
          }
        }
      }
    }
  }
}
