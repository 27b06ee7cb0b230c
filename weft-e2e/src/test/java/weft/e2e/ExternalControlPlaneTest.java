package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;
import weft.demo.EchoService;

/**
 * The seed's managed (external) control plane: the control plane runs outside every cluster it
 * serves. Its config cluster's API server holds the mesh config (Istio kinds, the istio ConfigMap)
 * and the remote secrets; there is no local cluster, so every workload cluster, the config cluster's
 * own included when it runs workloads, comes from a remote secret.
 */
class ExternalControlPlaneTest {
  static final String REVIEWS = "reviews.default.svc.cluster.local";
  KubeCluster config;
  KubeCluster c2;
  KubeCluster c3;
  Path kubeconfig;
  int port;
  ControlPlane cp;
  Mesh clients;
  final List<Server> servers = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    config = new KubeCluster("config");
    c2 = new KubeCluster("cluster2");
    c3 = new KubeCluster("cluster3");
    port = Mesh.freePort();
    for (String[] e : new String[][] {{"config", "127.0.1.1"}, {"c2", "127.0.2.1"}, {"c3", "127.0.3.1"},
        {"c3-ratings", "127.0.3.2"}}) {
      servers.add(NettyServerBuilder.forAddress(new InetSocketAddress(e[1], port))
          .addService(EchoService.named(e[0])).build().start());
    }
    c2.service("reviews", "default", 9080, port, List.of("127.0.2.1"));
    c3.service("reviews", "default", 9080, port, List.of("127.0.3.1"));
    c3.service("ratings", "default", 9080, port, List.of("127.0.3.2"));
    // The remote secrets live where Istio keeps them: in the config cluster's system namespace.
    addRemoteSecret(c2);
    addRemoteSecret(c3);
    // MeshConfig as Istio keeps it.
    config.client.configMaps().inNamespace("istio-system").resource(new ConfigMapBuilder().withNewMetadata()
        .withName("istio").withNamespace("istio-system").endMetadata()
        .addToData("mesh", "trustDomain: external.example\n")
        .build()).create();
    kubeconfig = Files.createTempFile("weft-config-kubeconfig", ".yaml");
    Files.writeString(kubeconfig, config.kubeconfig("config-token"));
  }

  ControlPlane startControlPlane() throws Exception {
    ControlPlane plane = ControlPlane.start(ControlPlaneOptions.forConfigKubeconfig(kubeconfig)
        .withCluster("config", "").withPorts(0, 0)
        .withRemoteSecrets(null, null, Duration.ofSeconds(10)));
    clients = new Mesh(plane);
    return plane;
  }

  static final weft.registry.leader.LeaseTimings SHORT_LEASE = new weft.registry.leader.LeaseTimings(
      Duration.ofSeconds(3), Duration.ofMillis(1500), Duration.ofMillis(750));

  ControlPlane startInstance(String identity) throws Exception {
    return ControlPlane.start(ControlPlaneOptions.forConfigKubeconfig(kubeconfig).withCluster("config", "")
        .withPorts(0, 0).withRemoteSecrets(null, null, Duration.ofSeconds(10))
        .withLeader(new ControlPlaneOptions.Leader("weft-leader", SHORT_LEASE, identity)));
  }

  void addRemoteSecret(KubeCluster cluster) {
    Secret secret = config.client.getKubernetesSerialization().unmarshal(cluster.remoteSecret(cluster.id + "-token"),
        Secret.class);
    config.client.secrets().inNamespace("istio-system").resource(secret).create();
  }

  void deleteRemoteSecret(KubeCluster cluster) {
    config.client.secrets().inNamespace("istio-system").withName("istio-remote-secret-" + cluster.id).delete();
  }

  static ResourceDefinitionContext networking(String kind, String plural) {
    return new ResourceDefinitionContext.Builder().withGroup("networking.istio.io").withVersion("v1").withKind(kind)
        .withPlural(plural).withNamespaced(true).build();
  }

  /** A DestinationRule with a subset per cluster and a VirtualService sending all of reviews to one of them. */
  void pinReviewsTo(String clusterId) {
    GenericKubernetesResource rule = config.client.getKubernetesSerialization().unmarshal("""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews, namespace: default}
        spec:
          host: reviews.default.svc.cluster.local
          subsets:
          - {name: config, labels: {topology.istio.io/cluster: config}}
          - {name: cluster2, labels: {topology.istio.io/cluster: cluster2}}
          - {name: cluster3, labels: {topology.istio.io/cluster: cluster3}}
        """, GenericKubernetesResource.class);
    GenericKubernetesResource route = config.client.getKubernetesSerialization().unmarshal("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, namespace: default}
        spec:
          hosts: [reviews.default.svc.cluster.local]
          http:
          - route:
            - destination: {host: reviews.default.svc.cluster.local, subset: %s}
        """.formatted(clusterId), GenericKubernetesResource.class);
    config.client.genericKubernetesResources(networking("DestinationRule", "destinationrules"))
        .inNamespace("default").resource(rule).createOr(r -> r.update());
    config.client.genericKubernetesResources(networking("VirtualService", "virtualservices"))
        .inNamespace("default").resource(route).createOr(r -> r.update());
  }

  void unpinReviews() {
    config.client.genericKubernetesResources(networking("VirtualService", "virtualservices"))
        .inNamespace("default").withName("reviews").delete();
  }

  @AfterEach
  void stop() throws Exception {
    if (clients != null) clients.closeClients();
    if (cp != null) cp.close();
    for (Server s : servers) s.shutdownNow();
    for (KubeCluster c : List.of(config, c2, c3)) c.close();
  }

  ManagedChannel client(String clusterId, String host) {
    return clients.client("default", host, 9080, clusterId, "");
  }

  static void awaitAnswers(ManagedChannel client, Set<String> expected) {
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .until(() -> Mesh.spread(client, 60, Map.of()).keySet().equals(expected));
  }

  JsonNode status() throws Exception {
    return new ObjectMapper().readTree(clients.debugStatus());
  }

  @Test
  void configFromAnApiServerWithoutWorkloadsAndWorkloadsFromTwoRemoteSecretsReachClientsInBoth() throws Exception {
    cp = startControlPlane();
    ManagedChannel fromTwo = client("cluster2", REVIEWS);
    awaitAnswers(fromTwo, Set.of("c2", "c3"));
    awaitAnswers(client("cluster3", REVIEWS), Set.of("c2", "c3"));
    awaitAnswers(client("cluster2", "ratings.default.svc.cluster.local"), Set.of("c3-ratings"));
    // MeshConfig came from the config cluster's istio ConfigMap.
    assertThat(cp.registry().current().meshConfig().trustDomain()).isEqualTo("external.example");
    // Istio config comes from the config cluster alone.
    pinReviewsTo("cluster3");
    awaitAnswers(fromTwo, Set.of("c3"));
    unpinReviews();
    awaitAnswers(fromTwo, Set.of("c2", "c3"));

    JsonNode configCluster = status().path("configCluster");
    assertThat(configCluster.path("clusterId").asText()).isEqualTo("config");
    assertThat(configCluster.path("mode").asText()).isEqualTo("external");
    assertThat(configCluster.path("workloads").asBoolean()).isFalse();
    assertThat(cp.registry().current().clusters()).containsOnlyKeys("config", "cluster2", "cluster3");
    assertThat(cp.registry().current().clusters().get("config").endpoints()).isZero();
    JsonNode leader = status().path("leader");
    assertThat(leader.path("lease").asText()).isEqualTo("istio-system/weft-leader");
    await().atMost(Duration.ofSeconds(60)).until(() -> cp.leadership().isLeader());
  }

  @Test
  void aConfigClusterThatRunsWorkloadsAddsThemOnlyThroughARemoteSecretOfItsOwn() throws Exception {
    config.service("reviews", "default", 9080, port, List.of("127.0.1.1"));
    cp = startControlPlane();
    ManagedChannel reviews = client("cluster2", REVIEWS);
    // No local cluster: the config cluster's own Services are not read without its secret.
    awaitAnswers(reviews, Set.of("c2", "c3"));
    assertThat(Mesh.spread(reviews, 100, Map.of())).containsOnlyKeys("c2", "c3");

    addRemoteSecret(config);
    awaitAnswers(reviews, Set.of("config", "c2", "c3"));
    await().atMost(Duration.ofSeconds(30)).until(() -> status().path("configCluster").path("workloads").asBoolean());
    // Its config and its workloads are two feeds of one cluster: a route to its subset works.
    pinReviewsTo("config");
    awaitAnswers(reviews, Set.of("config"));
    awaitAnswers(client("config", REVIEWS), Set.of("config"));
    unpinReviews();
    awaitAnswers(reviews, Set.of("config", "c2", "c3"));

    // Deleting its secret withdraws its workloads and nothing else: its config keeps applying.
    deleteRemoteSecret(config);
    awaitAnswers(reviews, Set.of("c2", "c3"));
    pinReviewsTo("cluster3");
    awaitAnswers(reviews, Set.of("c3"));
    assertThat(cp.registry().current().clusters()).containsKey("config");
    assertThat(status().path("configCluster").path("workloads").asBoolean()).isFalse();
  }

  @Test
  void twoInstancesOnOneConfigClusterElectOneWriterAndHandOverWhenItStops() throws Exception {
    cp = startInstance("cp-one");
    clients = new Mesh(cp);
    try (ControlPlane other = startInstance("cp-two")) {
      await().atMost(Duration.ofSeconds(30)).until(() -> cp.leadership().isLeader() || other.leadership().isLeader());
      ControlPlane leader = cp.leadership().isLeader() ? cp : other;
      ControlPlane follower = leader == cp ? other : cp;
      assertThat(follower.leadership().isLeader()).isFalse();
      String leaderId = leader.leadership().status().identity();
      await().atMost(Duration.ofSeconds(30)).until(() -> leaderId.equals(follower.leadership().status().holder()));
      // /debug/status names this instance, the holder and since when.
      JsonNode status = status().path("leader");
      assertThat(status.path("identity").asText()).isEqualTo("cp-one");
      assertThat(status.path("holder").asText()).isEqualTo(leaderId);
      assertThat(status.path("holderSince").asText()).isNotEmpty();
      assertThat(status.path("leader").asBoolean()).isEqualTo(leader == cp);
      // Both serve the same workloads all along.
      awaitAnswers(client("cluster2", REVIEWS), Set.of("c2", "c3"));

      long stopped = System.nanoTime();
      leader.close();
      await().atMost(SHORT_LEASE.leaseDuration().plus(SHORT_LEASE.retryPeriod())).until(
          () -> follower.leadership().isLeader());
      assertThat(Duration.ofNanos(System.nanoTime() - stopped))
          .isLessThanOrEqualTo(SHORT_LEASE.leaseDuration().plus(SHORT_LEASE.retryPeriod()));
    }
  }
}
