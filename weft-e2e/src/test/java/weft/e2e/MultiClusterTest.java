package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.StatusRuntimeException;
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
 * The seed's "Multiple clusters" and "Endpoint discovery with multiple control planes": a
 * control plane for cluster 1 (its Kubernetes API the config cluster) discovers clusters 2 and 3
 * through remote secrets; proxyless clients in cluster 1 and cluster 2 call across them.
 */
class MultiClusterTest {
  static final String REVIEWS = "reviews.default.svc.cluster.local";
  KubeCluster c1;
  KubeCluster c2;
  KubeCluster c3;
  Path secrets;
  Path state;
  Path kubeconfig;
  int port;
  ControlPlane cp;
  Mesh clients;
  final List<Server> servers = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    c1 = new KubeCluster("cluster1");
    c2 = new KubeCluster("cluster2");
    c3 = new KubeCluster("cluster3");
    secrets = Files.createTempDirectory("weft-secrets");
    state = Files.createTempDirectory("weft-state");
    kubeconfig = Files.createTempFile("weft-kubeconfig", ".yaml");
    Files.writeString(kubeconfig, c1.kubeconfig("local-token"));
    port = Mesh.freePort();
    for (String[] e : new String[][] {{"c1", "127.0.1.1"}, {"c2", "127.0.2.1"}, {"c2b", "127.0.2.2"},
        {"c3", "127.0.3.1"}, {"c3-ratings", "127.0.3.2"}, {"c1-dns", "127.0.1.3"}, {"c2-dns", "127.0.2.3"},
        {"c1-metrics", "127.0.1.4"}}) {
      servers.add(NettyServerBuilder.forAddress(new InetSocketAddress(e[1], port))
          .addService(EchoService.named(e[0])).build().start());
    }
    c1.service("reviews", "default", 9080, port, List.of("127.0.1.1"));
    c2.service("reviews", "default", 9080, port, List.of("127.0.2.1"));
    c3.service("reviews", "default", 9080, port, List.of("127.0.3.1"));
    c3.service("ratings", "default", 9080, port, List.of("127.0.3.2"));
    c1.service("dns", "kube-system", 9080, port, List.of("127.0.1.3"));
    c2.service("dns", "kube-system", 9080, port, List.of("127.0.2.3"));
    c1.service("metrics", "kube-system", 9080, port, List.of("127.0.1.4"));
    writeSecret(c2, "token-2");
    writeSecret(c3, "token-3");
    cp = startControlPlane();
  }

  ControlPlane startControlPlane() throws Exception {
    ControlPlane plane = ControlPlane.start(ControlPlaneOptions.forKubeconfig(kubeconfig).withPorts(0, 0)
        .withRemoteSecrets(secrets, state, Duration.ofSeconds(5)));
    clients = new Mesh(plane);
    return plane;
  }

  void writeSecret(KubeCluster cluster, String token) throws Exception {
    Path tmp = secrets.resolve("." + cluster.id + ".tmp");
    Files.writeString(tmp, cluster.remoteSecret(token));
    Files.move(tmp, secrets.resolve(cluster.id + ".yaml"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  @AfterEach
  void stop() throws Exception {
    if (clients != null) clients.closeClients();
    if (cp != null) cp.close();
    for (Server s : servers) s.shutdownNow();
    for (KubeCluster c : List.of(c1, c2, c3)) c.close();
  }

  ManagedChannel client(String clusterId, String host) {
    return clients.client("default", host, 9080, clusterId, "");
  }

  static void awaitAnswers(ManagedChannel client, Set<String> expected) {
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .until(() -> Mesh.spread(client, 60, Map.of()).keySet().equals(expected));
  }

  @Test
  void serviceInThreeClustersIsSpreadEvenlyAndOneOnlyInClusterThreeIsReachable() {
    ManagedChannel reviews = client("cluster1", REVIEWS);
    awaitAnswers(reviews, Set.of("c1", "c2", "c3"));
    Map<String, Integer> counts = Mesh.spread(reviews, 3000, Map.of());
    counts.values().forEach(n -> assertThat(n).isBetween(900, 1100));
    ManagedChannel ratings = client("cluster1", "ratings.default.svc.cluster.local");
    awaitAnswers(ratings, Set.of("c3-ratings"));
  }

  @Test
  void clientOfClusterTwoSeesItsOwnClusterLocalServiceAndNotClusterOnes() throws Exception {
    ManagedChannel dns = client("cluster2", "dns.kube-system.svc.cluster.local");
    awaitAnswers(dns, Set.of("c2-dns"));
    assertThat(Mesh.spread(dns, 100, Map.of())).containsOnlyKeys("c2-dns");
    ManagedChannel metrics = client("cluster2", "metrics.kube-system.svc.cluster.local");
    assertThatThrownBy(() -> Mesh.call(metrics)).isInstanceOf(StatusRuntimeException.class);
    assertThat(clients.debugStatus()).contains("cluster-local");
    awaitAnswers(client("cluster1", "metrics.kube-system.svc.cluster.local"), Set.of("c1-metrics"));
  }

  @Test
  void cutApiServerKeepsServingItsEndpointsAndResyncsWhatChangedMeanwhile() throws Exception {
    ManagedChannel reviews = client("cluster1", REVIEWS);
    awaitAnswers(reviews, Set.of("c1", "c2", "c3"));
    c2.proxy.cut();
    await().atMost(Duration.ofSeconds(60)).until(() -> cp.registry().current().clusters().get("cluster2").stale());
    assertThat(Mesh.spread(reviews, 300, Map.of())).containsOnlyKeys("c1", "c2", "c3");
    // A change made while the control plane cannot see it...
    c2.endpoints("reviews", "default", port, List.of("127.0.2.1", "127.0.2.2"));
    c2.proxy.open();
    // ...arrives once the connection is back.
    awaitAnswers(reviews, Set.of("c1", "c2", "c2b", "c3"));
    await().atMost(Duration.ofSeconds(60)).until(() -> !cp.registry().current().clusters().get("cluster2").stale());
  }

  @Test
  void restartWhileAnApiServerIsCutStillServesThatClustersEndpoints() throws Exception {
    ManagedChannel reviews = client("cluster1", REVIEWS);
    awaitAnswers(reviews, Set.of("c1", "c2", "c3"));
    // The state file is written shortly after changes; give it the time a real control plane has.
    await().atMost(Duration.ofSeconds(60)).until(() -> Files.list(state).count() >= 2);
    clients.closeClients();
    cp.close();
    c2.proxy.cut();
    cp = startControlPlane();
    assertThat(cp.registry().current().clusters().get("cluster2").stale()).isTrue();
    awaitAnswers(client("cluster1", REVIEWS), Set.of("c1", "c2", "c3"));
  }

  @Test
  void deletingASecretRemovesTheClusterAndARotatedTokenKeepsDiscoveryWorking() throws Exception {
    ManagedChannel reviews = client("cluster1", REVIEWS);
    awaitAnswers(reviews, Set.of("c1", "c2", "c3"));
    Files.delete(secrets.resolve("cluster3.yaml"));
    awaitAnswers(reviews, Set.of("c1", "c2"));
    writeSecret(c2, "rotated-token-2");
    c2.endpoints("reviews", "default", port, List.of("127.0.2.1", "127.0.2.2"));
    awaitAnswers(reviews, Set.of("c1", "c2", "c2b"));
  }

  @Test
  void withoutASecretNothingIsBalancedToThatClusterAndBadSecretsAreReportedAndIgnored() throws Exception {
    Files.delete(secrets.resolve("cluster3.yaml"));
    Files.writeString(secrets.resolve("broken.yaml"), "apiVersion: v1\nkind: Secret\nmetadata: {name: [\n");
    Files.writeString(secrets.resolve("exec.yaml"), """
        apiVersion: v1
        kind: Secret
        metadata:
          name: istio-remote-secret-cluster4
          namespace: istio-system
          labels: {istio/multiCluster: "true"}
        stringData:
          cluster4: |
            apiVersion: v1
            kind: Config
            clusters: [{name: c4, cluster: {server: "http://127.0.0.1:1"}}]
            contexts: [{name: c4, context: {cluster: c4, user: u}}]
            current-context: c4
            users: [{name: u, user: {exec: {command: /bin/sh, apiVersion: client.authentication.k8s.io/v1}}}]
        """);
    ManagedChannel reviews = client("cluster1", REVIEWS);
    awaitAnswers(reviews, Set.of("c1", "c2"));
    assertThat(Mesh.spread(reviews, 200, Map.of())).containsOnlyKeys("c1", "c2");
    await().atMost(Duration.ofSeconds(60)).until(() -> clients.debugStatus().contains("broken.yaml")
        && clients.debugStatus().contains("exec"));
    assertThat(cp.registry().current().clusters()).doesNotContainKeys("cluster3", "cluster4");
  }
}
