package dev.switchboard.testsupport;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Collects the ERROR events logged in this JVM while installed: the nodes of a test log through
 * SLF4J/Logback (ours, Vert.x's unhandled exceptions, the dispatcher's INTERNAL causes, Netty's leak
 * reports, Hazelcast), so a test can assert that nothing went wrong inside the node.
 */
public final class SevereLog extends AppenderBase<ILoggingEvent> implements AutoCloseable {
  private final List<String> records = Collections.synchronizedList(new ArrayList<>());

  private SevereLog() {
  }

  public static SevereLog install() {
    SevereLog h = new SevereLog();
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    h.setContext(context);
    h.setName("severe-log");
    h.start();
    context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(h);
    return h;
  }

  public List<String> records() {
    return new ArrayList<>(records);
  }

  @Override
  protected void append(ILoggingEvent e) {
    if (e.getLevel().isGreaterOrEqual(Level.ERROR)) {
      records.add(e.getLoggerName() + ": " + e.getFormattedMessage()
          + (e.getThrowableProxy() == null ? "" : " " + e.getThrowableProxy().getClassName() + ": "
          + e.getThrowableProxy().getMessage()));
    }
  }

  @Override
  public void close() {
    ((LoggerContext) LoggerFactory.getILoggerFactory()).getLogger(Logger.ROOT_LOGGER_NAME).detachAppender(this);
    stop();
  }
}
