package weft.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.math.BigInteger;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.agent.cert.TokenSource;
import weft.agent.cert.TrustRoots;
import weft.agent.testing.RecordingAds;
import weft.agent.testing.TestMesh;
import weft.security.SpiffeId;

/**
 * The certificate a data-plane process of Weft's own (the gateway) presents on its xDS channel: asked
 * of whichever CA answers, renewed at half-life, and the renewed one presented on the next handshake.
 */
class WorkloadCertificatesTest {
  @TempDir Path tmp;

  @Test
  void theCertificateIsRenewedAndTheNextHandshakePresentsTheNewOne() throws Exception {
    RecordingAds ads = new RecordingAds();
    String dead;
    try (ServerSocket s = new ServerSocket(0)) {
      dead = "127.0.0.1:" + s.getLocalPort();
    }
    try (TestMesh mesh = TestMesh.start(tmp, Clock.systemUTC(), ads.definition());
        WorkloadCertificates certs = WorkloadCertificates.start(new SpiffeId("cluster.local", "default", "frontend"),
            List.of(dead, mesh.address()), TestMesh.SERVER_NAME, TrustRoots.file(mesh.rootFile),
            TokenSource.literal(TestMesh.FRONTEND_TOKEN), "cluster1", tmp.resolve("certs"), Duration.ofSeconds(4),
            Duration.ofSeconds(60))) {
      BigInteger first = certs.manager().current().orElseThrow().leaf().getSerialNumber();
      ChannelCredentials mtls = certs.mutualTls();
      assertThat(presented(mtls, mesh, ads).getSerialNumber()).isEqualTo(first);
      assertThat(TestMesh.uris(presented(mtls, mesh, ads))).containsExactly("URI:" + TestMesh.FRONTEND_SPIFFE);

      // Renewed at half of its four seconds; the files are re-read every second.
      await().atMost(Duration.ofSeconds(60))
          .until(() -> !certs.manager().current().orElseThrow().leaf().getSerialNumber().equals(first));
      await().atMost(Duration.ofSeconds(60)).until(() -> !presented(mtls, mesh, ads).getSerialNumber().equals(first));
    }
  }

  /** The leaf a new connection with {@code credentials} presents to the control plane. */
  private static X509Certificate presented(ChannelCredentials credentials, TestMesh mesh, RecordingAds ads)
      throws Exception {
    ManagedChannel channel = Grpc.newChannelBuilder(mesh.address(), credentials)
        .overrideAuthority(TestMesh.SERVER_NAME).build();
    try {
      int before = ads.peers.size();
      StreamObserver<DiscoveryRequest> stream = AggregatedDiscoveryServiceGrpc.newStub(channel)
          .streamAggregatedResources(new StreamObserver<>() {
            @Override
            public void onNext(io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse value) {}

            @Override
            public void onError(Throwable t) {}

            @Override
            public void onCompleted() {}
          });
      stream.onNext(DiscoveryRequest.newBuilder().setTypeUrl("type.googleapis.com/envoy.config.listener.v3.Listener")
          .build());
      await().atMost(Duration.ofSeconds(60)).until(() -> ads.peers.size() > before);
      List<Certificate> chain = ads.peers.get(ads.peers.size() - 1);
      assertThat(chain).as("a client certificate was presented").isNotEmpty();
      return (X509Certificate) chain.get(0);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
