package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.NameResolverRegistry;
import io.grpc.Server;
import io.grpc.xds.XdsChannelCredentials;
import io.grpc.xds.XdsNameResolverProvider;
import io.grpc.xds.XdsServerBuilder;
import io.grpc.xds.XdsServerCredentials;
import io.grpc.xds.internal.security.certprovider.FileWatcherCertificateProviderProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import weft.agent.WorkloadIdentity;
import weft.agent.bootstrap.XdsBootstrap;
import weft.agent.bootstrap.XdsTransport;
import weft.agent.cert.CaClient;
import weft.agent.cert.CertificateFiles;
import weft.agent.cert.CertificateManager;
import weft.agent.cert.TrustDomainRoots;
import weft.agent.cert.TrustRoots;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;
import weft.gateway.Gateway;
import weft.gateway.GatewayOptions;
import weft.security.ca.CaStore;
import weft.security.ca.CertificateAuthority;
import weft.security.ca.Pem;

/**
 * The seed's "Mesh models" with two meshes on loopback: two control planes, two roots, two trust
 * domains, federated both ways (TrustDomainFederation for the roots, MeshFederation for the
 * services). Mesh 2 exports its {@code default/c} to mesh 1 by label; mesh 1's proxyless client
 * calls it as {@code c.default.svc.mesh2.global} through mesh 2's east-west gateway (weft gateway)
 * with mTLS end to end, and mesh 2's server sees mesh 1's SPIFFE id. Mesh 1's own {@code default/c}
 * stays its own, mesh 2's unexported service is not imported, and removing the label withdraws the
 * import.
 *
 * <p>Foreign roots are validated per trust domain with grpc-java's SPIFFE bundle map (gRFC A87),
 * which grpc-java 1.85 uses only when {@code GRPC_EXPERIMENTAL_XDS_MTLS_SPIFFE} was set when its
 * file-watcher provider loaded; the flag's field is read each time a provider is made, so this test
 * sets it for its own duration and puts it back.
 */
class SeveralMeshesTest {
  static final String TD1 = "mesh1.example";
  static final String TD2 = "mesh2.example";
  final List<AutoCloseable> closeables = new ArrayList<>();
  final List<ManagedChannel> channels = new ArrayList<>();
  final List<Server> servers = new ArrayList<>();
  boolean spiffeBefore;

  @BeforeEach
  void spiffeMap() {
    spiffeBefore = FileWatcherCertificateProviderProvider.enableSpiffe;
    FileWatcherCertificateProviderProvider.enableSpiffe = true;
  }

  @AfterEach
  void stop() throws Exception {
    channels.forEach(ManagedChannel::shutdownNow);
    servers.forEach(Server::shutdownNow);
    for (AutoCloseable c : closeables) c.close();
    FileWatcherCertificateProviderProvider.enableSpiffe = spiffeBefore;
  }

