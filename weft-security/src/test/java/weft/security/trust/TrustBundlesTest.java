package weft.security.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.model.MeshConfig;
import weft.security.ca.CaStore;
import weft.security.ca.Pem;

class TrustBundlesTest {
  @TempDir Path dir;

  @Test
  void ourRootsServeOurTrustDomainAndItsAliasesAndMeshCaCertificatesAddTheirs() {
    X509Certificate ours = root("ours", "cluster.local");
    X509Certificate partner = root("partner", "partner.example");
    X509Certificate everyone = root("everyone", "shared.example");
    MeshConfig mesh = new MeshConfig("istio-system", "cluster.local", List.of("old.local"), List.of("*"),
        List.of("*"), List.of("*"), null, List.of(), "", List.of());

    TrustBundles bundles = TrustBundles.of(mesh, List.of(ours), List.of(
        new MeshCaCertificate(Pem.encode(partner), List.of("partner.example")),
        new MeshCaCertificate(Pem.encode(everyone), List.of())));

    assertThat(bundles.trustDomain()).isEqualTo("cluster.local");
    assertThat(bundles.byTrustDomain()).containsOnlyKeys("cluster.local", "old.local", "partner.example");
    assertThat(bundles.roots("cluster.local")).containsExactly(ours, everyone);
    assertThat(bundles.roots("old.local")).containsExactly(ours, everyone);
    assertThat(bundles.roots("partner.example")).containsExactly(partner, everyone);
    assertThat(bundles.roots("stranger.example")).containsExactly(everyone);
    assertThat(bundles.allRoots()).containsExactly(ours, everyone, partner);
    assertThat(Pem.parseCertificates(bundles.pem("partner.example"), null)).containsExactly(partner, everyone);
  }

  @Test
  void anotherMeshsRootsCanBeAddedWithoutTouchingOurs() {
    X509Certificate ours = root("ours", "cluster.local");
    X509Certificate federated = root("fed", "mesh2.example");
    TrustBundles bundles = TrustBundles.of("cluster.local", List.of(), List.of(ours), List.of());

    TrustBundles federatedBundles = bundles.withRoots("mesh2.example", List.of(federated));

    assertThat(federatedBundles.roots("mesh2.example")).containsExactly(federated);
    assertThat(federatedBundles.roots("cluster.local")).containsExactly(ours);
    assertThat(bundles.byTrustDomain()).containsOnlyKeys("cluster.local");
  }

  @Test
  void unreadableMeshCaCertificateIsNamed() {
    assertThatThrownBy(() -> TrustBundles.of("cluster.local", List.of(), List.of(root("ours", "cluster.local")),
        List.of(new MeshCaCertificate("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", List.of()))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("MeshConfig caCertificates[0].pem:");
  }

  private X509Certificate root(String name, String trustDomain) {
    return CaStore.loadOrCreate(dir.resolve(name), trustDomain, Clock.systemUTC()).root();
  }
}
