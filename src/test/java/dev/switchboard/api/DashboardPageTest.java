package dev.switchboard.api;

import dev.switchboard.Node;
import dev.switchboard.testsupport.Http;
import dev.switchboard.testsupport.TestNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How a node serves the admin page (api/DashboardRoutes): the redirect, the index revalidated on
 * every load, hashed assets cached for a year, the security headers, no listing, JSON 404s. The
 * files here are test fixtures (src/test/resources/dashboard: `mvn test` stops before the page is
 * built); the page itself (clients/dashboard) is left to browser tests.
 */
class DashboardPageTest {
  static Node node;

  @BeforeAll
  static void up() {
    node = TestNode.start(Map.of());
  }

  @AfterAll
  static void down() {
    TestNode.stop(node);
  }

  @Test
  void theIndexIsRevalidatedAndHashedAssetsAreCachedForAYear() {
    HttpResponse<String> bare = Http.get(node.port(), "/dashboard");
    assertEquals(301, bare.statusCode());
    assertEquals("/dashboard/", bare.headers().firstValue("location").orElse(""));

    HttpResponse<String> index = Http.get(node.port(), "/dashboard/");
    assertEquals(200, index.statusCode(), index.body());
    assertTrue(index.headers().firstValue("content-type").orElse("").startsWith("text/html"));
    assertEquals("no-cache", index.headers().firstValue("cache-control").orElse(""));
    String csp = index.headers().firstValue("content-security-policy").orElse("");
    assertTrue(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), csp);
    assertEquals("nosniff", index.headers().firstValue("x-content-type-options").orElse(""));

    HttpResponse<String> script = Http.get(node.port(), "/dashboard/main-TESTHASH.js");
    assertEquals(200, script.statusCode());
    assertEquals("public, max-age=31536000, immutable", script.headers().firstValue("cache-control").orElse(""));
    assertTrue(script.headers().firstValue("content-type").orElse("").contains("javascript"));
    try {
      var head = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
              java.net.URI.create("http://127.0.0.1:" + node.port() + "/dashboard/main-TESTHASH.js"))
          .method("HEAD", java.net.http.HttpRequest.BodyPublishers.noBody()).timeout(java.time.Duration.ofSeconds(10)).build(),
          java.net.http.HttpResponse.BodyHandlers.discarding());
      assertEquals(200, head.statusCode(), "HEAD is answered like GET");
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void nothingElseIsServedFromThere() {
    HttpResponse<String> missing = Http.get(node.port(), "/dashboard/nope.js");
    assertEquals(404, missing.statusCode());
    assertTrue(missing.body().contains("NOT_FOUND"), missing.body());
    assertEquals(404, Http.get(node.port(), "/dashboard/../logback.xml").statusCode());
    assertEquals(404, Http.get(node.port(), "/dashboard/%2e%2e/logback.xml").statusCode());
  }
}
