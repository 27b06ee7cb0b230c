package weft.registry.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.model.ConfigProblem;
import weft.registry.ClusterSettings;
import weft.registry.Registry;
import weft.registry.ServiceView;
import weft.registry.WorkloadEndpoint;

/**
 * An external control plane's config cluster: its Istio config comes through one connection (a
 * config-only source), its workloads, when it runs some, through a remote secret of its own (a second
 * source of the same cluster id). Each feed lists, goes stale and leaves alone.
 */
class ExternalConfigClusterTest {
  static final String NS = "istio-system";
  static final String WEB = "web.default.svc.cluster.local";
  static final String EXTERNAL = "api.example.com";
  static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir
  Path stateDir;

  MockCluster config;
  TcpProxy configLink;
  final List<AutoCloseable> closeables = new ArrayList<>();
  Registry registry;

  @BeforeEach
  void setUp() throws Exception {
    config = new MockCluster();
    configLink = new TcpProxy(config.server.getPort());
    // A workload and a ServiceEntry in the config cluster.
    config.apply(MockCluster.service("web", 9080));
    config.apply(MockCluster.slice("web", "10.1.0.1"));
    config.apply(MockCluster.pod("web-a", "web", "10.1.0.1"));
    config.apply("""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: api, namespace: default}
        spec:
          hosts: [api.example.com]
          ports: [{number: 443, name: tls, protocol: TLS}]
          resolution: STATIC
          endpoints: [{address: 192.0.2.10}]
        """);
    registry = new Registry();
    closeables.add(registry);
    registry.addCluster(new ClusterSettings("cfg", "", NS), true);
    KubernetesClient client = new KubernetesClientBuilder().withConfig(
        KubeConfigs.parse("test", "cfg", MockCluster.kubeconfig(configLink.url(), "t")).config()).build();
    closeables.add(client);
    KubeClusterSource source = KubeClusterSource.configOnly("cfg", client, registry, new StateStore(stateDir),
        MockCluster.FAST);
    closeables.add(source);
    source.start();
    RemoteSecretController remotes = RemoteSecretController.external("cfg", NS, config.admin, null, registry, stateDir,
        id -> new ClusterSettings(id, "", NS), MockCluster.FAST);
    closeables.add(remotes);
    remotes.start();
    assertThat(source.awaitSynced(WAIT)).isTrue();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) closeables.get(i).close();
    configLink.close();
    config.close();
  }

  void putOwnSecret() {
    Secret secret = new SecretBuilder().withNewMetadata().withName("istio-remote-secret-cfg").withNamespace(NS)
        .addToLabels("istio/multiCluster", "true").endMetadata()
        .withStringData(Map.of("cfg", config.kubeconfig("t"))).build();
    config.admin.secrets().inNamespace(NS).resource(secret).create();
  }

  List<String> addresses(String host) {
    ServiceView v = registry.current().service(host);
    return v == null ? List.of() : v.endpoints().stream().map(WorkloadEndpoint::address).sorted().toList();
  }

  String staleReason() {
    return registry.current().clusters().get("cfg").staleReason();
  }

  @Test
  void withoutItsOwnSecretTheConfigClusterGivesConfigAndNoWorkloads() throws Exception {
    await().atMost(WAIT).until(() -> addresses(EXTERNAL).equals(List.of("192.0.2.10")));
    assertThat(registry.current().service(WEB)).isNull();
    assertThat(registry.current().problems()).noneMatch(p -> p.severity() == ConfigProblem.Severity.ERROR);
  }

  @Test
  void itsOwnSecretAddsItsWorkloadsBesideItsConfigAndEachFeedGoesStaleAndLeavesAlone() throws Exception {
    putOwnSecret();
    await().atMost(WAIT).until(() -> addresses(WEB).equals(List.of("10.1.0.1")));
    assertThat(registry.current().service(WEB).endpoints().get(0).clusterId()).isEqualTo("cfg");
    assertThat(addresses(EXTERNAL)).containsExactly("192.0.2.10");
    // Nothing refused it as naming the control plane's own cluster: an external one has none.
    assertThat(registry.current().problems()).noneMatch(p -> p.severity() == ConfigProblem.Severity.ERROR);

    // The config connection is lost: stale, named as the config feed; both feeds keep serving.
    configLink.cut();
    await().atMost(WAIT).until(() -> staleReason() != null && staleReason().startsWith("config: "));
    assertThat(addresses(WEB)).containsExactly("10.1.0.1");
    assertThat(addresses(EXTERNAL)).containsExactly("192.0.2.10");
    // A workload change still arrives (its own connection), and does not delete the config.
    config.apply(MockCluster.slice("web", "10.1.0.1", "10.1.0.2"));
    await().atMost(WAIT).until(() -> addresses(WEB).equals(List.of("10.1.0.1", "10.1.0.2")));
    assertThat(addresses(EXTERNAL)).containsExactly("192.0.2.10");
    configLink.restore();
    await().atMost(WAIT).until(() -> staleReason() == null);
    assertThat(addresses(WEB)).containsExactly("10.1.0.1", "10.1.0.2");

    // Deleting its secret withdraws its workloads only; the cluster and its config stay.
    config.admin.secrets().inNamespace(NS).withName("istio-remote-secret-cfg").delete();
    await().atMost(WAIT).until(() -> registry.current().service(WEB) == null);
    assertThat(addresses(EXTERNAL)).containsExactly("192.0.2.10");
    assertThat(registry.current().clusters()).containsKey("cfg");
  }

  @Test
  void meshConfigComesFromTheIstioConfigMapAndABadEditKeepsTheLastGood() throws Exception {
    MeshConfigMapSource mesh = new MeshConfigMapSource(config.admin, NS, "cfg", registry, registry::setMeshConfig,
        registry::setMeshNetworks);
    closeables.add(mesh);
    mesh.start();
    assertThat(mesh.awaitListed(WAIT)).isTrue();
    assertThat(registry.current().meshConfig().trustDomain()).isEqualTo("cluster.local");

    var map = new ConfigMapBuilder().withNewMetadata().withName("istio").withNamespace(NS).endMetadata()
        .addToData("mesh", "trustDomain: example.org\n").build();
    config.admin.configMaps().inNamespace(NS).resource(map).create();
    await().atMost(WAIT).until(() -> registry.current().meshConfig().trustDomain().equals("example.org"));

    map.getData().put("mesh", "trustDomain: [not, a, string]\n");
    config.admin.configMaps().inNamespace(NS).resource(map).update();
    await().atMost(WAIT).until(() -> registry.current().problems().stream()
        .anyMatch(p -> p.severity() == ConfigProblem.Severity.ERROR && p.file().contains("ConfigMap istio-system/istio")));
    assertThat(registry.current().meshConfig().trustDomain()).isEqualTo("example.org");

    config.admin.configMaps().inNamespace(NS).withName("istio").delete();
    await().atMost(WAIT).until(() -> registry.current().meshConfig().trustDomain().equals("cluster.local"));
    assertThat(registry.current().problems()).noneMatch(p -> p.file() != null && p.file().contains("ConfigMap"));
  }
}
