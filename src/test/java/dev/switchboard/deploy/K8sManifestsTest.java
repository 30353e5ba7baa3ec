package dev.switchboard.deploy;

import com.hazelcast.config.Config;
import com.hazelcast.config.XmlConfigBuilder;
import dev.switchboard.HazelcastSetup;
import dev.switchboard.api.HttpRoutes;
import dev.switchboard.config.ConfigException;
import dev.switchboard.config.ConfigLoader;
import dev.switchboard.config.KnownSettings;
import dev.switchboard.config.NodeRole;
import dev.switchboard.config.SwitchboardConfig;
import dev.switchboard.config.SwitchboardConfig.ClusterOptions;
import dev.switchboard.testsupport.TestNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Renders both overlays (kubectl kustomize), parses every object with the fabric8 model (unknown
 * fields fail) and checks them against the node: every SB_* variable is a setting and the settings
 * load; container ports, Service ports and probe paths are the ones the node binds and serves; the
 * mounted Hazelcast XML builds, joins through Kubernetes and matches cluster.xml; the roles; stopping
 * within the grace period; non-root, read-only; budgets, anti-affinity and the NetworkPolicy.
 */
class K8sManifestsTest {
  /** What the pods see for the fields Kubernetes fills in. */
  static final Map<String, String> FIELDS = Map.of("status.podIP", "10.1.2.3", "metadata.name", "switchboard-0");

  @Test
  void singleTierRendersOneTierOfDataMembersThatServeClients() throws Exception {
    List<HasMetadata> objects = Kustomize.objects("k8s/overlays/single-tier");
    Map<String, NodeRole> roles = checkOverlay(objects);
    assertEquals(Map.of("Deployment/switchboard", NodeRole.ALL), roles);
  }

  @Test
  void twoTierRendersDataMembersAndLiteGateways() throws Exception {
    List<HasMetadata> objects = Kustomize.objects("k8s/overlays/two-tier");
    Map<String, NodeRole> roles = checkOverlay(objects);
    assertEquals(Map.of("Deployment/switchboard", NodeRole.GATEWAY, "StatefulSet/switchboard-data", NodeRole.DATA), roles);
    StatefulSet data = one(objects, StatefulSet.class, "switchboard-data");
    assertEquals(headless(objects).getMetadata().getName(), data.getSpec().getServiceName(), "governed by the headless Service");
    Service clients = one(objects, Service.class, "switchboard");
    assertFalse(selects(clients.getSpec().getSelector(), data.getSpec().getTemplate()), "no client is sent to a data member");
  }

  /** Checks every workload and the shared objects; returns each workload's role. */
  static Map<String, NodeRole> checkOverlay(List<HasMetadata> objects) throws Exception {
    Map<String, NodeRole> roles = new LinkedHashMap<>();
    Service headless = headless(objects);
    Service clients = one(objects, Service.class, "switchboard");
    NetworkPolicy policy = objects.stream().filter(NetworkPolicy.class::isInstance).map(NetworkPolicy.class::cast)
        .findFirst().orElseThrow(() -> new AssertionError("a NetworkPolicy"));
    for (HasMetadata o : objects) {
      PodTemplateSpec pod = o instanceof Deployment d ? d.getSpec().getTemplate()
          : o instanceof StatefulSet s ? s.getSpec().getTemplate() : null;
      if (pod == null) {
        continue;
      }
      String name = o.getKind() + "/" + o.getMetadata().getName();
      SwitchboardConfig config = checkWorkload(name, pod, objects);
      roles.put(name, config.node().role());
      Container c = pod.getSpec().getContainers().get(0);
      assertTrue(selects(headless.getSpec().getSelector(), pod), name + " found by Hazelcast's DNS discovery");
      assertEquals(config.cluster().port(), port(c, headless.getSpec().getPorts().get(0).getTargetPort()), name);
      assertEquals(config.cluster().port(), headless.getSpec().getPorts().get(0).getPort(), name);
      if (config.node().role().servesClients()) {
        assertTrue(selects(clients.getSpec().getSelector(), pod), name + " behind the client Service");
        assertEquals(config.http().port(), port(c, clients.getSpec().getPorts().get(0).getTargetPort()), name);
      }
      assertTrue(selects(policy.getSpec().getPodSelector().getMatchLabels(), pod), name + " under the NetworkPolicy");
      checkNetworkPolicy(name, policy, pod, config);
      assertTrue(objects.stream().filter(PodDisruptionBudget.class::isInstance).map(PodDisruptionBudget.class::cast)
          .anyMatch(b -> selects(b.getSpec().getSelector().getMatchLabels(), pod)
              && b.getSpec().getMaxUnavailable() != null && b.getSpec().getMaxUnavailable().getIntVal() == 1),
          name + ": a PodDisruptionBudget of maxUnavailable 1");
    }
    assertTrue(headless.getSpec().getPublishNotReadyAddresses(), "members find each other before they are ready");
    return roles;
  }

