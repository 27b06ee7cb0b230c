package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
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
import weft.agent.AgentOptions;
import weft.agent.WeftAgent;
import weft.agent.WorkloadIdentity;
import weft.agent.bootstrap.XdsTransport;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;
import weft.demo.EchoService;
import weft.registry.McsSettings;
import weft.security.ca.Pem;

/**
 * Kubernetes Multi-Cluster Services (KEP-1645) across three fabric8 API servers: cluster 1's control
 * plane reads clusters 2 and 3 through remote secrets; {@code reviews} runs in all three and is
 * exported (ServiceExport) from clusters 2 and 3 only. Proxyless grpc-java clients call it by its
 * clusterset.local and cluster.local names; an agent answers DNS for it, asked with {@code dig}.
 */
class McsTest {
  static final String CLUSTERSET = "reviews.default.svc.clusterset.local";
  static final String LOCAL = "reviews.default.svc.cluster.local";
  static final Duration PATIENCE = Duration.ofSeconds(90);
  static final ResourceDefinitionContext EXPORTS = mcs("ServiceExport", "serviceexports");
  static final ResourceDefinitionContext IMPORTS = mcs("ServiceImport", "serviceimports");

  KubeCluster c1;
  KubeCluster c2;
  KubeCluster c3;
  Path secrets;
  Path kubeconfig;
  int port;
  ControlPlane cp;
  Mesh clients;
  final List<Server> servers = new ArrayList<>();
  final List<AutoCloseable> closeables = new ArrayList<>();

  static ResourceDefinitionContext mcs(String kind, String plural) {
    return new ResourceDefinitionContext.Builder().withGroup("multicluster.x-k8s.io").withVersion("v1alpha1")
        .withKind(kind).withPlural(plural).withNamespaced(true).build();
  }