  @Test
  void meshOneCallsMeshTwosExportedServiceByItsMeshQualifiedNameThroughMeshTwosGateway() throws Exception {
    Path work = Files.createTempDirectory("weft-meshes");
    // Two roots made beforehand, so each mesh's federation config can carry the other's bootstrap bundle.
    CertificateAuthority ca1 = CaStore.loadOrCreate(work.resolve("ca1"), TD1, Clock.systemUTC());
    CertificateAuthority ca2 = CaStore.loadOrCreate(work.resolve("ca2"), TD2, Clock.systemUTC());
    Path root1 = Files.writeString(work.resolve("mesh1-root.pem"), Pem.encode(ca1.roots()));
    Path root2 = Files.writeString(work.resolve("mesh2-root.pem"), Pem.encode(ca2.roots()));
    int bundle1 = Mesh.freePort();
    int bundle2 = Mesh.freePort();
    int gatewayPort = Mesh.freePort();
    int c1Port = Mesh.freePort();
    int c2Port = Mesh.freePort();

    // Mesh 2: c (exported to mesh1), hidden (not exported), its east-west gateway, federation with mesh 1.
    Path config2 = Files.createDirectories(work.resolve("config2"));
    Files.writeString(config2.resolve("c.yaml"), workload("c", c2Port, "network-2", "weft.io/export-to: mesh1"));
    Files.writeString(config2.resolve("hidden.yaml"), workload("hidden", Mesh.freePort(), "network-2", null));
    Files.writeString(config2.resolve("gateway.yaml"), eastWestGateway(gatewayPort) + STRICT);
    Files.writeString(config2.resolve("federation.yaml"), federation(TD1, bundle1, ca1, "mesh1", List.of()));
    ControlPlane cp2 = controlPlane(work, "2", config2, TD2, "mesh2", bundle2);

    // Mesh 1: its own c, and federation with mesh 2 whose services come through 127.0.0.3:gatewayPort.
    Path config1 = Files.createDirectories(work.resolve("config1"));
    Files.writeString(config1.resolve("c.yaml"), workload("c", c1Port, null, null) + "---\n" + STRICT);
    Files.writeString(config1.resolve("federation.yaml"), federation(TD2, bundle2, ca2, "mesh2",
        List.of("127.0.0.3:" + gatewayPort)));
    ControlPlane cp1 = controlPlane(work, "1", config1, TD1, "mesh1", bundle1);

    // Mesh 1 imports c under its mesh-qualified name; hidden is not exported, so not imported.
    String imported = "c.default.svc.mesh2.global";
    await().atMost(Duration.ofSeconds(60)).until(() -> cp1.registry().current().service(imported) != null);
    assertThat(cp1.registry().current().service("hidden.default.svc.mesh2.global")).isNull();
    assertThat(cp1.registry().current().services().keySet()).noneMatch(h -> h.startsWith("hidden."));
    assertThat(cp1.registry().current().service("c.default.svc.cluster.local").endpoints())
        .as("mesh 1's own c keeps its own endpoint").extracting(e -> e.port()).containsExactly(c1Port);

    // Workloads: mesh 2's c and gateway, mesh 1's own c and its client.
    servers.add(server(cp2, TD2, "c", c2Port, "network-2", Map.of(TD1, root1), "mesh2-c"));
    Gateway gateway = Gateway.start(GatewayOptions.defaults("localhost:" + cp2.xdsPort(), "eastwest-1", "127.0.0.3")
        .withCluster("cluster1", "network-2").withListen("127.0.0.3", gatewayPort).withXdsListenerPort(15443)
        .withHealthPort(0));
    closeables.add(0, gateway);
    servers.add(server(cp1, TD1, "c", c1Port, "", Map.of(TD2, root2), "mesh1-c"));
    CertificateManager frontend = certificates(cp1, TD1, "frontend", Map.of(TD2, root2));
    String caller = "spiffe://" + TD1 + "/ns/default/sa/frontend";

    ManagedChannel remote = client(cp1, frontend, imported + ":9080");
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .until(() -> IdentityAndTrustTest.call(remote).equals("mesh2-c|" + caller));
    for (int i = 0; i < 20; i++) assertThat(IdentityAndTrustTest.call(remote)).isEqualTo("mesh2-c|" + caller);
    assertThat(gateway.stats().total()).as("connections through mesh 2's gateway").isPositive();

    ManagedChannel local = client(cp1, frontend, "c.default.svc.cluster.local:9080");
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
        .until(() -> IdentityAndTrustTest.call(local).equals("mesh1-c|" + caller));

    // Status: mesh ids, the import with its foreign identity, and mesh 2's reason for exporting.
    assertThat(cp1.status().get("meshId")).isEqualTo("mesh1");
    assertThat(String.valueOf(cp1.status().get("meshes"))).contains(imported, "spiffe://" + TD2 + "/ns/default/sa/c");
    assertThat(String.valueOf(cp2.status().get("meshes"))).contains("Service default/c", "weft.io/export-to=mesh1");

    // The proxy's MESH_ID in status, the mesh id as a metric label.
    assertThat(String.valueOf(cp1.status().get("proxies"))).contains("meshId=mesh1");
    java.net.http.HttpResponse<String> metrics = java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://localhost:" + cp1.monitoringPort() + "/metrics"))
            .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(metrics.body()).contains("weft_mesh_id{mesh_id=\"mesh1\",trust_domain=\"" + TD1 + "\"}",
        "weft_mesh_imported_services{peer_mesh_id=\"mesh2\"} 1.0");

    // The CLI: what mesh 2 exports to mesh 1 and why; what mesh 1 imports.
    String[] exported = weft("mesh", "export", "--peer", "mesh1", "--control-plane", "localhost:" + cp2.monitoringPort());
    assertThat(exported[0]).isEqualTo("0");
    assertThat(exported[1]).contains("EXPORTED c.default.svc.cluster.local",
        "because Service default/c has weft.io/export-to=mesh1", "spiffe://" + TD2 + "/ns/default/sa/c")
        .doesNotContain("hidden");
    String[] peers = weft("mesh", "peers", "--control-plane", "localhost:" + cp1.monitoringPort());
    assertThat(peers[1]).contains("imported " + imported + " -> c.default.svc.cluster.local via 127.0.0.3:"
        + gatewayPort);
    assertThat(weft("mesh", "export", "--peer", "mesh9", "--control-plane", "localhost:" + cp2.monitoringPort())[0])
        .isNotEqualTo("0");

    // Removing the label withdraws the import within the refresh interval (1 s here, plus the file watch).
    long start = System.nanoTime();
    Files.writeString(config2.resolve("c.yaml"), workload("c", c2Port, "network-2", null));
    await().atMost(Duration.ofSeconds(30)).until(() -> cp1.registry().current().service(imported) == null);
    System.out.printf("import withdrawn %d ms after the export label was removed%n",
        (System.nanoTime() - start) / 1_000_000);
  }

