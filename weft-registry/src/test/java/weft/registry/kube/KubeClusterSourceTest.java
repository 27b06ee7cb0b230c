package weft.registry.kube;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import weft.model.ConfigProblem;
import weft.model.ResourceId;
import weft.model.VirtualService;
import weft.registry.ClusterSettings;
import weft.registry.MeshSnapshot;
import weft.registry.Registry;
import weft.registry.ServiceView;
import weft.registry.WorkloadEndpoint;

class KubeClusterSourceTest {
  static final String WEB = "web.default.svc.cluster.local";
  static final String API = "api.default.svc.cluster.local";
  static final Duration WAIT = Duration.ofSeconds(60);

  MockCluster cluster;
  Registry registry;
  KubeClusterSource source;

  @BeforeEach
  void setUp() throws Exception {
    cluster = new MockCluster();
    registry = new Registry();
  }

  @AfterEach
  void tearDown() throws Exception {
    if (source != null) source.close();
    registry.close();
    cluster.close();
  }

  void start(boolean configCluster) throws Exception {
    registry.addCluster(new ClusterSettings("c2", "net2", "istio-system"), configCluster);
    KubernetesClient client = new KubernetesClientBuilder()
        .withConfig(KubeConfigs.parse("test", "c2", cluster.kubeconfig("t0")).config()).build();
    source = new KubeClusterSource("c2", client, configCluster, registry, null, MockCluster.FAST, true);
    source.start();
    assertThat(source.awaitSynced(WAIT)).isTrue();
  }

  MeshSnapshot snapshot() {
    return registry.current();
  }

  List<String> addresses(String host) {
    ServiceView v = snapshot().service(host);
    return v == null ? List.of() : v.endpoints().stream().map(WorkloadEndpoint::address).sorted().toList();
  }

  MeshSnapshot.ClusterStatus status() {
    return snapshot().clusters().get("c2");
  }

  @Test
  void servicesEndpointSlicesAndPodsAppearUnderTheirClusterId() throws Exception {
    cluster.apply(MockCluster.service("web", 9080));
    cluster.apply(MockCluster.slice("web", "10.2.0.1"));
    cluster.apply(MockCluster.pod("web-a", "web", "10.2.0.1"));
    start(false);
    assertThat(addresses(WEB)).containsExactly("10.2.0.1");
    WorkloadEndpoint e = snapshot().service(WEB).endpoints().get(0);
    assertThat(e.clusterId()).isEqualTo("c2");
    assertThat(e.serviceAccount()).isEqualTo("web"); // from the Pod
    assertThat(status().synced()).isTrue();
    assertThat(status().stale()).isFalse();
  }

  @Test
  void updatesAndDeletesPropagate() throws Exception {
    start(false);
    cluster.apply(MockCluster.service("web", 9080));
    cluster.apply(MockCluster.slice("web", "10.2.0.1"));
    await().atMost(WAIT).until(() -> addresses(WEB).equals(List.of("10.2.0.1")));
    cluster.apply(MockCluster.slice("web", "10.2.0.1", "10.2.0.2"));
    await().atMost(WAIT).until(() -> addresses(WEB).equals(List.of("10.2.0.1", "10.2.0.2")));
    cluster.delete("v1", "Service", "default", "web");
    await().atMost(WAIT).until(() -> snapshot().service(WEB) == null);
  }

  @Test
  void cutConnectionKeepsEndpointsMarksStaleAndChangesMadeMeanwhileApplyOnceBack() throws Exception {
    cluster.apply(MockCluster.service("web", 9080));
    cluster.apply(MockCluster.slice("web", "10.2.0.1"));
    cluster.apply(MockCluster.service("api", 7070));
    cluster.apply(MockCluster.slice("api", "10.2.1.1"));
    start(false);

    cluster.proxy.cut();
    await().atMost(WAIT).until(() -> status().stale());
    assertThat(status().staleReason()).contains(cluster.proxy.url());
    assertThat(addresses(WEB)).containsExactly("10.2.0.1");
    assertThat(addresses(API)).containsExactly("10.2.1.1");

    // While nobody watches: an endpoint is added, a service deleted.
    cluster.apply(MockCluster.slice("web", "10.2.0.1", "10.2.0.9"));
    cluster.delete("v1", "Service", "default", "api");
    assertThat(addresses(API)).containsExactly("10.2.1.1"); // still served, stale

    cluster.proxy.restore();
    await().atMost(WAIT).until(() -> !status().stale());
    await().atMost(WAIT).until(() -> addresses(WEB).equals(List.of("10.2.0.1", "10.2.0.9"))
        && snapshot().service(API) == null);

    // And the new connection carries live events again.
    cluster.apply(MockCluster.slice("web", "10.2.0.9"));
    await().atMost(WAIT).until(() -> addresses(WEB).equals(List.of("10.2.0.9")));
  }

