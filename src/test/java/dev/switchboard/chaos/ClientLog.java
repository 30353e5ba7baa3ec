package dev.switchboard.chaos;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Everything one client observed, in arrival order: events, subscribe answers, connections and
 * closes, as compact rows of six ints (kind|flags|topic, epoch, offset, data, time ms, connection).
 * Written only by the client's own event loop; read by the checker once the client is closed.
 * Bounded: rows come out of the recorder's shared budget, and a log that cannot get more rows marks
 * the recording truncated (the checker then refuses to judge losses).
 */
public final class ClientLog {
  /** An {@code event} frame: topic, epoch, offset, data = publication id (-1 when the data has none). */
  public static final int EVENT = 1;
  /** A {@code topic.subscribe} answer: epoch, offset = latest, data = missed; flags RECOVERED, SINCE, REPEAT. */
  public static final int SUB = 2;
  /** A {@code connected} frame: flags RESUMED; data = node slot; epoch = node incarnation. */
  public static final int CONNECTED = 3;
  /** The connection closed or was abandoned: data = close code (or 0 for abandoned as quiet). */
  public static final int CLOSED = 4;

  public static final int RECOVERED = 1;
  /** The subscribe carried {@code since} (the client asked to continue from a position). */
  public static final int SINCE = 2;
  /** The subscribe repeated one the session may already hold (after a resume): its recovered:false tells nothing. */
  public static final int REPEAT = 4;
  public static final int RESUMED = 1;

  private static final int W = 6;

  public final int index;
  public final String user;
  public final String device;
  public final int[] topics;
  private final Recorder recorder;
  private int[] rows = new int[W * 256];
  private int n;
  /** Per connection number: "node-id session-id resumed" (for reports). */
  private final List<String> connections = new ArrayList<>();

  ClientLog(Recorder recorder, int index, String user, String device, int[] topics) {
    this.recorder = recorder;
    this.index = index;
    this.user = user;
    this.device = device;
    this.topics = topics;
  }

  void add(int kind, int flags, int topic, int epoch, long offset, int data, int conn) {
    if (!recorder.takeRow()) {
      return;
    }
    if ((n + 1) * W > rows.length) {
      rows = Arrays.copyOf(rows, rows.length * 2);
    }
    int i = n * W;
    rows[i] = kind | flags << 4 | topic << 12;
    rows[i + 1] = epoch;
    rows[i + 2] = (int) Math.min(offset, Integer.MAX_VALUE);
    rows[i + 3] = data;
    rows[i + 4] = recorder.now();
    rows[i + 5] = conn;
    n++;
  }

  /** Describes a new connection; returns its number (the last one again once 10,000 are described). */
  int connection(String description) {
    if (connections.size() < 10_000) {
      connections.add(description);
    }
    return connections.size() - 1;
  }

  public int size() {
    return n;
  }

  public int kind(int r) {
    return rows[r * W] & 0xf;
  }

  public int flags(int r) {
    return (rows[r * W] >>> 4) & 0xff;
  }

  public int topic(int r) {
    return rows[r * W] >>> 12;
  }

  public int epoch(int r) {
    return rows[r * W + 1];
  }

  public int offset(int r) {
    return rows[r * W + 2];
  }

  public int data(int r) {
    return rows[r * W + 3];
  }

  public int time(int r) {
    return rows[r * W + 4];
  }

  public int conn(int r) {
    return rows[r * W + 5];
  }

  public String connectionInfo(int conn) {
    return conn >= 0 && conn < connections.size() ? connections.get(conn) : "?";
  }

  public boolean subscribes(int topic) {
    for (int t : topics) {
      if (t == topic) {
        return true;
      }
    }
    return false;
  }

  public String name() {
    return user + "/" + device;
  }
}
