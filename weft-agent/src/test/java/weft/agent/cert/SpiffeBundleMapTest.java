package weft.agent.cert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.internal.SpiffeUtil;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.security.SpiffeId;
import weft.security.ca.CaStore;
import weft.security.ca.CertificateAuthority;
import weft.security.ca.Pem;

/**
 * The agent's gRFC A87 bundle map, read back by grpc-java 1.85's own reader (SpiffeUtil): our roots
 * under our domain and aliases, a peer's under its domain only, in the same generation as the certificates.
 */
class SpiffeBundleMapTest {
  @TempDir Path tmp;

  @Test
  void grpcJavaReadsOurRootsForOurDomainAndAliasesAndThePeersForItsOwnOnly() throws Exception {
    CertificateAuthority ours = CaStore.loadOrCreate(tmp.resolve("ca1"), "cluster.local", Clock.systemUTC());
    CertificateAuthority peer = CaStore.loadOrCreate(tmp.resolve("ca2"), "mesh2.example", Clock.systemUTC());
    Path peerFile = tmp.resolve("mesh2.pem");
    Files.writeString(peerFile, Pem.encode(peer.roots()));
    CertificateFiles files = new CertificateFiles(tmp.resolve("certs"),
        new TrustDomainRoots("cluster.local", List.of("old.local"), Map.of("mesh2.example", peerFile)));
    files.install(issue(ours));

    SpiffeUtil.SpiffeBundle bundle = SpiffeUtil.loadTrustBundleFromFile(files.spiffeBundleMapFile().toString());
    assertThat(bundle.getBundleMap()).containsOnlyKeys("cluster.local", "old.local", "mesh2.example");
    assertThat(bundle.getBundleMap().get("cluster.local")).containsExactlyElementsOf(ours.roots());
    assertThat(bundle.getBundleMap().get("old.local")).containsExactlyElementsOf(ours.roots());
    assertThat(bundle.getBundleMap().get("mesh2.example")).containsExactlyElementsOf(peer.roots());
    assertThat(Files.isSymbolicLink(files.spiffeBundleMapFile())).as("swapped with the certificates").isTrue();
  }

  @Test
  void anUnreadablePeerFileKeepsItsLastRootsAndAPeerClaimingOurDomainIsRefused() throws Exception {
    CertificateAuthority ours = CaStore.loadOrCreate(tmp.resolve("ca1"), "cluster.local", Clock.systemUTC());
    CertificateAuthority peer = CaStore.loadOrCreate(tmp.resolve("ca2"), "mesh2.example", Clock.systemUTC());
    Path peerFile = tmp.resolve("mesh2.pem");
    Files.writeString(peerFile, Pem.encode(peer.roots()));
    TrustDomainRoots roots = new TrustDomainRoots("cluster.local", List.of(), Map.of("mesh2.example", peerFile));
    assertThat(roots.bundleMap(ours.roots()).byDomain().get("mesh2.example")).containsExactlyElementsOf(peer.roots());
    Files.writeString(peerFile, "not PEM");
    assertThat(roots.bundleMap(ours.roots()).byDomain().get("mesh2.example")).containsExactlyElementsOf(peer.roots());

    TrustDomainRoots fresh = new TrustDomainRoots("cluster.local", List.of(), Map.of("mesh2.example", peerFile));
    assertThat(fresh.bundleMap(ours.roots()).byDomain()).containsOnlyKeys("cluster.local");

    assertThatThrownBy(() -> new TrustDomainRoots("cluster.local", List.of("old.local"), Map.of("old.local", peerFile)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("own trust domain");
  }

  private static IssuedCertificate issue(CertificateAuthority ca) {
    KeyPair keys = CertificateRequests.newKeyPair();
    List<X509Certificate> chain = ca.issueWorkload(keys.getPublic(), new SpiffeId("cluster.local", "default", "web"),
        Duration.ofHours(1));
    return new IssuedCertificate(keys.getPrivate(), chain.subList(0, chain.size() - 1), ca.roots());
  }
}
