package weft.security.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.security.api.trust.TrustBundleServiceGrpc;
import weft.security.api.trust.TrustBundleSet;
import weft.security.api.trust.WatchTrustBundlesRequest;
import weft.security.ca.CaStore;
import weft.security.ca.CertificateAuthority;

/** Agents watching the trust bundles get the current set at once, then each change, and no repeats. */
class TrustBundlePublisherTest {
  @TempDir Path tmp;
  private Server server;
  private ManagedChannel channel;

  @AfterEach
  void stop() {
    if (channel != null) channel.shutdownNow();
    if (server != null) server.shutdownNow();
  }

  @Test
  void aWatcherGetsTheCurrentSetThenEachChangeAndNoRepeat() throws Exception {
    CertificateAuthority ours = CaStore.loadOrCreate(tmp.resolve("ca1"), "cluster.local", Clock.systemUTC());
    CertificateAuthority peer = CaStore.loadOrCreate(tmp.resolve("ca2"), "mesh2.example", Clock.systemUTC());
    TrustBundlePublisher publisher = new TrustBundlePublisher();
    server = NettyServerBuilder.forAddress(new java.net.InetSocketAddress("127.0.0.1", 0)).addService(publisher)
        .build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();

    TrustBundles first = TrustBundles.of("cluster.local", List.of(), ours.roots(), List.of());
    publisher.publish(first);
    List<TrustBundleSet> got = new CopyOnWriteArrayList<>();
    TrustBundleServiceGrpc.newStub(channel).watchTrustBundles(WatchTrustBundlesRequest.getDefaultInstance(),
        new StreamObserver<>() {
          @Override
          public void onNext(TrustBundleSet value) {
            got.add(value);
          }

          @Override
          public void onError(Throwable t) { }

          @Override
          public void onCompleted() { }
        });
    await().atMost(Duration.ofSeconds(10)).until(() -> got.size() == 1);
    assertThat(got.get(0).getTrustDomainsMap()).containsOnlyKeys("cluster.local");

    publisher.publish(TrustBundles.of("cluster.local", List.of(), ours.roots(), List.of())); // same content
    TrustBundles withPeer = first.withRoots("mesh2.example", peer.roots());
    publisher.publish(withPeer);
    await().atMost(Duration.ofSeconds(10)).until(() -> got.size() == 2);
    assertThat(got.get(1).getTrustDomainsMap()).containsOnlyKeys("cluster.local", "mesh2.example");
    assertThat(got.get(1).getTrustDomainsMap().get("mesh2.example").getCertificates(0).toByteArray())
        .isEqualTo(peer.root().getEncoded());
    assertThat(got.get(1).getVersion()).isNotEqualTo(got.get(0).getVersion());
    assertThat(publisher.watchers()).isEqualTo(1);

    channel.shutdownNow();
    await().atMost(Duration.ofSeconds(10)).until(() -> publisher.watchers() == 0);
  }
}
