package dev.switchboard.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.spi.AppenderAttachable;
import dev.switchboard.config.LogOptions;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

import java.util.Iterator;
import java.util.Map;

/**
 * Applies {@code log.*} (config.LogOptions) to the Logback configuration that logback.xml set up: the
 * line format and node id of every {@link LineEncoder}, the root level and the per-logger levels.
 * Also routes java.util.logging to SLF4J, for libraries that still log through it (Vert.x, Netty and
 * Hazelcast log through SLF4J themselves). Called once by Main, before the node starts: the nodes a
 * test starts in its own JVM keep the test's logback configuration. (examples/ReportWorker calls it too.)
 */
public final class Logs {
  private Logs() {
  }

  public static void apply(LogOptions options, String nodeId) {
    // Hazelcast logs through JUL unless told (cluster.xml tells it; this covers other XML files), read
    // when a member starts
    if (System.getProperty("hazelcast.logging.type") == null) {
      System.setProperty("hazelcast.logging.type", "slf4j");
    }
    if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
      return; // another SLF4J backend (an embedding application's): its configuration is its own
    }
    for (Logger logger : context.getLoggerList()) {
      encoders(logger, options.format(), nodeId);
    }
    context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).setLevel(Level.toLevel(options.level()));
    for (Map.Entry<String, String> e : options.levels().entrySet()) {
      context.getLogger(e.getKey()).setLevel(Level.toLevel(e.getValue()));
    }
    if (!SLF4JBridgeHandler.isInstalled()) {
      SLF4JBridgeHandler.removeHandlersForRootLogger(); // JUL's console handler would print each record a second time
      SLF4JBridgeHandler.install();
    }
  }

  private static void encoders(AppenderAttachable<?> holder, String format, String nodeId) {
    for (Iterator<? extends Appender<?>> it = holder.iteratorForAppenders(); it.hasNext(); ) {
      Appender<?> a = it.next();
      if (a instanceof OutputStreamAppender<?> out && out.getEncoder() instanceof LineEncoder enc) {
        enc.setFormat(format);
        enc.setNode(nodeId);
      }
      if (a instanceof AppenderAttachable<?> inner) { // an AsyncAppender and what it writes to
        encoders(inner, format, nodeId);
      }
    }
  }
}
