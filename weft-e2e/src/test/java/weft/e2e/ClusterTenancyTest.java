package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
import weft.xds.TypeUrls;

/**
 * The seed's cluster tenancy: each team has its own cluster and its own control plane (a primary
 * whose config cluster is the team's cluster), and discovers the other team's endpoints through a
 * remote secret. A team's VirtualServices and DestinationRules, kept in its own cluster, apply to
 * the proxies its control plane serves and to no other team's; a service that only the other team
 * runs is still reachable.
 */
class ClusterTenancyTest {
  static final String ECHO = "echo.default.svc.cluster.local";
  static final String RATINGS = "ratings.default.svc.cluster.local";
  static final String ROUTE = "9080";
  KubeCluster teamA;
  KubeCluster teamB;
  ControlPlane cpA;
  ControlPlane cpB;
  Mesh clientsA;
  Mesh clientsB;
  final List<Server> servers = new ArrayList<>();
  final List<AutoCloseable> streams = new ArrayList<>();
  final List<Path> temporary = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    teamA = new KubeCluster("cluster-a");
    teamB = new KubeCluster("cluster-b");
    int port = Mesh.freePort();
    for (String[] e : new String[][] {{"a-echo", "127.0.1.1"}, {"b-echo", "127.0.2.1"}, {"b-ratings", "127.0.2.2"}}) {
      servers.add(NettyServerBuilder.forAddress(new InetSocketAddress(e[1], port))
          .addService(EchoService.named(e[0])).build().start());
    }
    // echo runs in both clusters; ratings only in team B's.
    teamA.service("echo", "default", 9080, port, List.of("127.0.1.1"));
    teamB.service("echo", "default", 9080, port, List.of("127.0.2.1"));
    teamB.service("ratings", "default", 9080, port, List.of("127.0.2.2"));
    cpA = primary(teamA, teamB);
    cpB = primary(teamB, teamA);
    clientsA = new Mesh(cpA);
    clientsB = new Mesh(cpB);
  }

  /** A primary for {@code own} (its config and local cluster) with a remote secret for {@code other}. */
  ControlPlane primary(KubeCluster own, KubeCluster other) throws Exception {
    Path kubeconfig = Files.createTempFile("weft-kubeconfig-" + own.id, ".yaml");
    Path secrets = Files.createTempDirectory("weft-secrets-" + own.id);
    Path state = Files.createTempDirectory("weft-state-" + own.id);
    temporary.addAll(List.of(kubeconfig, secrets, state));
    Files.writeString(kubeconfig, own.kubeconfig(own.id + "-token"));
    Path tmp = secrets.resolve("." + other.id + ".tmp");
    Files.writeString(tmp, other.remoteSecret(other.id + "-reader-token"));
    Files.move(tmp, secrets.resolve(other.id + ".yaml"), StandardCopyOption.ATOMIC_MOVE);
    return ControlPlane.start(ControlPlaneOptions.forKubeconfig(kubeconfig).withCluster(own.id, "").withPorts(0, 0)
        .withRemoteSecrets(secrets, state, Duration.ofSeconds(10)));
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable s : streams) s.close();
    for (Mesh m : new Mesh[] {clientsA, clientsB}) if (m != null) m.close();
    for (Server s : servers) s.shutdownNow();
    for (KubeCluster c : new KubeCluster[] {teamA, teamB}) if (c != null) c.close();
    for (Path p : temporary) {
      try (var files = Files.walk(p)) {
        for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
      }
    }
  }

  static void awaitAnswers(ManagedChannel client, Map<String, String> headers, Set<String> expected) {
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .until(() -> Mesh.spread(client, 40, headers).keySet().equals(expected));
  }

  static void apply(KubeCluster cluster, String yaml) {
    GenericKubernetesResource r = cluster.client.getKubernetesSerialization().unmarshal(yaml,
        GenericKubernetesResource.class);
    String plural = r.getKind().equals("VirtualService") ? "virtualservices" : "destinationrules";
    cluster.client.genericKubernetesResources(ExternalControlPlaneTest.networking(r.getKind(), plural))
        .inNamespace("default").resource(r).createOr(x -> x.update());
  }

  /** Team A: a fault for callers that send x-team-a-fault, everything else kept to team A's cluster. */
  static final String TEAM_A_RULE = """
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: echo-team-a, namespace: default}
      spec:
        host: echo.default.svc.cluster.local
        subsets: [{name: team-a-only, labels: {topology.istio.io/cluster: cluster-a}}]
      """;
  static final String TEAM_A_ROUTES = """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: echo-team-a, namespace: default}
      spec:
        hosts: [echo.default.svc.cluster.local]
        http:
        - match: [{headers: {x-team-a-fault: {exact: "yes"}}}]
          fault: {abort: {grpcStatus: RESOURCE_EXHAUSTED, percentage: {value: 100}}}
          route: [{destination: {host: echo.default.svc.cluster.local}}]
        - route: [{destination: {host: echo.default.svc.cluster.local, subset: team-a-only}}]
      """;
  /** Team B: callers that send x-team-b go to ratings, everything else kept to team B's cluster. */
  static final String TEAM_B_RULE = """
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: echo-team-b, namespace: default}
      spec:
        host: echo.default.svc.cluster.local
        subsets: [{name: team-b-only, labels: {topology.istio.io/cluster: cluster-b}}]
      """;
  static final String TEAM_B_ROUTES = """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: echo-team-b, namespace: default}
      spec:
        hosts: [echo.default.svc.cluster.local]
        http:
        - match: [{headers: {x-team-b: {exact: "yes"}}}]
          route: [{destination: {host: ratings.default.svc.cluster.local}}]
        - route: [{destination: {host: echo.default.svc.cluster.local, subset: team-b-only}}]
      """;

  @Test
  void eachTeamsConfigAppliesOnlyToItsOwnClusterAndTheOtherTeamsServiceStaysReachable() throws Exception {
    ManagedChannel echoFromA = clientsA.client("default", ECHO, 9080, "cluster-a", "");
    ManagedChannel echoFromB = clientsB.client("default", ECHO, 9080, "cluster-b", "");
    // Each control plane discovers the other cluster's endpoints through its remote secret.
    awaitAnswers(echoFromA, Map.of(), Set.of("a-echo", "b-echo"));
    awaitAnswers(echoFromB, Map.of(), Set.of("a-echo", "b-echo"));
    // A service only team B runs is reachable from team A's cluster.
    awaitAnswers(clientsA.client("default", RATINGS, 9080, "cluster-a", ""), Map.of(), Set.of("b-ratings"));

    apply(teamA, TEAM_A_RULE);
    apply(teamA, TEAM_A_ROUTES);
    awaitAnswers(echoFromA, Map.of(), Set.of("a-echo"));
    await().atMost(Duration.ofSeconds(60)).until(() -> abortedWith(echoFromA, Map.of("x-team-a-fault", "yes"))
        == Status.Code.RESOURCE_EXHAUSTED);
    apply(teamB, TEAM_B_RULE);
    apply(teamB, TEAM_B_ROUTES);
    awaitAnswers(echoFromB, Map.of(), Set.of("b-echo"));
    awaitAnswers(echoFromB, Map.of("x-team-b", "yes"), Set.of("b-ratings"));

    // Both teams' config is now in force, each in its own cluster only: team A's fault never hits
    // team B's callers, team B's header route and subset never reach team A's.
    assertThat(Mesh.spread(echoFromB, 100, Map.of("x-team-a-fault", "yes"))).containsOnlyKeys("b-echo");
    assertThat(Mesh.spread(echoFromA, 100, Map.of("x-team-b", "yes"))).containsOnlyKeys("a-echo");
    assertThat(Mesh.spread(echoFromA, 100, Map.of())).containsOnlyKeys("a-echo");
    assertThatThrownBy(() -> Mesh.call(echoFromA, Map.of("x-team-a-fault", "yes")))
        .isInstanceOf(StatusRuntimeException.class)
        .satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getCode())
            .isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
    // Each control plane holds its own team's config and nothing read through the remote secret.
    assertThat(configNames(cpA)).containsExactlyInAnyOrder("VirtualService/echo-team-a", "DestinationRule/echo-team-a");
    assertThat(configNames(cpB)).containsExactlyInAnyOrder("VirtualService/echo-team-b", "DestinationRule/echo-team-b");
    assertThat(cpA.registry().current().clusters().get("cluster-b").synced()).isTrue();
    assertThat(cpB.registry().current().clusters().get("cluster-a").synced()).isTrue();
    // The shared service from the other cluster is still reachable from team A's cluster.
    awaitAnswers(clientsA.client("default", RATINGS, 9080, "cluster-a", ""), Map.of(), Set.of("b-ratings"));

    // What each control plane sends an Envoy sidecar of its cluster: its own team's route and
    // subset, nothing of the other team's.
    Map<String, String> sentInA = sent(cpA, "cluster-a", "x-team-a-fault");
    Map<String, String> sentInB = sent(cpB, "cluster-b", "x-team-b");
    assertThat(sentInA.keySet()).contains("outbound|9080|team-a-only|" + ECHO, "outbound|9080||" + RATINGS);
    assertThat(sentInB.keySet()).contains("outbound|9080|team-b-only|" + ECHO);
    // The marks searched for below are there on the side that owns them, so a leak would show.
    assertThat(String.join("", sentInA.keySet()) + String.join("", sentInA.values()))
        .contains("x-team-a-fault", "team-a-only");
    assertThat(String.join("", sentInB.keySet()) + String.join("", sentInB.values()))
        .contains("x-team-b", "team-b-only");
    for (Map.Entry<String, String> r : sentInA.entrySet()) {
      assertThat(r.getKey() + r.getValue()).as("sent in cluster-a: " + r.getKey())
          .doesNotContain("x-team-b", "team-b-only");
    }
    for (Map.Entry<String, String> r : sentInB.entrySet()) {
      assertThat(r.getKey() + r.getValue()).as("sent in cluster-b: " + r.getKey())
          .doesNotContain("x-team-a-fault", "team-a-only");
    }
    // Team B's endpoints reach team A's sidecar (ratings has its one endpoint, in cluster B).
    assertThat(sentInA.get("outbound|9080||" + RATINGS)).contains("127.0.2.2");
  }

  static List<String> configNames(ControlPlane cp) {
    var config = cp.registry().current().config();
    List<String> names = new ArrayList<>();
    config.virtualServices().forEach(v -> names.add("VirtualService/" + v.id().name()));
    config.destinationRules().forEach(d -> names.add("DestinationRule/" + d.id().name()));
    return names;
  }

  static Status.Code abortedWith(ManagedChannel client, Map<String, String> headers) {
    try {
      Mesh.call(client, headers);
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  /**
   * Listeners, clusters, the outbound route table of port 9080 and every EDS cluster's endpoints
   * sent to a sidecar of {@code clusterId}, once its route table names {@code ownHeader}: name to
   * the resource's bytes as text.
   */
  Map<String, String> sent(ControlPlane cp, String clusterId, String ownHeader) {
    AdsStream s = new AdsStream(cp.xdsPort(), AdsStream.node("app-1", "default", "127.0.9.9", clusterId, "", "", false));
    streams.add(s);
    s.request(TypeUrls.CLUSTER);
    s.request(TypeUrls.LISTENER);
    s.request(TypeUrls.ROUTE, ROUTE);
    await().atMost(Duration.ofSeconds(60)).until(() -> s.all(TypeUrls.CLUSTER).containsKey("outbound|9080||" + RATINGS)
        && !s.all(TypeUrls.LISTENER).isEmpty() && s.all(TypeUrls.ROUTE).containsKey(ROUTE)
        && s.all(TypeUrls.ROUTE).get(ROUTE).getValue().toStringUtf8().contains(ownHeader));
    List<String> eds = new ArrayList<>();
    for (var c : s.all(TypeUrls.CLUSTER).values()) {
      var cluster = NamespaceTenancyTest.unpack(c, io.envoyproxy.envoy.config.cluster.v3.Cluster.class);
      if (cluster.getType() == io.envoyproxy.envoy.config.cluster.v3.Cluster.DiscoveryType.EDS) {
        eds.add(cluster.getName());
      }
    }
    s.request(TypeUrls.ENDPOINT, eds.toArray(String[]::new));
    await().atMost(Duration.ofSeconds(60)).until(() -> s.all(TypeUrls.ENDPOINT).keySet().containsAll(eds));
    Map<String, String> out = new java.util.TreeMap<>();
    for (String type : List.of(TypeUrls.LISTENER, TypeUrls.CLUSTER, TypeUrls.ROUTE, TypeUrls.ENDPOINT)) {
      s.all(type).forEach((name, any) -> out.merge(name, any.getValue().toStringUtf8(), String::concat));
    }
    return out;
  }
}
