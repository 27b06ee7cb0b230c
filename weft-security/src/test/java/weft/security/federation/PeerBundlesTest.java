package weft.security.federation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static weft.security.federation.FederationFixtures.*;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.security.ca.CertificateAuthority;

/** A peer's bundle followed over real HTTPS: rotation picked up, an endpoint gone leaves the last bundle. */
class PeerBundlesTest {
  @TempDir Path tmp;
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  private final AtomicInteger changes = new AtomicInteger();

  @AfterEach
  void stop() {
    scheduler.shutdownNow();
  }

  private PeerBundles peers() {
    // Refresh bounds of 50 ms so that the test follows several refreshes quickly.
    return new PeerBundles(new BundleClient(null), scheduler, Clock.systemUTC(), Duration.ofMillis(50),
        Duration.ofMillis(50), changes::incrementAndGet);
  }

  @Test
  void aRotatedPeerRootIsPickedUpAndAnEndpointThatGoesAwayLeavesTheLastBundleStale() throws Exception {
    CertificateAuthority mesh2 = ca(tmp.resolve("mesh2"), "mesh2.example");
    CertificateAuthority mesh2Next = ca(tmp.resolve("mesh2next"), "mesh2.example");
    AtomicReference<SpiffeBundle> served = new AtomicReference<>(
        new SpiffeBundle("mesh2.example", mesh2.roots(), 1, Duration.ZERO));
    SSLContext tls = BundleTls.httpsSpiffe(mesh2, endpointId("mesh2.example"), null);
    BundleEndpointServer server = serve(tls, served::get);
    PeerBundles peers = peers();
    FederatedPeer peer = new FederatedPeer("mesh2.example", url(server), BundleEndpointProfile.HTTPS_SPIFFE,
        endpointId("mesh2.example").toString(), new SpiffeBundle("mesh2.example", mesh2.roots(), 0, Duration.ZERO),
        "TrustDomainFederation mesh2");
    assertThat(peers.setPeers("cluster.local", List.of(), List.of(peer))).isEmpty();
    await().atMost(Duration.ofSeconds(20)).until(() -> peers.states().get("mesh2.example").fetchedAt() != null);
    assertThat(peers.states().get("mesh2.example").stale()).isFalse();
    assertThat(peers.states().get("mesh2.example").bundle().sequence()).isEqualTo(1);

    // Rotation: the overlap bundle (both roots, next sequence) is followed without a restart.
    served.set(new SpiffeBundle("mesh2.example", List.of(mesh2.root(), mesh2Next.root()), 2, Duration.ZERO));
    await().atMost(Duration.ofSeconds(20)).until(() -> peers.roots().get("mesh2.example").size() == 2);
    assertThat(peers.states().get("mesh2.example").bundle().sequence()).isEqualTo(2);

    server.close();
    await().atMost(Duration.ofSeconds(30)).until(() -> peers.states().get("mesh2.example").stale());
    PeerBundles.PeerState state = peers.states().get("mesh2.example");
    assertThat(state.bundle().sequence()).isEqualTo(2);
    assertThat(state.lastError()).contains(url(server).toString());
    assertThat(peers.roots().get("mesh2.example")).containsExactly(mesh2.root(), mesh2Next.root());
    peers.close();
  }

  @Test
  void aPeerClaimingOurOwnTrustDomainOrAnAliasIsRefusedAlone() throws Exception {
    CertificateAuthority mesh2 = ca(tmp.resolve("mesh2"), "mesh2.example");
    SpiffeBundle bootstrap = new SpiffeBundle("x", mesh2.roots(), 0, Duration.ZERO);
    java.net.URI url = java.net.URI.create("https://127.0.0.1:1/");
    PeerBundles peers = peers();
    List<String> problems = peers.setPeers("cluster.local", List.of("old.local"), List.of(
        new FederatedPeer("cluster.local", url, BundleEndpointProfile.HTTPS_SPIFFE, "spiffe://cluster.local/x",
            bootstrap, "TrustDomainFederation evil"),
        FederatedPeer.httpsWeb("old.local", url, "MeshConfig caCertificates[0]"),
        FederatedPeer.httpsWeb("mesh2.example", url, "TrustDomainFederation mesh2")));
    assertThat(problems).hasSize(2);
    assertThat(problems.get(0)).contains("TrustDomainFederation evil", "own trust domain");
    assertThat(problems.get(1)).contains("caCertificates[0]");
    await().atMost(Duration.ofSeconds(20)).until(() -> peers.states().containsKey("mesh2.example"));
    assertThat(peers.states()).containsOnlyKeys("mesh2.example");
    peers.close();
  }
}