  /** One client-serving or data workload: settings, ports, probes, config file, stopping, security. */
  static SwitchboardConfig checkWorkload(String name, PodTemplateSpec pod, List<HasMetadata> objects) throws Exception {
    assertEquals(1, pod.getSpec().getContainers().size(), name);
    Container c = pod.getSpec().getContainers().get(0);
    Map<String, String> env = env(name, c, objects);
    for (String var : env.keySet()) {
      assertTrue(!var.startsWith("SB_") || KnownSettings.names().contains(var), name + ": " + var + " is no setting");
    }
    SwitchboardConfig config = ConfigLoader.load(env);
    // ports: exactly the three the node binds, by name
    Map<String, Integer> ports = new HashMap<>();
    for (ContainerPort p : c.getPorts()) {
      ports.put(p.getName(), p.getContainerPort());
    }
    assertEquals(Map.of("http", config.http().port(), "hazelcast", config.cluster().port(), "eventbus",
        config.cluster().busPort()), ports, name);
    assertEquals("10.1.2.3", config.cluster().busHost(), name + ": the event bus announces the pod's address");
    // probes on what the node serves, whatever its role
    probe(name + " readiness", c, c.getReadinessProbe(), HttpRoutes.READY, config);
    probe(name + " liveness", c, c.getLivenessProbe(), HttpRoutes.LIVE, config);
    probe(name + " startup", c, c.getStartupProbe(), HttpRoutes.LIVE, config);
    // the HTTP server opens after the join and the first majority, each bounded by the join timeout, and
    // on a gateway after its wait for a data member (as long again, Node/NoDataMemberRetry): a node that
    // cannot join stops by itself (with its reason) before the startup probe kills it
    long window = (long) c.getStartupProbe().getPeriodSeconds() * c.getStartupProbe().getFailureThreshold();
    int bounds = config.node().role() == NodeRole.GATEWAY ? 3 : 2;
    assertTrue(window > bounds * config.cluster().joinTimeoutMs() / 1000, name + ": startup window " + window + " s");
    checkClusterXml(name, pod, c, config, objects);
    // stopping: preStop, then the drain and the operations' grace and leaving (docs/protocol.md, "Shutdown")
    List<String> preStop = c.getLifecycle().getPreStop().getExec().getCommand();
    assertEquals("sleep", preStop.get(0), name);
    long bound = Long.parseLong(preStop.get(1)) + (config.lifecycle().drainMs() + config.lifecycle().shutdownGraceMs()) / 1000 + 12;
    assertTrue(pod.getSpec().getTerminationGracePeriodSeconds() > bound,
        name + ": terminationGracePeriodSeconds " + pod.getSpec().getTerminationGracePeriodSeconds() + " > " + bound);
    // non-root (the image's user), read-only, /tmp writable
    var podSecurity = pod.getSpec().getSecurityContext();
    assertTrue(podSecurity.getRunAsNonRoot(), name);
    String imageUser = DockerfileTest.instructions().stream().filter(i -> i.keyword().equals("USER")).findFirst()
        .orElseThrow().args().split(":")[0];
    assertEquals(Long.valueOf(imageUser), podSecurity.getRunAsUser(), name + ": the image's user");
    assertTrue(c.getSecurityContext().getReadOnlyRootFilesystem(), name);
    assertFalse(c.getSecurityContext().getAllowPrivilegeEscalation(), name);
    Volume tmp = volume(pod, mount(c, "/tmp"));
    assertNotNull(tmp.getEmptyDir(), name + ": /tmp is an emptyDir");
    assertNotNull(c.getResources().getRequests().get("cpu"), name + ": cpu request");
    assertEquals(c.getResources().getRequests().get("memory"), c.getResources().getLimits().get("memory"),
        name + ": memory limit = request (the heap is a share of it)");
    var anti = pod.getSpec().getAffinity().getPodAntiAffinity().getPreferredDuringSchedulingIgnoredDuringExecution();
    assertTrue(anti.stream().anyMatch(t -> selects(t.getPodAffinityTerm().getLabelSelector().getMatchLabels(), pod)),
        name + ": spread over nodes");
    return config;
  }

