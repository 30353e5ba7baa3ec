package dev.switchboard.chaos;

import java.util.ArrayList;
import java.util.List;

/**
 * One client following one operation: the client that started it, or one that attached (or was
 * deduplicated into it). Every frame the client received for the operation, whatever request id it
 * carried (the start, an {@code op.attach}, a re-attach after a lost session), in arrival order.
 * Written by the client's event loop only; read by the checker after the run.
 */
public final class OpFollow {
  /** One received frame: type (progress, stream, result, error), seq (-1 if none), error code (or null), time. */
  public record Frame(String type, long seq, String code, int at, int conn) {
    public boolean terminal() {
      return type.equals("result") || type.equals("error");
    }
  }

  public final int client;
  public final String opId;
  /** start, attach or dedup. */
  public final String how;
  public final int startedAt;
  final List<Frame> frames = new ArrayList<>();
  /** Requests this follow sent beyond the first (re-attaches after a session was lost), for the report. */
  int reattaches;
  /** The last seq received (what a re-attach asks after). */
  long lastSeq;
  /** Set once a terminal frame arrived. */
  boolean ended;

  OpFollow(int client, String opId, String how, int startedAt) {
    this.client = client;
    this.opId = opId;
    this.how = how;
    this.startedAt = startedAt;
  }

  void frame(Frame f) {
    if (frames.size() < 10_000) {
      frames.add(f);
    }
    if (f.seq() > lastSeq) {
      lastSeq = f.seq();
    }
    if (f.terminal()) {
      ended = true;
    }
  }

  public List<Frame> frames() {
    return frames;
  }

  public int reattaches() {
    return reattaches;
  }

  public boolean ended() {
    return ended;
  }
}