  /** Runs a weft command in-process: its exit code and what it printed. */
  static String[] weft(String... args) {
    java.io.StringWriter out = new java.io.StringWriter();
    picocli.CommandLine cl = new picocli.CommandLine(new weft.cli.Main());
    cl.setOut(new java.io.PrintWriter(out, true));
    cl.setErr(new java.io.PrintWriter(new java.io.StringWriter(), true));
    int exit = cl.execute(args);
    return new String[] {String.valueOf(exit), out.toString()};
  }

  ControlPlane controlPlane(Path work, String n, Path config, String trustDomain, String meshId, int bundlePort)
      throws Exception {
    Path mesh = Files.writeString(work.resolve("mesh" + n + ".yaml"),
        "trustDomain: " + trustDomain + "\ndefaultConfig:\n  meshId: " + meshId + "\n");
    Path tokens = Files.writeString(work.resolve("tokens" + n + ".yaml"), """
        - {token: t-c, namespace: default, serviceAccount: c}
        - {token: t-frontend, namespace: default, serviceAccount: frontend}
        """);
    ControlPlaneOptions.Federation f = ControlPlaneOptions.Federation.DEFAULTS
        .withBundleEndpoint(bundlePort, weft.security.federation.BundleEndpointProfile.HTTPS_SPIFFE, null)
        .withMeshImports(Duration.ofSeconds(1), "global");
    ControlPlane cp = ControlPlane.start(ControlPlaneOptions.forConfigDir(config).withPorts(0, 0).withMeshConfig(mesh)
        .withCa(new ControlPlaneOptions.Ca(work.resolve("ca" + n), tokens, 0).withSelfSignedRoot(true))
        .withFederation(f));
    closeables.add(cp);
    return cp;
  }

  CertificateManager certificates(ControlPlane cp, String trustDomain, String serviceAccount, Map<String, Path> peers)
      throws Exception {
    CaClient ca = new CaClient("localhost:" + cp.securePort(), "istiod.istio-system.svc", TrustRoots.of(cp.ca().roots()),
        () -> "t-" + serviceAccount, "cluster1");
    closeables.add(0, ca);
    ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    closeables.add(scheduler::shutdownNow);
    CertificateFiles files = new CertificateFiles(Files.createTempDirectory("weft-certs-" + serviceAccount),
        new TrustDomainRoots(trustDomain, List.of(), peers));
    CertificateManager m = CertificateManager.builder(new weft.security.SpiffeId(trustDomain, "default", serviceAccount),
        ca, TrustRoots.of(cp.ca().roots()), files).ttl(Duration.ofHours(1)).scheduler(scheduler).build();
    closeables.add(0, m);
    m.start();
    m.awaitFirstCertificate(Duration.ofSeconds(120));
    return m;
  }

  Map<String, Object> bootstrap(ControlPlane cp, String trustDomain, String serviceAccount, String network,
      CertificateManager certs) {
    CertificateFiles f = certs.files();
    return XdsBootstrap.builder().xdsServer("localhost:" + cp.xdsPort(), XdsTransport.PLAINTEXT)
        .identity(WorkloadIdentity.builder().trustDomain(trustDomain).namespace("default").serviceAccount(serviceAccount)
            .podName(serviceAccount + "-1").ip("127.0.0.1").clusterId("cluster1").network(network)
            .labels(serviceAccount.equals("frontend") ? Map.of("app", "frontend")
                : Map.of("app", serviceAccount, "security.istio.io/tlsMode", "istio"))
            .build())
        .certificateFiles(f.certificateChainFile(), f.privateKeyFile(), f.rootCertificateFile())
        .spiffeTrustBundleMapFile(f.spiffeBundleMapFile())
        .metadata("MESH_ID", trustDomain.equals(TD1) ? "mesh1" : "mesh2")
        .refreshInterval(Duration.ofSeconds(1)).build().toMap();
  }

