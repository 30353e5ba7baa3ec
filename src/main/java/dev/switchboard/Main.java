package dev.switchboard;

import dev.switchboard.auth.TokenIssuer;
import dev.switchboard.auth.TokenVerifier;
import dev.switchboard.config.ConfigException;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.logging.Logs;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * {@code java -jar switchboard.jar} starts a node; {@code java -jar switchboard.jar token --sub alice
 * [--ttl 3600] [--claim key=value]…} prints a signed development token.
 */
public final class Main {
  /** Claims that hold arrays: {@code --claim subs=a,b} or repeated {@code --claim subs=a --claim subs=b}. */
  private static final Set<String> ARRAY_CLAIMS = Set.of("subs", "pubs", "roles");
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Main.class);

  private Main() {
  }

  public static void main(String[] args) {
    try {
      if (args.length > 0 && "token".equals(args[0])) {
        System.out.println(token(args, System.getenv()));
        System.exit(0);
      }
      if (args.length > 0) {
        fail("unknown command '" + args[0] + "': use no argument to start a node, or 'token --sub USER'");
      }
      SwitchboardConfig config = ConfigLoader.load(System.getenv());
      Logs.apply(config.log(), config.node().id());
      run(config);
    } catch (ConfigException e) {
      fail(e.getMessage());
    }
  }

  private static void run(SwitchboardConfig config) {
    // a bad key must stop the node before Hazelcast starts and prints anything
    TokenVerifier.checkKeys(config.auth());
    // The signal handlers go on before the node starts: it reports ready (and a deployment may stop
    // it) while start() is still completing, and a SIGTERM then must still drain, not kill it.
    java.util.concurrent.atomic.AtomicReference<Node> started = new java.util.concurrent.atomic.AtomicReference<>();
    java.util.concurrent.CountDownLatch startDone = new java.util.concurrent.CountDownLatch(1);
    Runnable stop = () -> {
      try {
        startDone.await(config.cluster().joinTimeoutMs() + 30_000, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      Node node = started.get();
      if (node == null) {
        return; // never started (or still starting past its deadline): nothing to drain
      }
      try {
        node.shutdown().await(config.lifecycle().drainMs() + config.lifecycle().shutdownGraceMs() + 10_000,
            TimeUnit.MILLISECONDS);
      } catch (Exception e) {
        LOG.warn("shutdown did not complete: {}", String.valueOf(e.getMessage()));
      }
    };
    // SIGTERM/SIGINT drain and exit 0; the hook covers other exits (it is a no-op after a drain).
    for (String sig : new String[] {"TERM", "INT"}) {
      try {
        sun.misc.Signal.handle(new sun.misc.Signal(sig), s -> new Thread(() -> {
          stop.run();
          System.exit(0);
        }, "switchboard-shutdown").start());
      } catch (IllegalArgumentException e) {
        // signal not available on this platform: the shutdown hook still closes the node
      }
    }
    Runtime.getRuntime().addShutdownHook(new Thread(stop, "switchboard-shutdown-hook"));
    Node node;
    try {
      node = Node.start(config).await(config.cluster().joinTimeoutMs() + 30_000, TimeUnit.MILLISECONDS);
    } catch (ConfigException e) {
      startDone.countDown();
      fail(e.getMessage());
      return;
    } catch (Exception e) {
      startDone.countDown();
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      if (cause instanceof ConfigException) {
        fail(cause.getMessage());
      }
      fail("could not start: " + (cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage()));
      return;
    }
    // a drain asked for by the admin API ends the process as a SIGTERM's does (exit 0)
    node.afterDrain(() -> new Thread(() -> System.exit(0), "switchboard-exit").start());
    started.set(node);
    startDone.countDown();
    String transport = node.context().vertx().isNativeTransportEnabled() ? "epoll" : "nio";
    LOG.atInfo().addKeyValue("port", node.port()).addKeyValue("cluster", config.cluster().name())
        .log("switchboard {} node {} listening on {}:{} (cluster {}, {} transport)", config.node().serverVersion(),
            node.nodeId(), config.http().host(), node.port(), config.cluster().name(), transport);
  }

  static String token(String[] args, Map<String, String> env) {
    String sub = null;
    long ttl = 3600;
    JsonObject claims = new JsonObject();
    for (int i = 1; i < args.length; i++) {
      String a = args[i];
      if (i + 1 >= args.length) {
        throw new ConfigException("token: " + a + " needs a value");
      }
      String v = args[++i];
      switch (a) {
        case "--sub" -> sub = v;
        case "--ttl" -> {
          try {
            ttl = Long.parseLong(v);
          } catch (NumberFormatException e) {
            throw new ConfigException("token: --ttl must be a number of seconds");
          }
          if (ttl <= 0) {
            throw new ConfigException("token: --ttl must be positive");
          }
        }
        case "--claim" -> claim(claims, v);
        default -> throw new ConfigException("token: unknown option " + a + " (use --sub, --ttl, --claim key=value)");
      }
    }
    if (sub == null || sub.isEmpty()) {
      throw new ConfigException("token: --sub USER is required");
    }
    claims.put("sub", sub);
    // The token command needs only the keys, so auth.required does not have to be satisfied by a public key.
    SwitchboardConfig config = ConfigLoader.load(env);
    Vertx vertx = Vertx.vertx();
    try {
      return new TokenIssuer(vertx, config.auth()).issue(claims, ttl);
    } finally {
      vertx.close();
    }
  }

  private static void claim(JsonObject claims, String kv) {
    int eq = kv.indexOf('=');
    if (eq <= 0) {
      throw new ConfigException("token: --claim takes key=value, got '" + kv + "'");
    }
    String key = kv.substring(0, eq);
    String value = kv.substring(eq + 1);
    if (ARRAY_CLAIMS.contains(key)) {
      JsonArray arr = claims.getJsonArray(key, new JsonArray());
      for (String part : value.split(",")) {
        if (!part.isEmpty()) {
          arr.add(part);
        }
      }
      claims.put(key, arr);
    } else if (value.matches("-?\\d{1,18}")) {
      claims.put(key, Long.parseLong(value));
    } else if (value.equals("true") || value.equals("false")) {
      claims.put(key, Boolean.parseBoolean(value));
    } else {
      claims.put(key, value);
    }
  }

  private static void fail(String line) {
    System.err.println("switchboard: " + line);
    System.exit(2);
  }
}