  /** The mounted Hazelcast XML: builds as the node builds it, joins by Kubernetes, same as cluster.xml otherwise. */
  static void checkClusterXml(String name, PodTemplateSpec pod, Container c, SwitchboardConfig config,
                              List<HasMetadata> objects) throws Exception {
    Path file = Path.of(config.cluster().configPath());
    Volume v = volume(pod, mount(c, file.getParent().toString()));
    ConfigMap map = one(objects, ConfigMap.class, v.getConfigMap().getName());
    String xml = map.getData().get(file.getFileName().toString());
    assertNotNull(xml, name + ": " + file + " in ConfigMap " + map.getMetadata().getName());
    Path tmp = Files.createTempFile("sb-k8s-cluster", ".xml");
    try {
      Files.writeString(tmp, xml);
      ClusterOptions o = config.cluster();
      Config hz = HazelcastSetup.hazelcastConfig(new ClusterOptions(tmp.toString(), o.name(), o.host(), o.port(),
          o.members(), o.busHost(), o.busPort(), o.joinTimeoutMs(), o.quorum(), o.memberTimeoutS(), o.mergeDelayS(),
          o.handoverMs()), config.node().role());
      assertTrue(hz.getNetworkConfig().getJoin().getKubernetesConfig().isEnabled(), name + ": Kubernetes discovery");
      assertFalse(hz.getNetworkConfig().getJoin().getTcpIpConfig().isEnabled(), name);
      assertEquals(config.cluster().port(), hz.getNetworkConfig().getPort(), name + ": Hazelcast port");
      assertEquals(config.node().role() == NodeRole.GATEWAY, hz.isLiteMember(), name + ": lite member");
      Config mine = new XmlConfigBuilder(tmp.toString()).build();
      Config shipped = new XmlConfigBuilder("cluster.xml").build();
      assertEquals(shipped.getProperties(), mine.getProperties(), "cluster-k8s.xml and cluster.xml properties");
      assertEquals(shipped.getMapConfigs().keySet(), mine.getMapConfigs().keySet());
      assertEquals(shipped.getMultiMapConfigs().keySet(), mine.getMultiMapConfigs().keySet());
      assertEquals(shipped.getMetricsConfig().isEnabled(), mine.getMetricsConfig().isEnabled());
      assertEquals(shipped.getCPSubsystemConfig().getCPMemberCount(), mine.getCPSubsystemConfig().getCPMemberCount());
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** Hazelcast and the event bus open only to the app's pods; HTTP open. */
  static void checkNetworkPolicy(String name, NetworkPolicy policy, PodTemplateSpec pod, SwitchboardConfig config) {
    Set<Integer> internal = Set.of(config.cluster().port(), config.cluster().busPort());
    Set<Integer> between = new TreeSet<>();
    boolean http = false;
    for (NetworkPolicyIngressRule r : policy.getSpec().getIngress()) {
      Set<Integer> ports = new TreeSet<>();
      for (NetworkPolicyPort p : r.getPorts()) {
        ports.add(p.getPort().getIntVal());
      }
      boolean onlyApp = !r.getFrom().isEmpty();
      for (NetworkPolicyPeer peer : r.getFrom()) {
        onlyApp &= peer.getIpBlock() == null && peer.getNamespaceSelector() == null && peer.getPodSelector() != null
            && selects(peer.getPodSelector().getMatchLabels(), pod)
            && peer.getPodSelector().getMatchLabels().equals(policy.getSpec().getPodSelector().getMatchLabels());
      }
      for (int p : ports) {
        if (internal.contains(p)) {
          assertTrue(onlyApp, name + ": port " + p + " opened beyond the app's pods");
          between.add(p);
        }
      }
      http |= ports.contains(config.http().port()) && r.getFrom().isEmpty();
    }
    assertEquals(new TreeSet<>(internal), between, name + ": Hazelcast and event bus open between the app's pods");
    assertTrue(http, name + ": HTTP open");
  }

  @Test
  void theJwtSecretPlaceholderCannotRun() throws Exception {
    Secret s = Kustomize.objects("k8s/overlays/single-tier").stream().filter(Secret.class::isInstance)
        .map(Secret.class::cast).findFirst().orElseThrow();
    String placeholder = new String(Base64.getDecoder().decode(s.getData().get("secret")), StandardCharsets.UTF_8);
    ConfigException e = assertThrows(ConfigException.class,
        () -> ConfigLoader.load(Map.of("SB_JWT_SECRET", placeholder)));
    assertTrue(e.getMessage().contains("SB_JWT_SECRET"), e.getMessage());
  }

  /** The container's environment as the node sees it: fields and $(VAR) filled in, the secret a valid test key. */
  static Map<String, String> env(String name, Container c, List<HasMetadata> objects) {
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvVar e : c.getEnv()) {
      String value;
      if (e.getValueFrom() == null) {
        value = e.getValue() == null ? "" : e.getValue();
        for (Map.Entry<String, String> earlier : env.entrySet()) {
          value = value.replace("$(" + earlier.getKey() + ")", earlier.getValue());
        }
      } else if (e.getValueFrom().getFieldRef() != null) {
        value = FIELDS.get(e.getValueFrom().getFieldRef().getFieldPath());
        assertNotNull(value, name + ": field " + e.getValueFrom().getFieldRef().getFieldPath());
      } else {
        var ref = e.getValueFrom().getSecretKeyRef();
        assertNotNull(ref, name + ": " + e.getName() + " from a field or a Secret");
        Secret s = one(objects, Secret.class, ref.getName());
        assertTrue(s.getData().containsKey(ref.getKey()), name + ": key " + ref.getKey() + " in " + ref.getName());
        value = TestNode.SECRET; // the placeholder's content is checked by theJwtSecretPlaceholderCannotRun
      }
      env.put(e.getName(), value);
    }
    assertFalse(env.containsKey("SB_CONF"), name + ": settings come from the environment");
    return env;
  }

  static void probe(String what, Container c, Probe p, String path, SwitchboardConfig config) {
    assertNotNull(p, what);
    assertEquals(path, p.getHttpGet().getPath(), what);
    assertEquals(config.http().port(), port(c, p.getHttpGet().getPort()), what + " port");
  }

  /** A port by number or by the container's port name. */
  static int port(Container c, IntOrString p) {
    if (p.getIntVal() != null) {
      return p.getIntVal();
    }
    return c.getPorts().stream().filter(x -> p.getStrVal().equals(x.getName())).findFirst()
        .orElseThrow(() -> new AssertionError("no container port named " + p.getStrVal())).getContainerPort();
  }

  static boolean selects(Map<String, String> selector, PodTemplateSpec pod) {
    return selector != null && !selector.isEmpty()
        && pod.getMetadata().getLabels().entrySet().containsAll(selector.entrySet());
  }

  static String mount(Container c, String path) {
    return c.getVolumeMounts().stream().filter(m -> m.getMountPath().equals(path)).map(VolumeMount::getName)
        .findFirst().orElseThrow(() -> new AssertionError("nothing mounted at " + path));
  }

  static Volume volume(PodTemplateSpec pod, String name) {
    return pod.getSpec().getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no volume " + name));
  }

  static Service headless(List<HasMetadata> objects) {
    return objects.stream().filter(Service.class::isInstance).map(Service.class::cast)
        .filter(s -> "None".equals(s.getSpec().getClusterIP())).findFirst()
        .orElseThrow(() -> new AssertionError("a headless Service for Hazelcast"));
  }

  /** The one object of this type with this name (references in the rendered output carry the hash suffix). */
  static <T extends HasMetadata> T one(List<HasMetadata> objects, Class<T> type, String name) {
    List<T> found = objects.stream().filter(type::isInstance).map(type::cast)
        .filter(o -> o.getMetadata().getName().equals(name)).toList();
    assertEquals(1, found.size(), type.getSimpleName() + " " + name);
    return found.get(0);
  }
}
