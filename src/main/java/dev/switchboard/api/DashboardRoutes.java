package dev.switchboard.api;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.StaticHandler;

/**
 * The admin page at {@code /dashboard/}: static files built from clients/dashboard by the Maven
 * build into the jar (classpath {@code dashboard/}); absent from a build that skipped it
 * ({@code -Ddashboard.skip=true}, or {@code mvn test}, which stops before packaging), then 404.
 * The page is public (it holds no data); everything it shows comes from the admin API with the
 * token the user pastes. Cache: {@code index.html} is revalidated on every load; the scripts and
 * styles carry a content hash in their names and are cached for a year. A strict content security
 * policy: the page loads only its own files and talks only to its own node.
 */
final class DashboardRoutes {
  static final String PATH = "/dashboard/";
  static final String CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
      + " connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

  private DashboardRoutes() {
  }

  static void mount(Router router) {
    // Vert.x matches "/dashboard" for "/dashboard/" too: only the bare path is redirected
    router.get("/dashboard").handler(ctx -> {
      if ("/dashboard".equals(ctx.request().path())) {
        ctx.response().setStatusCode(301).putHeader(HttpHeaders.LOCATION, PATH).end();
      } else {
        ctx.next();
      }
    });
    StaticHandler files = StaticHandler.create("dashboard").setCachingEnabled(false).setDirectoryListing(false)
        .setIndexPage("index.html").setIncludeHidden(false);
    router.route(PATH + "*").method(HttpMethod.GET).method(HttpMethod.HEAD).handler(DashboardRoutes::headers).handler(files);
  }

  private static void headers(RoutingContext ctx) {
    String path = ctx.normalizedPath();
    boolean hashed = path.matches(".*-[A-Z0-9]{8}\\.(js|css)$");
    ctx.response()
        .putHeader(HttpHeaders.CACHE_CONTROL, hashed ? "public, max-age=31536000, immutable" : "no-cache")
        .putHeader("Content-Security-Policy", CSP)
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("Referrer-Policy", "no-referrer");
    ctx.next();
  }
}