  @BeforeEach
  void start() throws Exception {
    c1 = new KubeCluster("cluster1");
    c2 = new KubeCluster("cluster2");
    c3 = new KubeCluster("cluster3");
    secrets = Files.createTempDirectory("weft-mcs-secrets");
    kubeconfig = Files.createTempFile("weft-mcs-kubeconfig", ".yaml");
    Files.writeString(kubeconfig, c1.kubeconfig("local-token"));
    port = Mesh.freePort();
    for (String[] e : new String[][] {{"c1", "127.0.1.1"}, {"c2", "127.0.2.1"}, {"c3", "127.0.3.1"}}) {
      servers.add(NettyServerBuilder.forAddress(new InetSocketAddress(e[1], port))
          .addService(EchoService.named(e[0])).build().start());
    }
    c1.service("reviews", "default", 9080, port, List.of("127.0.1.1"));
    c2.service("reviews", "default", 9080, port, List.of("127.0.2.1"));
    c3.service("reviews", "default", 9080, port, List.of("127.0.3.1"));
    // The CRUD server assigns no cluster IPs: give each a VIP, or the clusterset service is headless.
    clusterIp(c1, "10.96.0.1");
    clusterIp(c2, "10.97.0.1");
    clusterIp(c3, "10.98.0.1");
    export(c2);
    export(c3);
    for (KubeCluster c : List.of(c2, c3)) {
      Path tmp = secrets.resolve("." + c.id + ".tmp");
      Files.writeString(tmp, c.remoteSecret("token-" + c.id));
      Files.move(tmp, secrets.resolve(c.id + ".yaml"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
  }

  void startControlPlane(McsSettings mcs) throws Exception {
    Path tokens = Files.createTempFile("weft-mcs-tokens", ".yaml");
    Files.writeString(tokens, "- {token: t-frontend, namespace: default, serviceAccount: frontend}\n");
    cp = ControlPlane.start(ControlPlaneOptions.forKubeconfig(kubeconfig).withPorts(0, 0)
        .withRemoteSecrets(secrets, Files.createTempDirectory("weft-mcs-state"), Duration.ofSeconds(30))
        .withCa(new ControlPlaneOptions.Ca(Files.createTempDirectory("weft-mcs-ca"), tokens, 0))
        .withMcs(mcs));
    clients = new Mesh(cp);
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closeables) c.close();
    if (clients != null) clients.closeClients();
    if (cp != null) cp.close();
    for (Server s : servers) s.shutdownNow();
    for (KubeCluster c : List.of(c1, c2, c3)) c.close();
  }

  static void clusterIp(KubeCluster cluster, String ip) {
    cluster.client.services().inNamespace("default").withName("reviews").edit(s ->
        new io.fabric8.kubernetes.api.model.ServiceBuilder(s).editSpec().withClusterIP(ip).endSpec().build());
  }

  static void export(KubeCluster cluster) {
    GenericKubernetesResource e = new GenericKubernetesResource();
    e.setApiVersion("multicluster.x-k8s.io/v1alpha1");
    e.setKind("ServiceExport");
    e.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName("reviews").withNamespace("default")
        .build());
    cluster.client.genericKubernetesResources(EXPORTS).inNamespace("default").resource(e).create();
  }

  ManagedChannel client(String clusterId, String host) {
    return clients.client("default", host, 9080, clusterId, "");
  }

  static void awaitAnswers(ManagedChannel client, Set<String> expected) {
    await().atMost(PATIENCE).ignoreExceptions()
        .until(() -> Mesh.spread(client, 60, Map.of()).keySet().equals(expected));
  }

  /** An agent of a workload in cluster 1 that answers DNS from the name table it gets over xDS. */
  WeftAgent agent() throws Exception {
    WorkloadIdentity frontend = WorkloadIdentity.builder().namespace("default").serviceAccount("frontend")
        .podName("frontend-1").ip("127.0.0.1").clusterId("cluster1").label("app", "frontend").build();
    WeftAgent agent = WeftAgent.startStandalone(AgentOptions.builder().identity(frontend)
        .caAddress("localhost:" + cp.securePort())
        .rootCertificatePem(Pem.encode(cp.ca().roots()).getBytes(StandardCharsets.US_ASCII))
        .token("t-frontend").outputDir(Files.createTempDirectory("weft-mcs-agent"))
        .startTimeout(Duration.ofSeconds(60))
        .xdsServer("localhost:" + cp.xdsPort(), XdsTransport.PLAINTEXT)
        .dnsPort(0).dnsUpstreams(List.of()).build());
    closeables.add(0, agent);
    return agent;
  }

  /** {@code dig +short NAME A} against the agent's DNS port: what any resolver would be told. */
  static List<String> dig(WeftAgent agent, String name) throws Exception {
    InetSocketAddress dns = agent.dns().orElseThrow().address();
    Process p = new ProcessBuilder("dig", "@" + dns.getAddress().getHostAddress(), "-p",
        String.valueOf(dns.getPort()), "+short", "+tries=1", "+time=5", name, "A").redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
    return out.lines().map(String::trim).filter(l -> !l.isEmpty()).toList();
  }

  static List<String> importedIps(KubeCluster cluster) {
    GenericKubernetesResource i = cluster.client.genericKubernetesResources(IMPORTS).inNamespace("default")
        .withName("reviews").get();
    if (i == null || !(i.getAdditionalProperties().get("spec") instanceof Map<?, ?> spec)) return List.of();
    return spec.get("ips") instanceof List<?> ips ? ips.stream().map(String::valueOf).toList() : List.of();
  }

  @SuppressWarnings("unchecked")
  static String condition(KubeCluster cluster, String type) {
    GenericKubernetesResource e = cluster.client.genericKubernetesResources(EXPORTS).inNamespace("default")
        .withName("reviews").get();
    if (e == null || !(e.getAdditionalProperties().get("status") instanceof Map<?, ?> status)) return null;
    if (!(status.get("conditions") instanceof List<?> conditions)) return null;
    for (Object c : conditions) {
      Map<String, Object> m = (Map<String, Object>) c;
      if (type.equals(m.get("type"))) return m.get("status") + "/" + m.get("reason");
    }
    return null;
  }

  @Test
  void theClustersetNameResolvesAndSpreadsOverTheExportingClustersOnlyUntilAnExportIsDeleted() throws Exception {
    startControlPlane(new McsSettings(true, true, false, true));
    WeftAgent agent = agent();
    // The leader writes a ServiceImport with the allocated VIP into every cluster; DNS answers it.
    await().atMost(PATIENCE).until(() -> !importedIps(c1).isEmpty());
    String vip = importedIps(c1).get(0);
    assertThat(importedIps(c2)).containsExactly(vip);
    assertThat(importedIps(c3)).containsExactly(vip);
    await().atMost(PATIENCE).ignoreExceptions().until(() -> dig(agent, CLUSTERSET + ".").equals(List.of(vip)));
    await().atMost(PATIENCE).until(() -> "True/ServiceExported".equals(condition(c2, "Valid")));
    await().atMost(PATIENCE).until(() -> "False/NoConflicts".equals(condition(c3, "Conflict")));

    ManagedChannel clusterset = client("cluster1", CLUSTERSET);
    awaitAnswers(clusterset, Set.of("c2", "c3"));
    Map<String, Integer> counts = Mesh.spread(clusterset, 600, Map.of());
    assertThat(counts).containsOnlyKeys("c2", "c3");
    counts.values().forEach(n -> assertThat(n).isBetween(200, 400));
    // --mcs: cluster.local reaches the caller's own cluster and the exporting ones; cluster 1 does
    // not export, so a client in cluster 2 never reaches it.
    awaitAnswers(client("cluster1", LOCAL), Set.of("c1", "c2", "c3"));
    ManagedChannel fromTwo = client("cluster2", LOCAL);
    awaitAnswers(fromTwo, Set.of("c2", "c3"));
    assertThat(Mesh.spread(fromTwo, 100, Map.of())).containsOnlyKeys("c2", "c3");

    c3.client.genericKubernetesResources(EXPORTS).inNamespace("default").withName("reviews").delete();
    awaitAnswers(clusterset, Set.of("c2"));
    assertThat(Mesh.spread(clusterset, 100, Map.of())).containsOnlyKeys("c2");
    awaitAnswers(fromTwo, Set.of("c2"));
  }

  @Test
  void conflictingPortsAreAConflictConditionAndAFindingInWeftStatus() throws Exception {
    startControlPlane(new McsSettings(true, true, false, true));
    await().atMost(PATIENCE).until(() -> "False/NoConflicts".equals(condition(c3, "Conflict")));
    // Cluster 3 now defines the Service's port otherwise; cluster 2's export is the older (or, in
    // the same second, the lower cluster id): its ports stand.
    c3.service("reviews", "default", 9081, port, List.of("127.0.3.1"));
    await().atMost(PATIENCE).until(() -> "True/PortConflict".equals(condition(c3, "Conflict")));
    assertThat(condition(c2, "Conflict")).isEqualTo("False/NoConflicts");
    java.io.StringWriter out = new java.io.StringWriter();
    int exit = new picocli.CommandLine(new weft.cli.Main()).setOut(new java.io.PrintWriter(out, true))
        .execute("status", "--control-plane", "127.0.0.1:" + cp.monitoringPort());
    assertThat(exit).isZero();
    assertThat(out.toString()).contains("ServiceExport default/reviews").contains("cluster cluster3")
        .contains("differ from those in cluster cluster2");
    // The clusterset name serves cluster 2's port; cluster 3's endpoints serve another port.
    awaitAnswers(client("cluster1", CLUSTERSET), Set.of("c2"));
  }

  @Test
  void withMcsClusterLocalTheClusterLocalNameStaysInTheCallersCluster() throws Exception {
    startControlPlane(new McsSettings(true, true, true, false));
    ManagedChannel local = client("cluster1", LOCAL);
    awaitAnswers(local, Set.of("c1"));
    assertThat(Mesh.spread(local, 100, Map.of())).containsOnlyKeys("c1");
    ManagedChannel fromThree = client("cluster3", LOCAL);
    awaitAnswers(fromThree, Set.of("c3"));
    awaitAnswers(client("cluster1", CLUSTERSET), Set.of("c2", "c3"));
    // Without --mcs-controller nothing is written into the clusters.
    assertThat(importedIps(c1)).isEmpty();
    assertThat(clients.debugStatus()).contains("--mcs-cluster-local keeps " + LOCAL);
    // A malformed ServiceImport from an API server is rejected alone, named with its field; the rest serves.
    GenericKubernetesResource broken = c2.client.getKubernetesSerialization().unmarshal("""
        apiVersion: multicluster.x-k8s.io/v1alpha1
        kind: ServiceImport
        metadata: {name: broken, namespace: default}
        spec: {type: ClusterSetIP, ips: ["not-an-ip"], ports: [{port: 80}]}
        """, GenericKubernetesResource.class);
    c2.client.genericKubernetesResources(IMPORTS).inNamespace("default").resource(broken).create();
    await().atMost(PATIENCE).until(() -> clients.debugStatus().contains("ServiceImport default/broken")
        && clients.debugStatus().contains("spec.ips[0]"));
    awaitAnswers(client("cluster1", CLUSTERSET), Set.of("c2", "c3"));
  }
}
