package dev.switchboard.api;

import dev.switchboard.NodeContext;
import dev.switchboard.protocol.ErrorCode;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;

/** Operations endpoints: liveness, readiness (joined the cluster and not draining), Prometheus metrics. */
public final class HttpRoutes {
  /** Liveness: 200 while the process runs. */
  public static final String LIVE = "/health/live";
  /** Readiness: 200 once joined, on the majority side, warmed up and not draining; else 503. */
  public static final String READY = "/health/ready";
  public static final String METRICS = "/metrics";

  private HttpRoutes() {
  }

  /** A gateway's routes: the probes and metrics, the HTTP API for services and admins, the admin page. */
  public static void mount(Router router, NodeContext node) {
    mountProbes(router, node);
    ServiceApi.mount(router, node);
    DashboardRoutes.mount(router);
  }

  /** What every node serves, a data node ({@code node.role=data}) only this: probes, metrics, JSON errors. */
  public static void mountProbes(Router router, NodeContext node) {
    router.get(LIVE).handler(ctx -> ctx.response()
        .putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end("{\"status\":\"UP\"}"));
    HealthChecks ready = HealthChecks.create(node.vertx());
    ready.register("cluster", p -> p.complete(node.cluster().isActive() ? Status.OK() : Status.KO()));
    ready.register("serving", p -> p.complete(node.ready() ? Status.OK() : Status.KO()));
    router.get(READY).handler(HealthCheckHandler.createWithHealthChecks(ready));
    // errors as one-line JSON too, never an HTML page or a stack trace
    router.errorHandler(404, ctx -> ServiceApi.fail(ctx, 404, ErrorCode.NOT_FOUND, "no such endpoint"));
    router.errorHandler(405, ctx -> ServiceApi.fail(ctx, 405, ErrorCode.INVALID_REQUEST, "method not allowed"));
    router.errorHandler(413, ctx -> ServiceApi.fail(ctx, 413, ErrorCode.MESSAGE_TOO_LARGE, "body too large"));
    router.errorHandler(400, ctx -> ServiceApi.fail(ctx, 400, ErrorCode.INVALID_PARAMS, "bad request"));
    router.errorHandler(500, ctx -> ServiceApi.fail(ctx, 500, ErrorCode.INTERNAL, "internal error"));
    router.get(METRICS).handler(ctx -> ctx.response()
        .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
        .end(node.metrics().scrape()));
  }
}
