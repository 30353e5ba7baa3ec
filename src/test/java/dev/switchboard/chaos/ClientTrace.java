package dev.switchboard.chaos;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes each client's timeline as it recorded it (its {@link ClientLog}): connections (node,
 * session, new or resumed), subscribe answers with their positions, closes, and the events it
 * received collapsed into runs of consecutive offsets per topic. Kept beside the node logs of a
 * failed run, to follow a lost event or a missing presence entry from the client's side. Pure
 * reading of the recording, after the run.
 */
final class ClientTrace {
  private ClientTrace() {
  }

  /**
   * Two files in {@code dir}: clients.txt, every client's timeline, and publications.txt, every
   * publication with its outcome (sent, acknowledged at which position, through which node).
   */
  static void write(Path dir, Recorder recorder) throws IOException {
    try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(dir.resolve("clients.txt"), StandardCharsets.UTF_8))) {
      for (ClientLog log : recorder.clients()) {
        out.println(describe(log, recorder));
      }
    }
    List<Publication> pubs = new ArrayList<>(recorder.publications().values());
    pubs.sort((x, y) -> Integer.compare(x.id, y.id));
    try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(dir.resolve("publications.txt"),
        StandardCharsets.UTF_8))) {
      for (Publication p : pubs) {
        out.println("p" + p.id + " " + recorder.topics.get(p.topic) + " " + p.source + " sent " + p.sentAt + " "
            + p.outcome() + (p.ackAt() >= 0 ? " at " + p.ackAt() + " " + epochName(recorder, p.ackEpoch()) + ":"
            + p.ackOffset() : "") + " via " + p.node() + " attempts " + p.attempts()
            + (p.lastError() == null ? "" : " last error " + p.lastError()));
      }
    }
  }

  /** An open run of events: one topic, one epoch, one connection, consecutive offsets. */
  private static final class Run {
    int topic;
    int epoch;
    int conn;
    int from;
    int to;
    int firstMs;
    int lastMs;
    int count;
  }

  static String describe(ClientLog log, Recorder recorder) {
    StringBuilder b = new StringBuilder();
    b.append("== ").append(log.name()).append(" topics");
    for (int t : log.topics) {
      b.append(' ').append(recorder.topics.get(t));
    }
    b.append('\n');
    Map<Integer, Run> open = new HashMap<>();
    for (int r = 0; r < log.size(); r++) {
      int kind = log.kind(r);
      if (kind == ClientLog.EVENT) {
        Run run = open.get(log.topic(r));
        if (run != null && run.epoch == log.epoch(r) && run.conn == log.conn(r) && log.offset(r) == run.to + 1) {
          run.to = log.offset(r);
          run.lastMs = log.time(r);
          run.count++;
          continue;
        }
        if (run != null) {
          line(b, run, recorder);
        }
        run = new Run();
        run.topic = log.topic(r);
        run.epoch = log.epoch(r);
        run.conn = log.conn(r);
        run.from = log.offset(r);
        run.to = log.offset(r);
        run.firstMs = log.time(r);
        run.lastMs = log.time(r);
        run.count = 1;
        open.put(run.topic, run);
        continue;
      }
      flush(b, open, recorder);
      b.append(String.format("  %7d ", log.time(r)));
      switch (kind) {
        case ClientLog.CONNECTED -> b.append("connected #").append(log.conn(r)).append(' ')
            .append(log.connectionInfo(log.conn(r)));
        case ClientLog.SUB -> {
          int f = log.flags(r);
          b.append("subscribed #").append(log.conn(r)).append(' ').append(recorder.topics.get(log.topic(r)))
              .append(" epoch ").append(epochName(recorder, log.epoch(r))).append(" offset ").append(log.offset(r))
              .append((f & ClientLog.RECOVERED) != 0 ? " recovered" : " not-recovered")
              .append((f & ClientLog.SINCE) != 0 ? " since" : "")
              .append((f & ClientLog.REPEAT) != 0 ? " repeat" : "")
              .append(" missed ").append(log.data(r));
        }
        case ClientLog.CLOSED -> b.append("closed #").append(log.conn(r)).append(" code ").append(log.data(r))
            .append(log.data(r) == 0 ? " (abandoned as quiet)" : "");
        default -> b.append("row kind ").append(kind);
      }
      b.append('\n');
    }
    flush(b, open, recorder);
    return b.toString();
  }

  private static void flush(StringBuilder b, Map<Integer, Run> open, Recorder recorder) {
    List<Run> runs = new ArrayList<>(open.values());
    runs.sort((x, y) -> Integer.compare(x.firstMs, y.firstMs));
    runs.forEach(run -> line(b, run, recorder));
    open.clear();
  }

  private static void line(StringBuilder b, Run run, Recorder recorder) {
    b.append(String.format("  %7d ", run.firstMs)).append("events  #").append(run.conn).append(' ')
        .append(recorder.topics.get(run.topic)).append(" epoch ").append(epochName(recorder, run.epoch))
        .append(" offsets ").append(run.from).append("..").append(run.to).append(" (").append(run.count)
        .append(", until ").append(run.lastMs).append(" ms)\n");
  }

  private static String epochName(Recorder recorder, int id) {
    return id < 0 ? "-" : recorder.epochName(id);
  }
}