  Server server(ControlPlane cp, String trustDomain, String serviceAccount, int port, String network,
      Map<String, Path> peers, String name) throws Exception {
    CertificateManager certs = certificates(cp, trustDomain, serviceAccount, peers);
    return XdsServerBuilder.forPort(port, XdsServerCredentials.create(InsecureServerCredentials.create()))
        .overrideBootstrapForTest(bootstrap(cp, trustDomain, serviceAccount, network, certs))
        .addService(IdentityAndTrustTest.whoCalls(name))
        .build()
        .start();
  }

  ManagedChannel client(ControlPlane cp, CertificateManager certs, String target) {
    String scheme = "xds-meshes-" + IdentityAndTrustTest.SCHEMES.incrementAndGet();
    NameResolverRegistry.getDefaultRegistry().register(XdsNameResolverProvider.createForTest(scheme,
        bootstrap(cp, TD1, "frontend", "", certs)));
    ManagedChannel ch = Grpc.newChannelBuilder(scheme + ":///" + target,
        XdsChannelCredentials.create(InsecureChannelCredentials.create())).build();
    channels.add(ch);
    return ch;
  }

  /** A Service on 9080 with one pod (service account = name) at 127.0.0.1:{@code port}. */
  static String workload(String name, int port, String network, String serviceLabel) {
    return """
        apiVersion: v1
        kind: Service
        metadata:
          name: %1$s
          namespace: default
          labels: {app: %1$s%4$s}
        spec:
          selector: {app: %1$s}
          clusterIP: 10.96.7.%5$d
          ports: [{name: grpc, port: 9080, targetPort: %2$d}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: %1$s-1, namespace: default, labels: {kubernetes.io/service-name: %1$s}}
        addressType: IPv4
        ports: [{name: grpc, port: %2$d}]
        endpoints:
        - addresses: ["127.0.0.1"]
          targetRef: {kind: Pod, name: %1$s-1}
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: %1$s-1
          namespace: default
          labels: {app: %1$s, security.istio.io/tlsMode: istio%3$s}
        spec: {serviceAccountName: %1$s}
        status: {podIP: 127.0.0.1, phase: Running}
        """.formatted(name, port, network == null ? "" : ", topology.istio.io/network: " + network,
        serviceLabel == null ? "" : ", " + serviceLabel, Math.abs(name.hashCode() % 200) + 10);
  }

  static final String STRICT = """
      ---
      apiVersion: security.istio.io/v1
      kind: PeerAuthentication
      metadata: {name: default, namespace: istio-system}
      spec:
        mtls: {mode: STRICT}
      """;

  /** Mesh 2's east-west gateway at 127.0.0.3:{@code port}, passing mTLS through by SNI. */
  static String eastWestGateway(int port) {
    return """
        apiVersion: v1
        kind: Service
        metadata:
          name: istio-eastwestgateway
          namespace: istio-system
          labels: {topology.istio.io/network: network-2, networking.istio.io/gatewayPort: "%d", istio: eastwestgateway}
        spec:
          externalIPs: [127.0.0.3]
          ports: [{name: tls, port: 15443}]
        ---
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: cross-network-gateway, namespace: istio-system}
        spec:
          selector: {istio: eastwestgateway}
          servers:
          - port: {number: 15443, name: tls, protocol: TLS}
            tls: {mode: AUTO_PASSTHROUGH}
            hosts: ["*.local"]
        """.formatted(port);
  }

  /** The peer's roots (TrustDomainFederation) and its services (MeshFederation). */
  static String federation(String peerTrustDomain, int peerBundlePort, CertificateAuthority peerCa, String peerMeshId,
      List<String> gateways) {
    return """
        apiVersion: weft.dev/v1alpha1
        kind: TrustDomainFederation
        metadata: {name: %1$s}
        spec:
          trustDomain: %2$s
          bundleEndpointURL: https://127.0.0.1:%3$d/
          bundleEndpointProfile:
            type: https_spiffe
            endpointSPIFFEID: spiffe://%2$s/ns/istio-system/sa/istiod
          trustDomainBundle: |
        %4$s
        ---
        apiVersion: weft.dev/v1alpha1
        kind: MeshFederation
        metadata: {name: %1$s}
        spec:
          meshId: %1$s
          trustDomain: %2$s
          federationAddress: https://127.0.0.1:%3$d/
          gateways: [%5$s]
        """.formatted(peerMeshId, peerTrustDomain, peerBundlePort, Pem.encode(peerCa.roots()).indent(4).stripTrailing(),
        String.join(", ", gateways.stream().map(g -> "\"" + g + "\"").toList()));
  }
}
