package weft.security.federation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static weft.security.federation.FederationFixtures.ca;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.security.ca.CertificateAuthority;

/** A peer's last good bundle survives a restart: kept in the state folder, in force before the first fetch. */
class PeerBundleStoreTest {
  @TempDir Path tmp;
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

  @AfterEach
  void stop() {
    scheduler.shutdownNow();
  }

  @Test
  void keptBundlesAreReadBackAndAPeerNoLongerListedIsForgotten() throws Exception {
    CertificateAuthority mesh2 = ca(tmp.resolve("mesh2"), "mesh2.example");
    CertificateAuthority mesh3 = ca(tmp.resolve("mesh3"), "mesh3.example");
    PeerBundleStore store = new PeerBundleStore(tmp.resolve("state"));
    store.save(Map.of("mesh2.example", new SpiffeBundle("mesh2.example", mesh2.roots(), 7, Duration.ofSeconds(60)),
        "mesh3.example", new SpiffeBundle("mesh3.example", mesh3.roots(), 1, Duration.ofSeconds(60))));

    Map<String, SpiffeBundle> read = new PeerBundleStore(tmp.resolve("state")).load();
    assertThat(read).containsOnlyKeys("mesh2.example", "mesh3.example");
    assertThat(read.get("mesh2.example").x509Authorities()).isEqualTo(mesh2.roots());
    assertThat(read.get("mesh2.example").sequence()).isEqualTo(7);

    store.save(Map.of("mesh2.example", read.get("mesh2.example")));
    assertThat(new PeerBundleStore(tmp.resolve("state")).load()).containsOnlyKeys("mesh2.example");
  }

  @Test
  void aBrokenKeptFileIsSkippedAlone() throws Exception {
    CertificateAuthority mesh2 = ca(tmp.resolve("mesh2"), "mesh2.example");
    PeerBundleStore store = new PeerBundleStore(tmp.resolve("state"));
    store.save(Map.of("mesh2.example", new SpiffeBundle("mesh2.example", mesh2.roots(), 1, Duration.ofSeconds(60))));
    Files.writeString(tmp.resolve("state").resolve(PeerBundleStore.DIR).resolve("mesh3.example.json"), "{not json");
    Files.writeString(tmp.resolve("state").resolve(PeerBundleStore.DIR).resolve("..json"), "{}");
    assertThat(new PeerBundleStore(tmp.resolve("state")).load()).containsOnlyKeys("mesh2.example");
    assertThat(new PeerBundleStore(null).load()).isEmpty();
  }

  @Test
  void aSeededPeerIsTrustedBeforeItsFirstFetchAndMarkedStaleWhileItsEndpointIsAway() throws Exception {
    CertificateAuthority mesh2 = ca(tmp.resolve("mesh2"), "mesh2.example");
    PeerBundles peers = new PeerBundles(new BundleClient(null), scheduler, Clock.systemUTC(), Duration.ofMillis(50),
        Duration.ofMillis(50), () -> { });
    peers.seed(Map.of("mesh2.example", new SpiffeBundle("mesh2.example", mesh2.roots(), 3, Duration.ZERO)));
    // Nothing listens on port 1: every fetch fails, and the kept bundle stays in force.
    peers.setPeers("cluster.local", List.of(),
        List.of(FederatedPeer.httpsWeb("mesh2.example", URI.create("https://127.0.0.1:1/"), "test")));
    await().atMost(Duration.ofSeconds(20)).until(() -> peers.states().containsKey("mesh2.example")
        && peers.states().get("mesh2.example").lastAttempt() != null);
    PeerBundles.PeerState state = peers.states().get("mesh2.example");
    assertThat(state.stale()).isTrue();
    assertThat(state.bundle().sequence()).isEqualTo(3);
    assertThat(peers.roots().get("mesh2.example")).isEqualTo(mesh2.roots());
    peers.close();
  }
}
