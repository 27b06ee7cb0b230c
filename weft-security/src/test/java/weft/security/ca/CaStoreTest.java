package weft.security.ca;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.security.SpiffeId;
import weft.security.testing.Chains;
import weft.security.testing.Csrs;

class CaStoreTest {
  private static final SpiffeId FRONTEND = new SpiffeId("cluster.local", "default", "frontend");
  private final Instant now = Instant.now();
  private final Clock clock = Clock.fixed(now, ZoneOffset.UTC);

  @TempDir Path dir;

  @Test
  void rootCreatedInEmptyDirIsReusedOnTheNextStartNeverRegenerated() throws Exception {
    CertificateAuthority first = CaStore.loadOrCreate(dir, "cluster.local", clock);
    Map<String, String> files = snapshot(dir);

    CertificateAuthority second = CaStore.loadOrCreate(dir, "cluster.local", clock);

    assertThat(second.root().getSerialNumber()).isEqualTo(first.root().getSerialNumber());
    assertThat(second.root().getPublicKey()).isEqualTo(first.root().getPublicKey());
    assertThat(second.origin()).contains("kept");
    assertThat(snapshot(dir)).isEqualTo(files);
    assertThat(files).containsOnlyKeys(CaFiles.ROOT_CERT, CaFiles.ROOT_KEY, CaFiles.SELF_SIGNED_MARKER);
    assertThat(CaFiles.markerNames(dir, first.root())).isTrue();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(CaFiles.ROOT_KEY))))
        .isEqualTo("rw-------");
    X509Certificate root = first.root();
    assertThat(root.getBasicConstraints()).isGreaterThanOrEqualTo(0);
    assertThat(root.getSubjectX500Principal().getName()).contains("O=cluster.local");
    assertThat(Duration.between(root.getNotBefore().toInstant(), root.getNotAfter().toInstant()))
        .isEqualTo(Duration.ofDays(3650));
    // What the first CA issued, the reloaded one's root vouches for.
    List<X509Certificate> chain = first.issueWorkload(Csrs.newKey().getPublic(), FRONTEND, null);
    Chains.verify(chain, second.root(), now.plusSeconds(1));
  }

  @Test
  void rootCertificateWithoutItsKeyIsAnErrorNotANewRoot() throws Exception {
    CaStore.loadOrCreate(dir, "cluster.local", clock);
    Files.delete(dir.resolve(CaFiles.ROOT_KEY));
    Map<String, String> files = snapshot(dir);

    assertThatThrownBy(() -> CaStore.loadOrCreate(dir, "cluster.local", clock))
        .isInstanceOf(CaException.class)
        .hasMessageContaining(CaFiles.ROOT_KEY)
        .hasMessageContaining("is missing")
        .satisfies(e -> assertThat(((CaException) e).file()).contains(dir.resolve(CaFiles.ROOT_KEY)));
    assertThat(snapshot(dir)).isEqualTo(files);
  }

  @Test
  void pluggedInKeyThatDoesNotMatchTheCertificateIsAClearErrorAndNothingIsWritten() throws Exception {
    Path root = dir.resolve("root");
    Path cluster1 = dir.resolve("cluster1");
    Path cluster2 = dir.resolve("cluster2");
    CaTools.initRoot(root, "cluster.local", clock);
    CaTools.intermediate(root, "cluster1", cluster1, clock);
    CaTools.intermediate(root, "cluster2", cluster2, clock);
    // cluster1's directory with cluster2's key.
    Files.copy(cluster2.resolve(CaFiles.CA_KEY), cluster1.resolve(CaFiles.CA_KEY),
        java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    Map<String, String> files = snapshot(cluster1);

    assertThatThrownBy(() -> CaStore.loadOrCreate(cluster1, "cluster.local", clock))
        .isInstanceOf(CaException.class)
        .hasMessageContaining(cluster1.resolve(CaFiles.CA_KEY).toString())
        .hasMessageContaining("does not belong to the certificate in " + CaFiles.CA_CERT);
    assertThat(snapshot(cluster1)).isEqualTo(files);
  }

  @Test
  void pluggedInCaWithAMissingFileNamesIt() throws Exception {
    Path root = dir.resolve("root");
    Path cluster1 = dir.resolve("cluster1");
    CaTools.initRoot(root, "cluster.local", clock);
    CaTools.intermediate(root, "cluster1", cluster1, clock);
    Files.delete(cluster1.resolve(CaFiles.ROOT_CERT));
    Map<String, String> files = snapshot(cluster1);

    assertThatThrownBy(() -> CaStore.loadOrCreate(cluster1, "cluster.local", clock))
        .isInstanceOf(CaException.class)
        .hasMessageContaining(cluster1.resolve(CaFiles.ROOT_CERT) + ": is missing");
    assertThat(snapshot(cluster1)).isEqualTo(files);
  }

  @Test
  void pluggedInChainThatDoesNotReachTheRootIsRefused() throws Exception {
    Path rootA = dir.resolve("rootA");
    Path rootB = dir.resolve("rootB");
    Path cluster1 = dir.resolve("cluster1");
    CaTools.initRoot(rootA, "cluster.local", clock);
    CaTools.initRoot(rootB, "cluster.local", clock);
    CaTools.intermediate(rootA, "cluster1", cluster1, clock);
    // root-cert.pem from another root; cert-chain.pem without the root.
    Files.writeString(cluster1.resolve(CaFiles.ROOT_CERT), Files.readString(rootB.resolve(CaFiles.ROOT_CERT)));
    Files.writeString(cluster1.resolve(CaFiles.CERT_CHAIN), Files.readString(cluster1.resolve(CaFiles.CA_CERT)));

    assertThatThrownBy(() -> CaStore.loadOrCreate(cluster1, "cluster.local", clock))
        .isInstanceOf(CaException.class)
        .hasMessageContaining(cluster1.resolve(CaFiles.ROOT_CERT).toString())
        .hasMessageContaining("no root here signed");
  }

  @Test
  void garbageInACaFileIsNamed() throws Exception {
    Path root = dir.resolve("root");
    Path cluster1 = dir.resolve("cluster1");
    CaTools.initRoot(root, "cluster.local", clock);
    CaTools.intermediate(root, "cluster1", cluster1, clock);
    Files.writeString(cluster1.resolve(CaFiles.CA_CERT), "not a certificate\n");

    assertThatThrownBy(() -> CaStore.loadOrCreate(cluster1, "cluster.local", clock))
        .isInstanceOf(CaException.class)
        .hasMessageContaining(cluster1.resolve(CaFiles.CA_CERT) + ": holds no PEM certificate");
  }

  @Test
  void expiredPluggedInCaIsRefused() throws Exception {
    Path root = dir.resolve("root");
    Path cluster1 = dir.resolve("cluster1");
    CaTools.initRoot(root, "cluster.local", clock);
    CaTools.intermediate(root, "cluster1", cluster1, clock);
    Clock threeYearsLater = Clock.fixed(now.plus(Duration.ofDays(3 * 365)), ZoneOffset.UTC);

    assertThatThrownBy(() -> CaStore.loadOrCreate(cluster1, "cluster.local", threeYearsLater))
        .isInstanceOf(CaException.class)
        .hasMessageContaining(cluster1.resolve(CaFiles.CA_CERT).toString())
        .hasMessageContaining("expired");
  }

  @Test
  void sharedRootWithAnIntermediatePerClusterIssuesCertificatesThatBothVerifyAgainstTheRoot() throws Exception {
    Path root = dir.resolve("root");
    Path cluster1 = dir.resolve("cluster1");
    Path cluster2 = dir.resolve("cluster2");
    assertThat(CaTools.initRoot(root, "cluster.local", clock)).extracting(p -> p.getFileName().toString())
        .containsExactly(CaFiles.ROOT_CERT, CaFiles.ROOT_KEY);
    assertThat(CaTools.intermediate(root, "cluster1", cluster1, clock)).extracting(p -> p.getFileName().toString())
        .containsExactly(CaFiles.CA_CERT, CaFiles.CA_KEY, CaFiles.CERT_CHAIN, CaFiles.ROOT_CERT);
    CaTools.intermediate(root, "cluster2", cluster2, clock);
    X509Certificate sharedRoot = Pem.readCertificates(root.resolve(CaFiles.ROOT_CERT)).get(0);

    CertificateAuthority ca1 = CaStore.loadOrCreate(cluster1, "cluster.local", clock);
    CertificateAuthority ca2 = CaStore.loadOrCreate(cluster2, "cluster.local", clock);
    List<X509Certificate> fromCa1 = ca1.issueWorkload(Csrs.newKey().getPublic(), FRONTEND, null);
    List<X509Certificate> fromCa2 = ca2.issueWorkload(Csrs.newKey().getPublic(),
        new SpiffeId("cluster.local", "default", "backend"), null);

    assertThat(fromCa1).hasSize(3);
    assertThat(fromCa1.get(1)).isEqualTo(ca1.signingCertificate());
    assertThat(fromCa1.get(2)).isEqualTo(sharedRoot);
    assertThat(fromCa2.get(2)).isEqualTo(sharedRoot);
    assertThat(fromCa1.get(1)).isNotEqualTo(fromCa2.get(1));
    Chains.verify(fromCa1, sharedRoot, now.plusSeconds(1));
    Chains.verify(fromCa2, sharedRoot, now.plusSeconds(1));
    assertThat(ca1.signingCertificate().getBasicConstraints()).isZero(); // pathLen 0
    assertThat(ca1.signingCertificate().getSubjectX500Principal().getName()).contains("L=cluster1");
    assertThat(ca1.roots()).containsExactly(sharedRoot);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(cluster1.resolve(CaFiles.CA_KEY))))
        .isEqualTo("rw-------");
  }

  @Test
  void certChainListingOnlyIntermediatesIsAcceptedToo() throws Exception {
    Path root = dir.resolve("root");
    Path cluster1 = dir.resolve("cluster1");
    CaTools.initRoot(root, "cluster.local", clock);
    CaTools.intermediate(root, "cluster1", cluster1, clock);
    Files.writeString(cluster1.resolve(CaFiles.CERT_CHAIN), Files.readString(cluster1.resolve(CaFiles.CA_CERT)));

    CertificateAuthority ca = CaStore.loadOrCreate(cluster1, "cluster.local", clock);

    assertThat(ca.chain()).hasSize(2);
    assertThat(ca.root()).isEqualTo(Pem.readCertificates(root.resolve(CaFiles.ROOT_CERT)).get(0));
  }

  @Test
  void toolsNeverOverwriteExistingFiles() throws Exception {
    Path root = dir.resolve("root");
    CaTools.initRoot(root, "cluster.local", clock);
    Map<String, String> files = snapshot(root);

    assertThatThrownBy(() -> CaTools.initRoot(root, "cluster.local", clock))
        .isInstanceOf(CaException.class).hasMessageContaining("already exists");
    CaTools.intermediate(root, "cluster1", dir.resolve("c1"), clock);
    assertThatThrownBy(() -> CaTools.intermediate(root, "cluster1", dir.resolve("c1"), clock))
        .isInstanceOf(CaException.class).hasMessageContaining(CaFiles.CA_CERT).hasMessageContaining("already exists");
    assertThat(snapshot(root)).isEqualTo(files);
  }

  @Test
  void workloadCertificatesNeverOutliveTheirCa() throws Exception {
    Path root = dir.resolve("root");
    Path cluster1 = dir.resolve("cluster1");
    CaTools.initRoot(root, "cluster.local", clock);
    CaTools.intermediate(root, "cluster1", cluster1, clock);
    Instant caEnd = Pem.readCertificates(cluster1.resolve(CaFiles.CA_CERT)).get(0).getNotAfter().toInstant();
    Clock nearEnd = Clock.fixed(caEnd.minus(Duration.ofHours(2)), ZoneOffset.UTC);

    CertificateAuthority ca = CaStore.loadOrCreate(cluster1, "cluster.local", nearEnd);
    X509Certificate leaf = ca.issueWorkload(Csrs.newKey().getPublic(), FRONTEND, Duration.ofHours(24)).get(0);

    assertThat(leaf.getNotAfter().toInstant()).isEqualTo(caEnd);
  }

  @Test
  void theMeshRootFromInitRootIsRefusedAsASigningCaNamingWeftCaIntermediate() throws Exception {
    Path root = dir.resolve("root");
    CaTools.initRoot(root, "cluster.local", clock);
    Map<String, String> files = snapshot(root);

    assertThatThrownBy(() -> CaStore.loadOrCreate(root, "cluster.local", clock))
        .isInstanceOf(CaException.class)
        .hasMessageContaining(CaFiles.ROOT_CERT)
        .hasMessageContaining("self-signed root")
        .hasMessageContaining("weft ca intermediate --root " + root)
        .hasMessageContaining("--ca-self-signed-root")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    assertThat(snapshot(root)).isEqualTo(files); // nothing written, no marker made

    CertificateAuthority allowed = CaStore.loadOrCreate(root, "cluster.local", clock, true);
    assertThat(allowed.signingCertificate()).isEqualTo(allowed.root());
  }

  @Test
  void aSelfSignedCaCertInThePluggedInLayoutIsRefusedUnlessAllowed() throws Exception {
    Path root = dir.resolve("root");
    Path plugged = dir.resolve("plugged");
    CaTools.initRoot(root, "cluster.local", clock);
    Files.createDirectories(plugged);
    Files.copy(root.resolve(CaFiles.ROOT_CERT), plugged.resolve(CaFiles.CA_CERT));
    Files.copy(root.resolve(CaFiles.ROOT_KEY), plugged.resolve(CaFiles.CA_KEY));
    Files.copy(root.resolve(CaFiles.ROOT_CERT), plugged.resolve(CaFiles.CERT_CHAIN));
    Files.copy(root.resolve(CaFiles.ROOT_CERT), plugged.resolve(CaFiles.ROOT_CERT));

    assertThatThrownBy(() -> CaStore.loadOrCreate(plugged, "cluster.local", clock))
        .isInstanceOf(CaException.class)
        .hasMessageContaining(CaFiles.CA_CERT)
        .hasMessageContaining("weft ca intermediate");
    assertThat(CaStore.loadOrCreate(plugged, "cluster.local", clock, true).root().getSubjectX500Principal())
        .isEqualTo(CaStore.loadOrCreate(root, "cluster.local", clock, true).root().getSubjectX500Principal());
  }

  @Test
  void aMarkerVouchesOnlyForTheRootItNames() throws Exception {
    Path own = dir.resolve("own");
    Path root = dir.resolve("root");
    CaStore.loadOrCreate(own, "cluster.local", clock);
    CaTools.initRoot(root, "cluster.local", clock);
    Files.copy(own.resolve(CaFiles.SELF_SIGNED_MARKER), root.resolve(CaFiles.SELF_SIGNED_MARKER));

    assertThatThrownBy(() -> CaStore.loadOrCreate(root, "cluster.local", clock))
        .isInstanceOf(CaException.class).hasMessageContaining("weft ca intermediate");
    // The self-signed mode's own directory keeps working across restarts.
    assertThat(CaStore.loadOrCreate(own, "cluster.local", clock).origin()).contains("kept");
  }

  @Test
  void caKeysAreWrittenOwnerOnlyInOwnerOnlyDirectories() throws Exception {
    Path root = dir.resolve("new").resolve("root");
    Path cluster1 = dir.resolve("new").resolve("cluster1");
    Path own = dir.resolve("own");
    CaTools.initRoot(root, "cluster.local", clock);
    CaTools.intermediate(root, "cluster1", cluster1, clock);
    CaStore.loadOrCreate(own, "cluster.local", clock);
    for (Path key : List.of(root.resolve(CaFiles.ROOT_KEY), cluster1.resolve(CaFiles.CA_KEY),
        own.resolve(CaFiles.ROOT_KEY))) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).as(key.toString())
          .isEqualTo("rw-------");
    }
    for (Path made : List.of(root, cluster1, own, dir.resolve("new"))) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(made))).as(made.toString())
          .isEqualTo("rwx------");
    }
  }

  private static Map<String, String> snapshot(Path dir) throws IOException {
    Map<String, String> out = new TreeMap<>();
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : s.toList()) {
        out.put(p.getFileName().toString(), Files.isDirectory(p) ? "<dir>" : Files.readString(p)
            + "@" + Files.getLastModifiedTime(p));
      }
    }
    return out;
  }
}
