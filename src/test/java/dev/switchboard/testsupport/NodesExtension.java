package dev.switchboard.testsupport;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.HashMap;
import java.util.Map;

/**
 * Starts and stops the {@link Nodes} of a {@link Cluster} class: injects them into fields of type
 * {@link Nodes} and resolves them as parameters; closes the clients each test opened through them
 * after it. One set of nodes per class: a class whose tests each need fresh nodes starts them itself. JUnit runs the classes of this suite one at a time, the tests of a class in one thread.
 */
final class NodesExtension implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback,
    ParameterResolver {
  private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(NodesExtension.class);
  private static final String NODES = "nodes";
  private static final String MARK = "mark";

  @Override
  public void beforeAll(ExtensionContext ctx) throws Exception {
    Nodes nodes = start(cluster(ctx));
    ctx.getStore(NS).put(NODES, nodes);
    inject(ctx.getRequiredTestClass(), null, nodes);
  }

  @Override
  public void beforeEach(ExtensionContext ctx) throws Exception {
    Nodes nodes = ctx.getStore(NS).get(NODES, Nodes.class); // the class's, through the parent store
    ctx.getStore(NS).put(MARK, nodes.mark());
    inject(ctx.getRequiredTestClass(), ctx.getRequiredTestInstance(), nodes);
  }

  @Override
  public void afterEach(ExtensionContext ctx) {
    Nodes nodes = ctx.getStore(NS).get(NODES, Nodes.class);
    if (nodes != null) {
      nodes.closeSince(ctx.getStore(NS).getOrDefault(MARK, Integer.class, 0));
    }
  }

  @Override
  public void afterAll(ExtensionContext ctx) {
    Nodes nodes = ctx.getStore(NS).remove(NODES, Nodes.class);
    if (nodes != null) {
      nodes.close();
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext p, ExtensionContext ctx) {
    return p.getParameter().getType() == Nodes.class;
  }

  @Override
  public Object resolveParameter(ParameterContext p, ExtensionContext ctx) {
    Nodes nodes = ctx.getStore(NS).get(NODES, Nodes.class);
    if (nodes == null) {
      throw new ParameterResolutionException("no nodes: they did not start");
    }
    return nodes;
  }

  private static Nodes start(Cluster c) {
    return c.started() < 0 ? Nodes.start(c.nodes(), env(c)) : Nodes.plan(c.nodes(), c.started(), env(c));
  }

  private static Cluster cluster(ExtensionContext ctx) {
    Class<?> k = ctx.getRequiredTestClass();
    while (k != null && !k.isAnnotationPresent(Cluster.class)) {
      k = k.getEnclosingClass();
    }
    if (k == null) {
      throw new IllegalStateException(ctx.getRequiredTestClass() + " has no @Cluster");
    }
    return k.getAnnotation(Cluster.class);
  }

  private static Map<String, String> env(Cluster c) {
    Map<String, String> env = new HashMap<>();
    for (String kv : c.env()) {
      int eq = kv.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("@Cluster env entry is not NAME=value: " + kv);
      }
      env.put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    return env;
  }

  /** Sets the static fields of type Nodes (instance null) or the instance's own fields of that type. */
  private static void inject(Class<?> k, Object instance, Nodes nodes) throws IllegalAccessException {
    for (Class<?> c = k; c != null && c != Object.class; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        if (f.getType() == Nodes.class && Modifier.isStatic(f.getModifiers()) == (instance == null)) {
          f.setAccessible(true);
          f.set(instance, nodes);
        }
      }
    }
  }
}
