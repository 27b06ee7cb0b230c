package weft.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;
import weft.security.federation.BundleEndpointProfile;

/**
 * A control plane restarted while its peer's bundle endpoint is away keeps trusting the peer: the last
 * good bundle is kept in the state folder and in force from the start, marked stale.
 */
class PeerBundlesAcrossRestartTest {
  @TempDir Path tmp;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (AutoCloseable c : closeables) c.close();
  }

  private ControlPlane start(String name, String meshConfig, ControlPlaneOptions.Federation federation)
      throws Exception {
    Path config = Files.createDirectories(tmp.resolve(name + "-config"));
    Path tokens = Files.writeString(tmp.resolve(name + "-tokens.yaml"),
        "- {token: t, namespace: default, serviceAccount: frontend}\n");
    ControlPlane cp = ControlPlane.start(ControlPlaneOptions.forConfigDir(config).withPorts(0, 0)
        .withMeshConfig(Files.writeString(tmp.resolve(name + "-mesh.yaml"), meshConfig))
        .withRemoteSecrets(null, tmp.resolve(name + "-state"), Duration.ofSeconds(5))
        .withCa(new ControlPlaneOptions.Ca(tmp.resolve(name + "-ca"), tokens, 0))
        .withFederation(federation));
    closeables.add(0, cp);
    return cp;
  }

  @Test
  void aRestartedControlPlaneTrustsThePeersLastBundleWhileThePeersEndpointIsAway() throws Exception {
    ControlPlaneOptions.Federation fast = ControlPlaneOptions.Federation.DEFAULTS
        .withRefresh(Duration.ofSeconds(1), Duration.ofMillis(100), Duration.ofMillis(200));
    ControlPlane mesh2 = start("mesh2", "trustDomain: mesh2.example\n",
        fast.withBundleEndpoint(0, BundleEndpointProfile.HTTPS_SPIFFE, null));
    String bundle = Weft.run("mesh", "bundle", "--control-plane", "localhost:" + mesh2.monitoringPort()).out();
    String federation = """
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
        """.formatted(mesh2.bundlePort(), bundle.indent(4).stripTrailing());
    Files.createDirectories(tmp.resolve("mesh1-config"));
    Files.writeString(tmp.resolve("mesh1-config").resolve("federation.yaml"), federation);
    ControlPlane mesh1 = start("mesh1", "trustDomain: cluster.local\n", fast);
    await().atMost(Duration.ofSeconds(30)).until(() -> Boolean.FALSE.equals(peer(mesh1).get("stale")));
    var peerRoots = mesh2.ca().roots();
    assertThat(mesh1.trustBundles().roots("mesh2.example")).isEqualTo(peerRoots);

    // Both go away; mesh 1 comes back first, its peer's endpoint still away.
    mesh2.close();
    mesh1.close();
    closeables.clear();
    ControlPlane again = start("mesh1", "trustDomain: cluster.local\n", fast);
    // Nothing can be fetched: the roots can only come from the state folder.
    await().atMost(Duration.ofSeconds(30)).until(() -> again.trustBundles().roots("mesh2.example").equals(peerRoots));
    assertThat(peer(again)).containsEntry("stale", true).containsEntry("sequence", 1L);
    assertThat(peer(again).get("lastError")).isNotNull();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> peer(ControlPlane cp) {
    Map<String, Object> federation = (Map<String, Object>) cp.status().get("federation");
    List<Map<String, Object>> peers = (List<Map<String, Object>>) federation.get("peers");
    return peers.isEmpty() ? Map.of() : peers.get(0);
  }
}
