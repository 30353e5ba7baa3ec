package dev.switchboard.api;

import dev.switchboard.NodeContext;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;

/** Operations endpoints: liveness, readiness (joined the cluster and not draining), Prometheus metrics. */
public final class HttpRoutes {
  private HttpRoutes() {
  }

  public static void mount(Router router, NodeContext node) {
    router.get("/health/live").handler(ctx -> ctx.response()
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end("{\"status\":\"UP\"}"));
    HealthChecks ready = HealthChecks.create(node.vertx());
    ready.register("cluster", p -> p.complete(node.cluster().isActive() ? Status.OK() : Status.KO()));
    ready.register("serving", p -> p.complete(node.ready() ? Status.OK() : Status.KO()));
    router.get("/health/ready").handler(HealthCheckHandler.createWithHealthChecks(ready));
    router.get("/metrics").handler(ctx -> ctx.response()
        .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
        .end(node.metrics().scrape()));
  }
}
