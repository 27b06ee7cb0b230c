package weft.agent.cert;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.security.SpiffeId;
import weft.security.api.trust.TrustBundleSet;
import weft.security.api.trust.RootCertificates;
import weft.security.ca.CaStore;
import weft.security.ca.CertificateAuthority;

/**
 * What the agent takes from the control plane's trust-bundle stream: checked entry by entry, a bad
 * one keeping its domain's last roots; peers merged into the bundle map, never under our own domain.
 */
class TrustBundleWatcherTest {
  @TempDir Path tmp;
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

  @AfterEach
  void stop() {
    scheduler.shutdownNow();
  }

  private static RootCertificates.Builder roots(X509Certificate... certs) throws Exception {
    RootCertificates.Builder b = RootCertificates.newBuilder();
    for (X509Certificate c : certs) b.addCertificates(ByteString.copyFrom(c.getEncoded()));
    return b;
  }

  @Test
  void aBadEntryKeepsItsDomainsLastRootsAndTheRestOfTheSetIsTaken() throws Exception {
    CertificateAuthority mesh2 = CaStore.loadOrCreate(tmp.resolve("ca2"), "mesh2.example", Clock.systemUTC());
    CertificateAuthority mesh3 = CaStore.loadOrCreate(tmp.resolve("ca3"), "mesh3.example", Clock.systemUTC());
    List<Map<String, List<X509Certificate>>> got = new CopyOnWriteArrayList<>();
    TrustBundleWatcher watcher = new TrustBundleWatcher(List.of("localhost:1"), "istiod.istio-system.svc",
        TrustRoots.of(mesh2.roots()), got::add, scheduler);
    try {
      watcher.accept("test", TrustBundleSet.newBuilder().setVersion("1")
          .putTrustDomains("mesh2.example", roots(mesh2.root()).build())
          .putTrustDomains("mesh3.example", roots(mesh3.root()).build()).build());
      assertThat(got.get(0)).containsOnlyKeys("mesh2.example", "mesh3.example");

      // A workload certificate (not a CA) for mesh2, garbage for mesh3, a name that is no trust domain:
      // mesh2 and mesh3 keep their roots, the bad name is left out.
      KeyPair key = CertificateRequests.newKeyPair();
      X509Certificate leaf = mesh2.issueWorkload(key.getPublic(), new SpiffeId("mesh2.example", "default", "x"),
          Duration.ofHours(1)).get(0);
      watcher.accept("test", TrustBundleSet.newBuilder().setVersion("2")
          .putTrustDomains("mesh2.example", roots(leaf).build())
          .putTrustDomains("mesh3.example", RootCertificates.newBuilder()
              .addCertificates(ByteString.copyFromUtf8("not DER")).build())
          .putTrustDomains("Bad/Domain\n", roots(mesh3.root()).build())
          .putTrustDomains("mesh4.example", RootCertificates.getDefaultInstance()).build());
      assertThat(got.get(1)).containsOnlyKeys("mesh2.example", "mesh3.example");
      assertThat(got.get(1).get("mesh2.example")).containsExactly(mesh2.root());
      assertThat(got.get(1).get("mesh3.example")).containsExactly(mesh3.root());
      assertThat(watcher.lastVersion()).isEqualTo("2");

      // A domain the control plane no longer names is dropped.
      watcher.accept("test", TrustBundleSet.newBuilder().setVersion("3")
          .putTrustDomains("mesh3.example", roots(mesh3.root()).build()).build());
      assertThat(got.get(2)).containsOnlyKeys("mesh3.example");
    } finally {
      watcher.close();
    }
  }

  @Test
  void deliveredPeersJoinTheMapButNeverUnderOurOwnDomainOrAnAlias() throws Exception {
    CertificateAuthority ours = CaStore.loadOrCreate(tmp.resolve("ca1"), "cluster.local", Clock.systemUTC());
    CertificateAuthority mesh2 = CaStore.loadOrCreate(tmp.resolve("ca2"), "mesh2.example", Clock.systemUTC());
    TrustDomainRoots trust = new TrustDomainRoots("cluster.local", List.of("old.local"), Map.of());
    assertThat(trust.setDelivered(Map.of("mesh2.example", mesh2.roots(), "cluster.local", mesh2.roots(),
        "old.local", mesh2.roots()))).isTrue();
    assertThat(trust.setDelivered(Map.of("mesh2.example", mesh2.roots()))).as("the same peers").isFalse();
    SpiffeBundleMap map = trust.bundleMap(ours.roots());
    assertThat(map.byDomain()).containsOnlyKeys("cluster.local", "old.local", "mesh2.example");
    assertThat(map.byDomain().get("cluster.local")).isEqualTo(ours.roots());
    assertThat(map.byDomain().get("old.local")).isEqualTo(ours.roots());
    assertThat(map.byDomain().get("mesh2.example")).isEqualTo(mesh2.roots());
    assertThat(trust.setDelivered(Map.of())).isTrue();
    assertThat(trust.bundleMap(ours.roots()).byDomain()).containsOnlyKeys("cluster.local", "old.local");
  }
}
