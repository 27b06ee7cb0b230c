package weft.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;
import weft.security.ca.CaStore;
import weft.security.ca.CertificateAuthority;
import weft.security.ca.Pem;
import weft.security.federation.BundleClient;
import weft.security.federation.BundleEndpointProfile;
import weft.security.federation.FederatedPeer;
import weft.security.federation.SpiffeBundle;

/**
 * Two control planes with their own CAs and trust domains on loopback: mesh 2 serves its bundle
 * (https_web), mesh 1 follows it through MeshConfig's spiffeBundleUrl and serves its own (https_spiffe).
 */
class MeshFederationTest {
  @TempDir Path tmp;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closeables) c.close();
  }

  private ControlPlane start(String name, Path meshConfig, ControlPlaneOptions.Federation federation)
      throws Exception {
    Path config = Files.createDirectories(tmp.resolve(name + "-config"));
    Path tokens = Files.writeString(tmp.resolve(name + "-tokens.yaml"),
        "- {token: t, namespace: default, serviceAccount: frontend}\n");
    ControlPlane cp = ControlPlane.start(ControlPlaneOptions.forConfigDir(config).withPorts(0, 0)
        .withMeshConfig(meshConfig)
        .withRemoteSecrets(null, tmp.resolve(name + "-state"), Duration.ofSeconds(5))
        .withCa(new ControlPlaneOptions.Ca(tmp.resolve(name + "-ca"), tokens, 0))
        .withFederation(federation));
    closeables.add(0, cp);
    return cp;
  }

  @Test
  void eachMeshFollowsTheOthersBundleAcrossARotationAndKeepsItWhenTheEndpointGoesAway() throws Exception {
    // A private Web PKI for mesh 2's https_web endpoint, as a public CA would issue it for "localhost".
    CertificateAuthority web = CaStore.loadOrCreate(tmp.resolve("web-ca"), "web", Clock.systemUTC());
    Path tlsDir = Files.createDirectories(tmp.resolve("mesh2-tls"));
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair keys = g.generateKeyPair();
    Files.writeString(tlsDir.resolve("tls.crt"),
        Pem.encode(web.issueServing(keys.getPublic(), List.of("localhost"), null, Duration.ofHours(1))));
    Files.writeString(tlsDir.resolve("tls.key"), Pem.encodePrivateKey(keys.getPrivate()));
    Path webRoots = Files.writeString(tmp.resolve("web-roots.pem"), Pem.encode(web.roots()));

    Path mesh2Config = Files.writeString(tmp.resolve("mesh2.yaml"), "trustDomain: mesh2.example\n");
    ControlPlaneOptions.Federation fast = ControlPlaneOptions.Federation.DEFAULTS
        .withRefresh(Duration.ofSeconds(1), Duration.ofMillis(100), Duration.ofMillis(200));
    ControlPlane mesh2 = start("mesh2", mesh2Config,
        fast.withBundleEndpoint(0, BundleEndpointProfile.HTTPS_WEB, tlsDir));
    int mesh2Port = mesh2.bundlePort();

    Path mesh1Config = Files.writeString(tmp.resolve("mesh1.yaml"), """
        trustDomain: cluster.local
        caCertificates:
        - spiffeBundleUrl: https://localhost:%d/
          trustDomains: [mesh2.example]
        """.formatted(mesh2Port));
    ControlPlane mesh1 = start("mesh1", mesh1Config,
        fast.withBundleEndpoint(0, BundleEndpointProfile.HTTPS_SPIFFE, null).withWebRoots(webRoots));

    // Mesh 1 trusts mesh 2's root for mesh 2's trust domain only.
    await().atMost(Duration.ofSeconds(30)).until(() -> !mesh1.trustBundles().roots("mesh2.example").isEmpty());
    assertThat(mesh1.trustBundles().roots("mesh2.example")).isEqualTo(mesh2.ca().roots());
    assertThat(mesh1.trustBundles().roots("cluster.local")).isEqualTo(mesh1.ca().roots());

    Weft peers = Weft.run("mesh", "peers", "--control-plane", "localhost:" + mesh1.monitoringPort());
    assertThat(peers.exit()).isZero();
    assertThat(peers.out()).contains("this mesh: trust domain cluster.local, bundle sequence 1");
    assertThat(peers.out().lines().filter(l -> l.startsWith("mesh2.example"))).singleElement().asString()
        .matches("mesh2\\.example +https_web +1 +\\d+s +no +");

    Weft bundle = Weft.run("mesh", "bundle", "--control-plane", "localhost:" + mesh1.monitoringPort());
    assertThat(bundle.exit()).isZero();
    SpiffeBundle printed = SpiffeBundle.parse("cluster.local", bundle.out().getBytes(), Duration.ZERO);
    assertThat(printed.x509Authorities()).isEqualTo(mesh1.ca().roots());
    assertThat(printed.sequence()).isEqualTo(1);

    // Mesh 1's https_spiffe endpoint, checked against its bundle and the control plane's SPIFFE id.
    FederatedPeer mesh1Peer = new FederatedPeer("cluster.local",
        java.net.URI.create("https://127.0.0.1:" + mesh1.bundlePort() + "/"), BundleEndpointProfile.HTTPS_SPIFFE,
        "spiffe://cluster.local/ns/istio-system/sa/istiod", printed, "test");
    assertThat(new BundleClient(null).fetch(mesh1Peer, printed, Duration.ZERO).x509Authorities())
        .isEqualTo(mesh1.ca().roots());

    // Rotation in mesh 2: a new root published beside the old one, the sequence goes up, mesh 1 follows.
    CertificateAuthority next = CaStore.loadOrCreate(tmp.resolve("mesh2-next-ca"), "mesh2.example",
        Clock.systemUTC());
    Files.writeString(mesh2Config, """
        trustDomain: mesh2.example
        caCertificates:
        - pem: |
        %s
          trustDomains: [mesh2.example]
        """.formatted(Pem.encode(next.root()).indent(4).stripTrailing()));
    long rotatedAt = System.nanoTime();
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
        .until(() -> mesh1.trustBundles().roots("mesh2.example").size() == 2);
    // The refresh latency: mesh 2's file watch, then mesh 1's next fetch (refresh bounded to 100..200 ms here).
    System.out.println("peer root rotation followed in " + (System.nanoTime() - rotatedAt) / 1_000_000 + " ms");
    List<X509Certificate> overlap = mesh1.trustBundles().roots("mesh2.example");
    assertThat(overlap).containsExactlyInAnyOrder(mesh2.ca().root(), next.root());
    assertThat(peerStatus(mesh1).get("sequence")).isEqualTo(2L);

    // Mesh 2's endpoint goes away: the last bundle stays in force, marked stale.
    mesh2.close();
    await().atMost(Duration.ofSeconds(30)).until(() -> Boolean.TRUE.equals(peerStatus(mesh1).get("stale")));
    assertThat(mesh1.trustBundles().roots("mesh2.example")).containsExactlyInAnyOrderElementsOf(overlap);
    assertThat((String) peerStatus(mesh1).get("lastError")).contains("localhost:" + mesh2Port);
    String metrics = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
        java.net.URI.create("http://localhost:" + mesh1.monitoringPort() + "/metrics")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    assertThat(metrics).contains("weft_federation_peers_stale 1.0", "weft_federation_peers 1.0");
    Weft stale = Weft.run("mesh", "peers", "--control-plane", "localhost:" + mesh1.monitoringPort());
    assertThat(stale.out().lines().filter(l -> l.startsWith("mesh2.example"))).singleElement().asString()
        .contains(" yes ");

    // Mesh 2 back with its state folder: the sequence did not go back.
    ControlPlane mesh2Again = start("mesh2", mesh2Config, fast.withBundleEndpoint(0, BundleEndpointProfile.HTTPS_WEB,
        tlsDir));
    Weft again = Weft.run("mesh", "bundle", "--control-plane", "localhost:" + mesh2Again.monitoringPort());
    assertThat(SpiffeBundle.parse("mesh2.example", again.out().getBytes(), Duration.ZERO).sequence()).isEqualTo(2);
  }

  @Test
  void trustDomainFederationResourcesInTheConfigFolderFollowAnHttpsSpiffePeerAndRefuseForgeriesAndOurOwnDomain()
      throws Exception {
    ControlPlaneOptions.Federation fast = ControlPlaneOptions.Federation.DEFAULTS
        .withRefresh(Duration.ofSeconds(1), Duration.ofMillis(100), Duration.ofMillis(200));
    ControlPlane mesh2 = start("mesh2", Files.writeString(tmp.resolve("mesh2.yaml"), "trustDomain: mesh2.example\n"),
        fast.withBundleEndpoint(0, BundleEndpointProfile.HTTPS_SPIFFE, null));
    // A third mesh whose endpoint presents its own CA's certificate under mesh 2's name: a forgery.
    ControlPlane forger = start("forger", Files.writeString(tmp.resolve("forger.yaml"),
        "trustDomain: mesh2.example\n"), fast.withBundleEndpoint(0, BundleEndpointProfile.HTTPS_SPIFFE, null));
    String mesh2Bundle = Weft.run("mesh", "bundle", "--control-plane", "localhost:" + mesh2.monitoringPort()).out();

    ControlPlane mesh1 = start("mesh1", Files.writeString(tmp.resolve("mesh1.yaml"), "trustDomain: cluster.local\n"),
        fast);
    Path folder = tmp.resolve("mesh1-config");
    Files.writeString(folder.resolve("federation.yaml"), """
        apiVersion: weft.dev/v1alpha1
        kind: TrustDomainFederation
        metadata: {name: mesh2}
        spec:
          trustDomain: mesh2.example
          bundleEndpointURL: https://127.0.0.1:%d/
          bundleEndpointProfile:
            type: https_spiffe
            endpointSPIFFEID: spiffe://mesh2.example/ns/istio-system/sa/istiod
          trustDomainBundle: |
        %s
        ---
        apiVersion: weft.dev/v1alpha1
        kind: TrustDomainFederation
        metadata: {name: ourselves}
        spec:
          trustDomain: cluster.local
          bundleEndpointURL: https://127.0.0.1:%d/
          bundleEndpointProfile: {type: https_web}
        """.formatted(mesh2.bundlePort(), mesh2Bundle.indent(4).stripTrailing(), forger.bundlePort()));
    await().atMost(Duration.ofSeconds(30)).until(() -> peerStatus(mesh1).get("fetchedAt") != null);
    assertThat(peerStatus(mesh1).get("profile")).isEqualTo("https_spiffe");
    assertThat(peerStatus(mesh1).get("stale")).isEqualTo(false);
    assertThat(mesh1.trustBundles().roots("mesh2.example")).isEqualTo(mesh2.ca().roots());
    assertThat(mesh1.trustBundles().roots("cluster.local")).isEqualTo(mesh1.ca().roots());
    assertThat(federationStatus(mesh1).get("refusedPeers").toString()).contains("ourselves", "own trust domain");

    // The same peer now pointed at the forger's endpoint: refused, the last good bundle stays.
    String forged = Files.readString(folder.resolve("federation.yaml"))
        .replace("127.0.0.1:" + mesh2.bundlePort(), "127.0.0.1:" + forger.bundlePort());
    Files.writeString(folder.resolve("federation.yaml"), forged);
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(peerStatus(mesh1))
        .extracting(p -> String.valueOf(p.get("lastError"))).asString().contains("does not chain"));
    assertThat(mesh1.trustBundles().roots("mesh2.example")).isEqualTo(mesh2.ca().roots())
        .doesNotContainAnyElementsOf(forger.ca().roots());
  }

  @Test
  void trustDomainFederationInTheConfigClustersSystemNamespaceIsFollowedAndOtherNamespacesAreNot() throws Exception {
    ControlPlaneOptions.Federation fast = ControlPlaneOptions.Federation.DEFAULTS
        .withRefresh(Duration.ofSeconds(1), Duration.ofMillis(100), Duration.ofMillis(200));
    ControlPlane mesh2 = start("mesh2", Files.writeString(tmp.resolve("mesh2.yaml"), "trustDomain: mesh2.example\n"),
        fast.withBundleEndpoint(0, BundleEndpointProfile.HTTPS_SPIFFE, null));
    String mesh2Bundle = Weft.run("mesh", "bundle", "--control-plane", "localhost:" + mesh2.monitoringPort()).out();
    var server = new io.fabric8.kubernetes.client.server.mock.KubernetesMockServer(
        new io.fabric8.mockwebserver.Context(), new io.fabric8.mockwebserver.MockWebServer(),
        new java.util.HashMap<>(), new io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher(), false);
    server.init(java.net.InetAddress.getLoopbackAddress(), 0);
    closeables.add(server::destroy);
    var client = server.createClient();
    closeables.add(0, client);
    for (String ns : new String[] {"istio-system", "tenant"}) {
      var tdf = new io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder()
          .withApiVersion("weft.dev/v1alpha1").withKind("TrustDomainFederation")
          .withNewMetadata().withName("mesh2").withNamespace(ns).endMetadata()
          .addToAdditionalProperties("spec", Map.of(
              "trustDomain", ns.equals("tenant") ? "tenant.example" : "mesh2.example",
              "bundleEndpointURL", "https://127.0.0.1:" + mesh2.bundlePort() + "/",
              "bundleEndpointProfile", Map.of("type", "https_spiffe",
                  "endpointSPIFFEID", "spiffe://mesh2.example/ns/istio-system/sa/istiod"),
              "trustDomainBundle", mesh2Bundle))
          .build();
      client.genericKubernetesResources(new io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext.Builder()
          .withGroup("weft.dev").withVersion("v1alpha1").withKind("TrustDomainFederation")
          .withPlural("trustdomainfederations").withNamespaced(true).build()).inNamespace(ns)
          .resource(tdf).create();
    }
    Path kubeconfig = Files.writeString(tmp.resolve("kubeconfig"), """
        apiVersion: v1
        kind: Config
        clusters: [{name: c, cluster: {server: "http://127.0.0.1:%d"}}]
        contexts: [{name: c, context: {cluster: c, user: u}}]
        current-context: c
        users: [{name: u, user: {token: t}}]
        """.formatted(server.getPort()));
    Path tokens = Files.writeString(tmp.resolve("mesh1-tokens.yaml"),
        "- {token: t, namespace: default, serviceAccount: frontend}\n");
    ControlPlane mesh1 = ControlPlane.start(ControlPlaneOptions.forKubeconfig(kubeconfig).withPorts(0, 0)
        .withCa(new ControlPlaneOptions.Ca(tmp.resolve("mesh1-ca"), tokens, 0)).withFederation(fast));
    closeables.add(0, mesh1);
    await().atMost(Duration.ofSeconds(30)).until(() -> peerStatus(mesh1).get("fetchedAt") != null);
    assertThat(mesh1.trustBundles().roots("mesh2.example")).isEqualTo(mesh2.ca().roots());
    assertThat(mesh1.trustBundles().byTrustDomain()).doesNotContainKey("tenant.example");
    assertThat((List<?>) federationStatus(mesh1).get("peers")).hasSize(1);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> federationStatus(ControlPlane cp) {
    return (Map<String, Object>) cp.status().get("federation");
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> peerStatus(ControlPlane cp) {
    Map<String, Object> federation = (Map<String, Object>) cp.status().get("federation");
    List<Map<String, Object>> peers = (List<Map<String, Object>>) federation.get("peers");
    return peers.isEmpty() ? Map.of() : peers.get(0);
  }
}
