package dev.switchboard.testsupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.ClientWebSocket;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.http.WebSocketFrame;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A real WebSocket client for tests (Vert.x client on loopback). Every frame it receives is
 * decoded (JSON or CBOR) into a queue; every wait is bounded.
 */
public final class WsClient implements AutoCloseable {
  public static final Duration WAIT = Duration.ofSeconds(10);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectMapper CBOR = new ObjectMapper(new CBORFactory());

  private final WebSocketClient client; // held: an unreachable client is closed by a Cleaner
  private final WebSocket ws;
  private final boolean cbor;
  private final LinkedBlockingQueue<JsonNode> frames;
  private final CompletableFuture<Short> closed;
  private final JsonNode connected;
  private int nextId;

  private WsClient(WebSocketClient client, Attached a, boolean cbor) {
    this.client = client;
    this.ws = a.ws;
    this.frames = a.frames;
    this.closed = a.closed;
    this.cbor = cbor;
    this.connected = firstFrameOrClose();
  }

  /**
   * The first frame (the node's {@code connected}), or null when the node closed the socket before
   * sending any (a connection replaced with 4009 while it was opening); bounded by {@link #WAIT}.
   */
  private JsonNode firstFrameOrClose() {
    long deadline = System.nanoTime() + WAIT.toNanos();
    try {
      while (System.nanoTime() < deadline) {
        JsonNode f = frames.poll(20, TimeUnit.MILLISECONDS);
        if (f != null) {
          return f;
        }
        if (closed.isDone() && frames.isEmpty()) {
          return null;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    throw new AssertionError("no connected frame within " + WAIT);
  }

  /** Upgrade result: either a client or the refusal. */
  public record Upgrade(WsClient client, int status, String body, String retryAfter) {
    public WsClient ok() {
      if (client == null) {
        throw new AssertionError("upgrade refused: " + status + " " + body);
      }
      return client;
    }
  }

  public static WsClient connect(Vertx vertx, int port, String token) {
    return open(vertx, port, "/ws" + (token == null ? "" : "?token=" + token), Map.of(), null).ok();
  }

  public static Upgrade open(Vertx vertx, int port, String uri, Map<String, String> headers, String subprotocol) {
    return open(vertx, "127.0.0.1", port, uri, headers, subprotocol);
  }

  public static Upgrade open(Vertx vertx, String host, int port, String uri, Map<String, String> headers,
                             String subprotocol) {
    WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions()
        .setMaxFrameSize(16 << 20).setMaxMessageSize(64 << 20));
    WebSocketConnectOptions o = new WebSocketConnectOptions().setHost(host).setPort(port).setURI(uri)
        .setTimeout(10_000);
    headers.forEach(o::addHeader);
    if (subprotocol != null) {
      o.addSubProtocol(subprotocol);
    }
    CompletableFuture<Object> result = new CompletableFuture<>();
    boolean cbor = subprotocol != null && subprotocol.endsWith("cbor");
    // Handlers go on before the connect: a frame that arrives with the 101 (the node's `connected`)
    // is then never delivered to a socket without a handler. (Attaching them in the connect
    // callback lost it now and then: Vert.x resumes the socket on its own event loop, which can
    // run before a callback on another thread.)
    ClientWebSocket socket = client.webSocket();
    Attached attached = Attached.on(socket);
    socket.connect(o).onComplete(ar -> result.complete(ar.failed() ? ar.cause() : attached));
    Object r;
    try {
      r = result.get(15, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("upgrade did not complete", e);
    }
    if (r instanceof UpgradeRejectedException u) {
      client.close();
      return new Upgrade(null, u.getStatus(), u.getBody() == null ? "" : u.getBody().toString(),
          u.getHeaders() == null ? null : u.getHeaders().get("Retry-After"));
    }
    if (r instanceof Throwable t) {
      client.close();
      throw new AssertionError("upgrade failed", t);
    }
    return new Upgrade(new WsClient(client, (Attached) r, cbor), 101, "", null);
  }

  /** The handlers of a socket, attached before it connects, so that no early frame is lost. */
  private record Attached(WebSocket ws, LinkedBlockingQueue<JsonNode> frames, CompletableFuture<Short> closed) {
    static Attached on(WebSocket ws) {
      Attached a = new Attached(ws, new LinkedBlockingQueue<>(), new CompletableFuture<>());
      ws.textMessageHandler(t -> {
        try {
          a.frames.add(JSON.readTree(t));
        } catch (Exception e) {
          a.frames.add(JSON.createObjectNode().put("type", "_unparseable").put("raw", t));
        }
      });
      ws.binaryMessageHandler(b -> {
        try {
          a.frames.add(CBOR.readTree(b.getBytes()));
        } catch (Exception e) {
          a.frames.add(JSON.createObjectNode().put("type", "_unparseable_binary"));
        }
      });
      ws.closeHandler(v -> a.closed.complete(ws.closeStatusCode() == null ? (short) 1006 : ws.closeStatusCode()));
      ws.exceptionHandler(err -> { });
      return a;
    }
  }

  /** The {@code connected} frame; fails when the node closed the socket before sending it. */
  public JsonNode connected() {
    if (connected == null) {
      throw new AssertionError("closed before the connected frame, code " + closed.getNow(null));
    }
    return connected;
  }

  public WebSocket socket() {
    return ws;
  }

  public void send(String text) {
    ws.writeTextMessage(text);
  }

  public void sendBinary(byte[] bytes) {
    ws.writeBinaryMessage(Buffer.buffer(bytes));
  }

  public void sendFrame(WebSocketFrame frame) {
    ws.writeFrame(frame);
  }

  /** Sends a request in this connection's format and returns its id. */
  public int request(String method, ObjectNode params) {
    int id = ++nextId;
    ObjectNode env = JSON.createObjectNode().put("id", id).put("method", method);
    if (params != null) {
      env.set("params", params);
    }
    sendEnvelope(env);
    return id;
  }

  public void sendEnvelope(ObjectNode env) {
    if (cbor) {
      try {
        ws.writeBinaryMessage(Buffer.buffer(CBOR.writeValueAsBytes(env)));
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    } else {
      ws.writeTextMessage(env.toString());
    }
  }

  /** Sends and waits for the terminal frame (result or error) of that request. */
  public JsonNode call(String method, ObjectNode params) {
    int id = request(method, params);
    return await(f -> f.path("id").asInt(-1) == id && isTerminal(f), WAIT);
  }

  public static boolean isTerminal(JsonNode f) {
    String t = f.path("type").asText();
    return t.equals("result") || t.equals("error");
  }

  public static ObjectNode params() {
    return JSON.createObjectNode();
  }

  public JsonNode next(Duration timeout) {
    try {
      JsonNode f = frames.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (f == null) {
        throw new AssertionError("no frame within " + timeout);
      }
      return f;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The next frame, or null when none came within {@code timeout}. */
  public JsonNode poll(Duration timeout) {
    try {
      return frames.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /** The close code the node sent, or null while the socket is open. */
  public Short closeCode() {
    return closed.getNow(null);
  }

  /** The next frame matching, skipping (and keeping nothing of) the others. */
  public JsonNode await(Predicate<JsonNode> p, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError("no matching frame within " + timeout);
      }
      JsonNode f;
      try {
        f = frames.poll(left, TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
      if (f != null && p.test(f)) {
        return f;
      }
    }
  }

  /** Frames received so far, without waiting. */
  public List<JsonNode> drain() {
    List<JsonNode> out = new ArrayList<>();
    frames.drainTo(out);
    return out;
  }

  /** Waits for the server to close; returns the close code it sent. */
  public short awaitClose(Duration timeout) {
    try {
      return closed.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new AssertionError("not closed within " + timeout, e);
    }
  }

  public boolean isClosed() {
    return closed.isDone();
  }

  @Override
  public void close() {
    if (!closed.isDone()) {
      try {
        ws.close((short) 1000).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
      } catch (Exception ignored) {
        // already gone
      }
    }
    client.close();
  }
}