  @Test
  void istioConfigFromTheConfigClusterAppearsInTheSnapshot() throws Exception {
    start(true);
    cluster.apply(virtualService("reviews", 100));
    await().atMost(WAIT).until(() -> snapshot().config().virtualServices().size() == 1);
    VirtualService vs = snapshot().config().virtualServices().get(0);
    assertThat(vs.id()).isEqualTo(new ResourceId("VirtualService", "default", "reviews"));
    assertThat(snapshot().config().virtualServicesByHost()).containsKey("reviews");
    cluster.delete("networking.istio.io/v1", "VirtualService", "default", "reviews");
    await().atMost(WAIT).until(() -> snapshot().config().virtualServices().isEmpty());
  }

  @Test
  void securityPoliciesFromTheConfigClusterAppearWithRequestAuthentications() throws Exception {
    start(true);
    cluster.apply("""
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: default, namespace: istio-system}
        spec: {mtls: {mode: STRICT}}
        """);
    cluster.apply("""
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: deny-all, namespace: default}
        spec: {}
        """);
    cluster.apply("""
        apiVersion: security.istio.io/v1
        kind: RequestAuthentication
        metadata: {name: jwt, namespace: default}
        spec:
          jwtRules: [{issuer: "https://accounts.example.com"}]
        """);
    await().atMost(WAIT).until(() -> snapshot().config().peerAuthentications().size() == 1
        && snapshot().config().authorizationPolicies().size() == 1);
    assertThat(snapshot().config().peerAuthentications().get(0).mode()).isEqualTo("STRICT");
    await().atMost(WAIT).until(() -> snapshot().config().requestAuthentications().size() == 1);
    assertThat(snapshot().config().requestAuthentications().get(0).issuers())
        .containsExactly("https://accounts.example.com");
    cluster.delete("security.istio.io/v1", "AuthorizationPolicy", "default", "deny-all");
    await().atMost(WAIT).until(() -> snapshot().config().authorizationPolicies().isEmpty());
  }

  @Test
  void remoteClusterIstioConfigIsNotRead() throws Exception {
    cluster.apply(virtualService("reviews", 100));
    cluster.apply(MockCluster.service("web", 9080));
    start(false);
    assertThat(snapshot().service(WEB)).isNotNull();
    assertThat(snapshot().config().virtualServices()).isEmpty();
  }

  @Test
  void malformedObjectIsReportedKeepsItsLastGoodVersionAndTakesNothingDown() throws Exception {
    cluster.apply(MockCluster.service("web", 9080));
    cluster.apply(MockCluster.slice("web", "10.2.0.1"));
    cluster.apply(virtualService("reviews", 100));
    start(true);
    assertThat(snapshot().config().virtualServices()).hasSize(1);

    cluster.apply(virtualService("reviews", -5));
    cluster.apply(virtualService("ratings", -1)); // never valid
    await().atMost(WAIT).until(() -> errorsAbout("reviews").size() == 1 && errorsAbout("ratings").size() == 1);
    ConfigProblem p = errorsAbout("reviews").get(0);
    assertThat(p.field()).contains("weight");
    assertThat(p.file()).isEqualTo("cluster c2 API server");
    // The last accepted version keeps serving; the rest of the cluster is untouched.
    assertThat(snapshot().config().virtualServices()).extracting(VirtualService::id)
        .containsExactly(new ResourceId("VirtualService", "default", "reviews"));
    assertThat(addresses(WEB)).containsExactly("10.2.0.1");
    assertThat(status().stale()).isFalse();

    cluster.apply(virtualService("reviews", 100));
    cluster.delete("networking.istio.io/v1", "VirtualService", "default", "ratings");
    await().atMost(WAIT).until(() -> snapshot().problems().isEmpty());
  }

  private List<ConfigProblem> errorsAbout(String name) {
    return snapshot().problems().stream()
        .filter(p -> p.severity() == ConfigProblem.Severity.ERROR && p.resource() != null
            && p.resource().name().equals(name))
        .toList();
  }

  static String virtualService(String name, int weight) {
    return """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: %s, namespace: default}
        spec:
          hosts: [%s]
          http:
          - route:
            - destination: {host: %s}
              weight: %d
        """.formatted(name, name, name, weight);
  }
}
