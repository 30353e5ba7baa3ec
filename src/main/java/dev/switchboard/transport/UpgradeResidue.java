package dev.switchboard.transport;

import io.vertx.core.MultiMap;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.internal.http.WebSocketInternal;

import java.lang.reflect.Field;

/**
 * Lets go of what Vert.x 5.0.10 keeps of the HTTP/1 upgrade for a WebSocket's whole life.
 *
 * <ul>
 *   <li>The WebSocket's {@code VertxHandler} keeps its {@code connectionFactory}, a lambda that
 *   captured the handshaker, and with it the upgrade request and response, their headers, the
 *   HTTP connection with its 4 KiB outbound queue: about 6.6 KiB per connection, measured with a
 *   heap dump of 2,000 idle connections. Vert.x reads the field only in {@code handlerAdded}, which
 *   has run by the time the socket exists.</li>
 *   <li>The socket keeps the request URI and query (the token, when it came as {@code ?token=}) and
 *   the request headers: about 1.6 KiB more. Nothing reads them after the upgrade: they become the
 *   path alone and an empty header map, so a credential does not stay in memory for the life of the
 *   connection.</li>
 * </ul>
 * Each field is looked up once; with another Vert.x version where one is missing or not settable
 * this does nothing for it (the heap per connection is then what Vert.x keeps, nothing breaks).
 */
final class UpgradeResidue {
  private static final Field FACTORY = field("io.vertx.core.net.impl.VertxHandler", "connectionFactory");
  private static final Field URI = field("io.vertx.core.http.impl.ServerWebSocketImpl", "uri");
  private static final Field QUERY = field("io.vertx.core.http.impl.ServerWebSocketImpl", "query");
  private static final Field HEADERS = field("io.vertx.core.http.impl.WebSocketImplBase", "headers");
  private static final MultiMap NO_HEADERS = MultiMap.caseInsensitiveMultiMap();

  private UpgradeResidue() {
  }

  private static Field field(String owner, String name) {
    try {
      Field f = Class.forName(owner).getDeclaredField(name);
      f.setAccessible(true);
      return f;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  /** Called once the socket is open, on its event loop, before anything else uses it. */
  static void drop(ServerWebSocket ws) {
    Object handler = ((WebSocketInternal) ws).channelHandlerContext().handler();
    clear(FACTORY, handler, null);
    String path = ws.path();
    clear(URI, ws, path);
    clear(QUERY, ws, null);
    clear(HEADERS, ws, NO_HEADERS);
  }

  private static void clear(Field f, Object target, Object value) {
    if (f == null || !f.getDeclaringClass().isInstance(target)) {
      return;
    }
    try {
      f.set(target, value);
    } catch (ReflectiveOperationException | RuntimeException e) {
      // not settable here: keep what Vert.x keeps
    }
  }
}
