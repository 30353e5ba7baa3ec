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
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * The command line (picocli): {@code java -jar switchboard.jar} starts a node (configured by the
 * environment and the config file, see the README's settings); {@code java -jar switchboard.jar token
 * --sub alice [--ttl 3600] [--claim key=value]…} prints a signed development token. A bad argument or
 * setting prints one line, {@code switchboard: …}, and exits 2.
 */
@Command(name = "switchboard", description = "Starts a Switchboard node (no command), or runs a command.",
    subcommands = Main.Token.class, usageHelpAutoWidth = true)
public final class Main implements Callable<Integer> {
  /** Claims that hold arrays: {@code --claim subs=a,b} or repeated {@code --claim subs=a --claim subs=b}. */
  private static final Set<String> ARRAY_CLAIMS = Set.of("subs", "pubs", "roles");
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Main.class);
  /** What the node command answers once the node runs: the process goes on (its threads keep it). */
  private static final int RUNNING = Integer.MIN_VALUE;

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Shows this help.")
  boolean help;

  private final Map<String, String> env;

  Main(Map<String, String> env) {
    this.env = env;
  }

  public static void main(String[] args) {
    int code = commandLine(System.getenv()).execute(args);
    if (code != RUNNING) {
      System.exit(code);
    }
  }

  /** The command line over {@code env}: one line and exit code 2 for a bad argument or setting. */
  static CommandLine commandLine(Map<String, String> env) {
    CommandLine cl = new CommandLine(new Main(env), new CommandLine.IFactory() {
      @Override
      public <K> K create(Class<K> cls) throws Exception {
        return cls == Token.class ? cls.cast(new Token(env)) : CommandLine.defaultFactory().create(cls);
      }
    });
    cl.setParameterExceptionHandler((e, args) -> {
      e.getCommandLine().getErr().println("switchboard: " + e.getMessage() + " (see --help)");
      return 2;
    });
    cl.setExecutionExceptionHandler((e, line, parsed) -> {
      if (e instanceof ConfigException) {
        line.getErr().println("switchboard: " + e.getMessage());
        return 2;
      }
      throw e;
    });
    return cl;
  }

  /** No command: start a node. */
  @Override
  public Integer call() {
    SwitchboardConfig config = ConfigLoader.load(env);
    Logs.apply(config.log(), config.node().id());
    run(config);
    return RUNNING;
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

  /** {@code token}: a signed development token on one line. */
  @Command(name = "token", description = "Prints a signed token (SB_JWT_SECRET, or SB_JWT_PRIVATE_KEY when no secret is set).",
      usageHelpAutoWidth = true)
  static final class Token implements Callable<Integer> {
    @Option(names = "--sub", required = true, paramLabel = "USER", description = "The subject (user id).")
    String sub;

    @Option(names = "--ttl", defaultValue = "3600", paramLabel = "SECONDS", description = "Lifetime (default 3600).")
    long ttl;

    @Option(names = "--claim", paramLabel = "KEY=VALUE",
        description = "A claim; subs, pubs and roles are arrays (a,b or repeated), numbers and booleans as such.")
    List<String> claims = new ArrayList<>();

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Shows this help.")
    boolean help;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private final Map<String, String> env;

    Token(Map<String, String> env) {
      this.env = env;
    }

    @Override
    public Integer call() {
      spec.commandLine().getOut().println(token(env, sub, ttl, claims));
      spec.commandLine().getOut().flush();
      return 0;
    }
  }

  static String token(Map<String, String> env, String sub, long ttl, List<String> claimArgs) {
    if (ttl <= 0) {
      throw new ConfigException("token: --ttl must be positive");
    }
    if (sub == null || sub.isEmpty()) {
      throw new ConfigException("token: --sub USER is required");
    }
    JsonObject claims = new JsonObject();
    for (String kv : claimArgs) {
      claim(claims, kv);
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
