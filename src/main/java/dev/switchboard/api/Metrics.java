package dev.switchboard.api;

import dev.switchboard.protocol.CloseCode;
import dev.switchboard.protocol.ErrorCode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The node's own meters, beside the ones Vert.x records into the same registry. Counters for
 * the enum-labelled series are created up front so the hot path does no registry look-ups.
 */
public final class Metrics {
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final AtomicInteger connections = new AtomicInteger();
  private final Counter framesIn;
  private final Counter framesOut;
  private final Counter bytesIn;
  private final Counter bytesOut;
  private final Map<ErrorCode, Counter> errors = new EnumMap<>(ErrorCode.class);
  private final Map<CloseCode, Counter> closes = new EnumMap<>(CloseCode.class);
  private final Map<String, Counter> authFailures = new ConcurrentHashMap<>();
  private final Map<Integer, Counter> upgradeRejections = new ConcurrentHashMap<>();

  public Metrics() {
    Gauge.builder("sb_connections", connections, AtomicInteger::get)
        .description("WebSocket connections open on this node").register(registry);
    framesIn = Counter.builder("sb_frames_in").description("messages received from clients").register(registry);
    framesOut = Counter.builder("sb_frames_out").description("frames sent to clients").register(registry);
    bytesIn = Counter.builder("sb_bytes_in").description("payload bytes received from clients").register(registry);
    bytesOut = Counter.builder("sb_bytes_out").description("payload bytes sent to clients").register(registry);
    for (ErrorCode c : ErrorCode.values()) {
      errors.put(c, Counter.builder("sb_errors").tag("code", c.name()).description("error frames sent, by code")
          .register(registry));
    }
    for (CloseCode c : CloseCode.values()) {
      closes.put(c, Counter.builder("sb_closes").tag("code", String.valueOf(c.code()))
          .description("connections closed by the node, by close code").register(registry));
    }
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public String scrape() {
    return registry.scrape();
  }

  public AtomicInteger connections() {
    return connections;
  }

  public void frameIn(int bytes) {
    framesIn.increment();
    bytesIn.increment(bytes);
  }

  public void frameOut(int bytes) {
    framesOut.increment();
    bytesOut.increment(bytes);
  }

  /** Frames counted by an event loop since its last report (one counter update per loop turn, not per frame). */
  public void framesOut(long frames, long bytes) {
    framesOut.increment(frames);
    bytesOut.increment(bytes);
  }

  public void error(ErrorCode code) {
    errors.get(code).increment();
  }

  public void close(CloseCode code) {
    closes.get(code).increment();
  }

  public void authFailure(String reason) {
    authFailures.computeIfAbsent(reason, r -> Counter.builder("sb_auth_failures").tag("reason", r)
        .description("tokens refused, by reason").register(registry)).increment();
  }

  public void upgradeRejected(int status) {
    upgradeRejections.computeIfAbsent(status, s -> Counter.builder("sb_upgrade_rejections")
        .tag("status", String.valueOf(s)).description("WebSocket upgrades refused, by HTTP status")
        .register(registry)).increment();
  }
}
