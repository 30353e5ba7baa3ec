package dev.switchboard;

import com.hazelcast.partition.NoDataMemberInClusterException;
import dev.switchboard.config.ConfigException;
import dev.switchboard.config.SwitchboardConfig;
import io.vertx.core.Future;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * A gateway (node.role gateway, a Hazelcast lite member) cannot start in a cluster without a data
 * member: Vert.x cannot place its maps, and the start fails at once. It starts again every
 * {@link #RETRY_MS} until {@code cluster.join_timeout_ms} has passed since the first attempt, so
 * gateways deployed together with the data tier wait for it instead of being restarted by their
 * orchestrator with a growing back-off. Each failed attempt has closed its Hazelcast member and Vert.x.
 */
final class NoDataMemberRetry {
  static final long RETRY_MS = 2000;

  private NoDataMemberRetry() {
  }

  static Future<Node> start(SwitchboardConfig config, Function<SwitchboardConfig, Future<Node>> once) {
    return attempt(config, once, System.currentTimeMillis() + config.cluster().joinTimeoutMs());
  }

  private static Future<Node> attempt(SwitchboardConfig config, Function<SwitchboardConfig, Future<Node>> once,
                                      long deadline) {
    return once.apply(config).recover(err -> {
      if (!(err instanceof NoDataMemberInClusterException)) {
        return Future.failedFuture(err);
      }
      if (System.currentTimeMillis() + RETRY_MS >= deadline) {
        return Future.failedFuture(new ConfigException("no data member in cluster " + config.cluster().name()
            + " within " + config.cluster().joinTimeoutMs() + " ms: a gateway (node.role gateway) joins data"
            + " members (node.role data or all) and cannot start before one is up"));
      }
      // not on the thread that reported the failure (it may belong to the Vert.x instance just closed)
      CompletableFuture<Void> later = CompletableFuture.runAsync(() -> { },
          CompletableFuture.delayedExecutor(RETRY_MS, TimeUnit.MILLISECONDS, r -> new Thread(r, "switchboard-join-retry").start()));
      return Future.fromCompletionStage(later).compose(v -> attempt(config, once, deadline));
    });
  }
}
