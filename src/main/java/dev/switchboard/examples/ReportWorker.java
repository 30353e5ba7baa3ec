package dev.switchboard.examples;

import dev.switchboard.HazelcastSetup;
import dev.switchboard.Node;
import dev.switchboard.config.ConfigException;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.operations.OpContext;
import dev.switchboard.operations.OpHub;
import dev.switchboard.operations.OperationKind;
import dev.switchboard.protocol.ErrorCode;
import dev.switchboard.routing.ParamSchema;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.util.concurrent.TimeUnit;

/**
 * An external worker service: a JVM process that joins the Switchboard cluster (not a gateway: no
 * WebSocket port) and runs the operation kind {@code report.build} with the same SDK the gateways
 * use. Gateways expose it when {@code ops.external} lists it. Run it with the gateway's settings
 * (cluster name, members, a port of its own):
 *
 * <pre>
 *   SB_CLUSTER_PORT=5710 java -cp target/switchboard.jar dev.switchboard.examples.ReportWorker
 * </pre>
 *
 * {@code report.build {rows: 1..10^7, delay_ms: 0..1000}}: stream frames of up to 100 rows
 * ({@code {"n", "square"}}), progress, result {@code {"rows"}}; cancellable between batches.
 */
public final class ReportWorker {
  public static final String KIND = "report.build";

  private ReportWorker() {
  }

  /** The kind itself: blocking work on an operation thread, honouring cancellation between batches. */
  public static final class ReportBuild implements OperationKind {
    @Override
    public String name() {
      return KIND;
    }

    @Override
    public ParamSchema params() {
      return ParamSchema.of(ParamSchema.integer("rows").required().range(1, 10_000_000),
          ParamSchema.integer("delay_ms").range(0, 1000));
    }

    @Override
    public boolean blocking() {
      return true;
    }

    /** Rows built, of {@code rows} (unknown while the params are not valid: start refuses them). */
    @Override
    public long total(JsonObject params) {
      return params.getValue("rows") instanceof Number n && n.longValue() >= 1 ? n.longValue() : -1;
    }

    @Override
    public String unit() {
      return "rows";
    }

    @Override
    public void start(OpContext ctx) {
      Object rowsValue = ctx.params().getValue("rows");
      if (!(rowsValue instanceof Number) || ((Number) rowsValue).longValue() < 1 || ((Number) rowsValue).longValue() > 10_000_000) {
        ctx.fail(ErrorCode.INVALID_PARAMS, "rows must be a whole number from 1 to 10000000");
        return;
      }
      long rows = ((Number) rowsValue).longValue();
      long delay = ctx.params().getLong("delay_ms", 0L);
      JsonArray batch = new JsonArray();
      for (long n = 1; n <= rows; n++) {
        if (ctx.cancelled()) {
          return;
        }
        batch.add(new JsonObject().put("n", n).put("square", n * n));
        if (batch.size() == 100 || n == rows) {
          if (!ctx.awaitAccepted(ctx.emit(batch))) {
            return;
          }
          batch = new JsonArray();
          ctx.progress("processing", n, rows, "rows", -1, null);
          if (delay > 0) {
            try {
              Thread.sleep(delay); // simulated slow work, on an operation thread (never an event loop)
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              return;
            }
          }
        }
      }
      ctx.complete(new JsonObject().put("rows", rows));
    }
  }

  public static void main(String[] args) throws Exception {
    SwitchboardConfig config;
    try {
      config = ConfigLoader.load(System.getenv());
      dev.switchboard.logging.Logs.apply(config.log(), config.node().id()); // logs as a node does (README, "Logs")
    } catch (ConfigException e) {
      System.err.println("report-worker: " + e.getMessage());
      System.exit(2);
      return;
    }
    HazelcastClusterManager cluster = new HazelcastClusterManager(HazelcastSetup.serviceConfig(config.cluster()));
    Vertx vertx = Vertx.builder().withClusterManager(cluster).buildClustered().await(60, TimeUnit.SECONDS);
    var life = config.lifecycle();
    OpHub hub = new OpHub(vertx, cluster.getHazelcastInstance(), config.node().id(),
        Math.max(2, Runtime.getRuntime().availableProcessors()), life.opQueue(), life.orphanTimeoutMs(),
        life.opRetentionMs(), false);
    hub.start().compose(v -> hub.worker().register(new ReportBuild())).await(30, TimeUnit.SECONDS);
    org.slf4j.LoggerFactory.getLogger(ReportWorker.class)
        .info("report-worker {} serving {} (cluster {})", config.node().id(), KIND, config.cluster().name());
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        vertx.close().await(10, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // exiting anyway
      }
    }));
  }
}
