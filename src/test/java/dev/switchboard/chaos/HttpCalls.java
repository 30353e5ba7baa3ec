package dev.switchboard.chaos;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;

import java.util.concurrent.TimeUnit;

/**
 * Non-blocking HTTP to the nodes (at each slot's address), every call bounded by its own timeout (a frozen node
 * accepts connections in the kernel and never answers). One client, held for the whole run.
 */
final class HttpCalls {
  /** A finished exchange: the status and the body (status 0 when there was no answer). */
  record Response(int status, String body, String failure) {
    boolean ok() {
      return status == 200;
    }
  }

  private final HttpClient client; // held: an unreachable client is closed by a Cleaner

  HttpCalls(Vertx vertx) {
    this.client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(2_000).setKeepAlive(true)
        .setIdleTimeout(10).setIdleTimeoutUnit(TimeUnit.SECONDS), new PoolOptions().setHttp1MaxSize(64));
  }

  Future<Response> call(HttpMethod method, NodeProcess node, String path, String token, String body,
                        long timeoutMs) {
    RequestOptions o = new RequestOptions().setMethod(method).setHost(node.host).setPort(node.httpPort).setURI(path)
        .setTimeout(timeoutMs);
    if (token != null) {
      o.putHeader("Authorization", "Bearer " + token);
    }
    if (body != null) {
      o.putHeader("content-type", "application/json");
    }
    return client.request(o)
        .compose(req -> body == null ? req.send() : req.send(Buffer.buffer(body)))
        .compose(resp -> resp.body().map(b -> new Response(resp.statusCode(), b.toString(), null)))
        .recover(err -> Future.succeededFuture(new Response(0, "", String.valueOf(err.getMessage()))));
  }

  /** Blocking form for the main and fault threads (never an event loop), bounded by the timeout. */
  Response await(Future<Response> f, long timeoutMs) {
    try {
      return f.toCompletionStage().toCompletableFuture().get(timeoutMs + 2_000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Response(0, "", "interrupted");
    } catch (Exception e) {
      return new Response(0, "", String.valueOf(e));
    }
  }

  Response get(NodeProcess node, String path, String token, long timeoutMs) {
    return await(call(HttpMethod.GET, node, path, token, null, timeoutMs), timeoutMs);
  }

  void close() {
    client.close();
  }
}
