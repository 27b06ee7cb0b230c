package weft.registry.kube;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import weft.model.ConfigProblem;
import weft.model.MeshConfig;
import weft.model.MeshNetworks;
import weft.model.parse.MeshConfigParser;
import weft.model.parse.Parsed;
import weft.registry.Registry;

/**
 * MeshConfig and MeshNetworks as Istio keeps them in the config cluster: the keys {@code mesh} and
 * {@code meshNetworks} of the ConfigMap {@code istio} in the system namespace. Watched; a key that
 * does not parse is reported and its last good value keeps serving; a missing key, or a deleted
 * ConfigMap, means Istio's defaults (as for istiod). Either half can be left to a file flag, which
 * then wins ({@code applyMeshConfig} or {@code applyMeshNetworks} null).
 */
public final class MeshConfigMapSource implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(MeshConfigMapSource.class.getName());
  /** Istio's name for the ConfigMap (without a revision). */
  public static final String NAME = "istio";

  private final KubernetesClient client;
  private final String namespace;
  private final String clusterId;
  private final Registry registry;
  private final Consumer<MeshConfig> applyMeshConfig;
  private final Consumer<MeshNetworks> applyMeshNetworks;
  private final CountDownLatch listed = new CountDownLatch(1);
  private SharedIndexInformer<ConfigMap> informer;
  // Guarded by this.
  private final Key<MeshConfig> mesh = new Key<>();
  private final Key<MeshNetworks> networks = new Key<>();

  public MeshConfigMapSource(KubernetesClient client, String namespace, String clusterId, Registry registry,
      Consumer<MeshConfig> applyMeshConfig, Consumer<MeshNetworks> applyMeshNetworks) {
    this.client = client;
    this.namespace = namespace;
    this.clusterId = clusterId;
    this.registry = registry;
    this.applyMeshConfig = applyMeshConfig;
    this.applyMeshNetworks = applyMeshNetworks;
  }

  /** Starts watching; {@link #awaitListed} waits for the first answer. */
  public void start() {
    informer = client.configMaps().inNamespace(namespace).withName(NAME).runnableInformer(0);
    informer.addEventHandler(new ResourceEventHandler<>() {
      @Override
      public void onAdd(ConfigMap map) {
        apply(map.getData());
      }

      @Override
      public void onUpdate(ConfigMap before, ConfigMap map) {
        apply(map.getData());
      }

      @Override
      public void onDelete(ConfigMap map, boolean finalStateUnknown) {
        apply(null);
      }
    });
    // Losing the config cluster keeps the last mesh config; fabric8 keeps retrying.
    informer.exceptionHandler((started, t) -> {
      LOG.log(System.Logger.Level.WARNING, "ConfigMap " + namespace + "/" + NAME + " of cluster " + clusterId + ": "
          + KubeClusterSource.describe(t) + "; retrying");
      return true;
    });
    informer.start().whenComplete((v, t) -> listed.countDown());
  }

  /** Waits, at most {@code max}, until the ConfigMap has been listed (present or not). */
  public boolean awaitListed(Duration max) {
    try {
      return listed.await(max.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private synchronized void apply(Map<String, String> data) {
    String where = "cluster " + clusterId + " ConfigMap " + namespace + "/" + NAME;
    if (applyMeshConfig != null) {
      mesh.see(data == null ? null : data.get("mesh"), where + " data.mesh", MeshConfigParser::parseMeshConfig,
          MeshConfig.defaults(), applyMeshConfig);
    }
    if (applyMeshNetworks != null) {
      networks.see(data == null ? null : data.get("meshNetworks"), where + " data.meshNetworks",
          MeshConfigParser::parseMeshNetworks, MeshNetworks.empty(), applyMeshNetworks);
    }
    List<ConfigProblem> problems = new ArrayList<>(mesh.problems);
    problems.addAll(networks.problems);
    registry.reportProblems("kube:" + clusterId + ":ConfigMap/" + namespace + "/" + NAME, problems);
  }

  /** One key of the ConfigMap: the text last seen and what it was found to hold. */
  private static final class Key<T> {
    private String seen;
    private boolean seenOnce;
    private List<ConfigProblem> problems = List.of();

    interface Parser<T> {
      Parsed<T> parse(String where, String text);
    }

    void see(String text, String where, Parser<T> parser, T absent, Consumer<T> apply) {
      if (seenOnce && java.util.Objects.equals(text, seen)) return;
      seenOnce = true;
      seen = text;
      if (text == null) {
        problems = List.of();
        apply.accept(absent);
        return;
      }
      Parsed<T> parsed = parser.parse(where, text);
      problems = parsed.problems();
      for (ConfigProblem p : problems) {
        boolean error = p.severity() == ConfigProblem.Severity.ERROR;
        LOG.log(error ? System.Logger.Level.ERROR : System.Logger.Level.WARNING, p.describe());
      }
      if (parsed.value() != null) {
        apply.accept(parsed.value());
      } else {
        LOG.log(System.Logger.Level.ERROR, where + " is not valid; its last good version keeps serving");
      }
    }
  }

  @Override
  public void close() {
    if (informer != null) informer.close();
  }
}
