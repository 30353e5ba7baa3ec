package dev.switchboard.deploy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import org.junit.jupiter.api.Assumptions;

import java.io.File;
import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Renders a kustomization with {@code kubectl kustomize} and parses every object into the fabric8
 * Kubernetes model, strictly: a field the model does not know (a typo, a field at the wrong level,
 * a field of another API version) fails, although the model itself would keep it aside in
 * {@code additionalProperties}.
 */
final class Kustomize {
  /** The kinds the overlays may contain, by apiVersion/kind. */
  static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of(
      "v1/Service", Service.class,
      "v1/ConfigMap", ConfigMap.class,
      "v1/Secret", Secret.class,
      "apps/v1/Deployment", Deployment.class,
      "apps/v1/StatefulSet", StatefulSet.class,
      "policy/v1/PodDisruptionBudget", PodDisruptionBudget.class,
      "networking.k8s.io/v1/NetworkPolicy", NetworkPolicy.class);

  private static final ObjectMapper MODEL = new ObjectMapper()
      .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private Kustomize() {
  }

  /** kubectl from PATH; the test is skipped (with this reason) where there is none. */
  static String kubectl() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      File f = new File(dir, "kubectl");
      if (f.canExecute()) {
        return f.getPath();
      }
    }
    Assumptions.abort("kubectl is not on PATH: the k8s/ overlays cannot be rendered here (CI has it;"
        + " install kubectl >= 1.27 to run this test)");
    return null;
  }

  /** {@code kubectl kustomize dir}: the rendered YAML (fails on a non-zero exit or after 30 s). */
  static String render(String dir) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(kubectl(), "kustomize", dir).redirectErrorStream(false).start();
    byte[][] out = new byte[2][];
    Thread err = new Thread(() -> {
      try {
        out[1] = p.getErrorStream().readAllBytes();
      } catch (IOException e) {
        out[1] = e.toString().getBytes(StandardCharsets.UTF_8);
      }
    });
    err.start();
    out[0] = p.getInputStream().readAllBytes();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("kubectl kustomize " + dir + " did not finish in 30 s");
    }
    err.join(5000);
    if (p.exitValue() != 0) {
      throw new AssertionError("kubectl kustomize " + dir + " failed (" + p.exitValue() + "): "
          + new String(out[1], StandardCharsets.UTF_8));
    }
    return new String(out[0], StandardCharsets.UTF_8);
  }

  /** Every object of a rendered overlay, each as its model class; fails on an unknown kind or field. */
  static List<HasMetadata> objects(String dir) throws IOException, InterruptedException {
    List<HasMetadata> out = new ArrayList<>();
    for (JsonNode doc : new YAMLMapper().readValues(new YAMLMapper().createParser(render(dir)), JsonNode.class)
        .readAll()) {
      if (doc == null || doc.isNull() || doc.isEmpty()) {
        continue;
      }
      String key = doc.path("apiVersion").asText() + "/" + doc.path("kind").asText();
      Class<? extends HasMetadata> type = KINDS.get(key);
      if (type == null) {
        throw new AssertionError(dir + ": an object of a kind this test does not know: " + key);
      }
      HasMetadata o = MODEL.treeToValue(doc, type);
      List<String> unknown = new ArrayList<>();
      unknownFields(o, key + " " + o.getMetadata().getName(), unknown, Collections.newSetFromMap(new IdentityHashMap<>()));
      if (!unknown.isEmpty()) {
        throw new AssertionError(dir + ": fields the Kubernetes model does not know: " + unknown);
      }
      out.add(o);
    }
    return out;
  }

  /**
   * Walks a model object through its getters and reports every non-empty {@code additionalProperties}:
   * where the model put a field it has no property for.
   */
  static void unknownFields(Object o, String path, List<String> found, Set<Object> seen) {
    if (o == null || o instanceof String || o instanceof Number || o instanceof Boolean || o instanceof Enum<?>) {
      return;
    }
    if (o instanceof Collection<?> c) {
      int i = 0;
      for (Object e : c) {
        unknownFields(e, path + "[" + i++ + "]", found, seen);
      }
      return;
    }
    if (o instanceof Map<?, ?> m) {
      m.forEach((k, v) -> unknownFields(v, path + "." + k, found, seen));
      return;
    }
    if (!o.getClass().getName().startsWith("io.fabric8.") || !seen.add(o)) {
      return;
    }
    for (Method get : o.getClass().getMethods()) {
      if (get.getParameterCount() != 0 || Modifier.isStatic(get.getModifiers()) || get.getDeclaringClass() == Object.class
          || !get.getName().startsWith("get")) {
        continue;
      }
      Object v;
      try {
        v = get.invoke(o);
      } catch (ReflectiveOperationException e) {
        throw new AssertionError(path + ": " + get.getName() + " failed", e);
      }
      if (get.getName().equals("getAdditionalProperties")) {
        if (v instanceof Map<?, ?> extra && !extra.isEmpty()) {
          found.add(path + ": " + extra.keySet());
        }
        continue;
      }
      String name = get.getName().substring(3);
      unknownFields(v, path + "." + (name.isEmpty() ? name : Character.toLowerCase(name.charAt(0)) + name.substring(1)),
          found, seen);
    }
  }
}
