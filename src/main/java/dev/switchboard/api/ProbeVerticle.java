package dev.switchboard.api;

import dev.switchboard.NodeContext;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;

/**
 * A data node's only HTTP server ({@code node.role=data}): {@code /health/live}, {@code /health/ready}
 * and {@code /metrics} on {@code http.port}, for the orchestrator's probes and the scraper. No
 * WebSocket, no HTTP API: every other path is 404. One instance, on its own event loop.
 */
public final class ProbeVerticle extends VerticleBase {
  private final NodeContext node;
  private volatile HttpServer server;

  public ProbeVerticle(NodeContext node) {
    this.node = node;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    HttpRoutes.mountProbes(router, node);
    return vertx.createHttpServer(new HttpServerOptions()
            .setHost(node.config().http().host())
            .setPort(node.config().http().port()))
        .requestHandler(router)
        .listen().onSuccess(s -> server = s);
  }

  /** The port actually bound (differs from the setting when that is 0). */
  public int actualPort() {
    return server == null ? -1 : server.actualPort();
  }
}
