package dev.switchboard.testsupport;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Collects the SEVERE records logged in this JVM while installed: the nodes of a test log through
 * java.util.logging (Vert.x's unhandled exceptions, the dispatcher's INTERNAL causes, Netty's leak
 * reports, Hazelcast), so a test can assert that nothing went wrong inside the node.
 */
public final class SevereLog extends Handler implements AutoCloseable {
  private final List<String> records = Collections.synchronizedList(new ArrayList<>());

  private SevereLog() {
  }

  public static SevereLog install() {
    SevereLog h = new SevereLog();
    h.setLevel(Level.SEVERE);
    Logger.getLogger("").addHandler(h);
    return h;
  }

  public List<String> records() {
    return new ArrayList<>(records);
  }

  @Override
  public void publish(LogRecord r) {
    if (r.getLevel().intValue() >= Level.SEVERE.intValue()) {
      records.add(r.getLoggerName() + ": " + r.getMessage() + (r.getThrown() == null ? "" : " " + r.getThrown()));
    }
  }

  @Override
  public void flush() {
  }

  @Override
  public void close() {
    Logger.getLogger("").removeHandler(this);
  }
}
