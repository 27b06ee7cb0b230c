package weft.xds.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import weft.xds.TypeUrls;

/** How a stream ends and what it keeps of its client's words once they have served. */
class StreamEndingsTest {
  static final String BIG = SlowReaderTest.BIG;

  @Test
  void aClientThatFinishesItsSideGetsTheStreamCompletedAndLeavesTheServer() throws Exception {
    Node node = StreamMesh.proxyless("done-1");
    try (StreamMesh mesh = new StreamMesh(StreamMesh.service("big", 9080, "big-1", StreamMesh.addresses(1, 2)));
        var client = RawAdsClient.sotw(mesh.port(), false, r -> { })) {
      client.send(RawAdsClient.request(node, TypeUrls.ENDPOINT, List.of(BIG)));
      assertThat(client.read().getResourcesCount()).isEqualTo(1);
      assertThat(mesh.ads.proxyIds()).containsExactly(node.getId());

      client.call.halfClose();
      // A change racing with the end must not write after the completion.
      mesh.apply(SlowReaderTest.markerSlice(1), false);
      client.call.request(Integer.MAX_VALUE);

      assertThat(client.closed.get(60, TimeUnit.SECONDS).getCode()).isEqualTo(Status.Code.OK);
      await().atMost(Duration.ofSeconds(60)).until(() -> mesh.ads.proxyIds().isEmpty());
    }
  }

  @Test
  void deltaInitialVersionsAreForgottenOnceTheFirstAnswerReconciledThem() throws Exception {
    Node node = StreamMesh.proxyless("back-1");
    try (StreamMesh mesh = new StreamMesh(StreamMesh.service("big", 9080, "big-1", StreamMesh.addresses(1, 2)));
        var client = RawAdsClient.delta(mesh.port(), false, r -> { })) {
      client.send(DeltaDiscoveryRequest.newBuilder().setNode(node).setTypeUrl(TypeUrls.ENDPOINT)
          .addResourceNamesSubscribe(BIG).putInitialResourceVersions(BIG, "stale")
          .putInitialResourceVersions("outbound|1||gone", "1").build());
      DeltaDiscoveryResponse first = client.read();
      assertThat(first.getResourcesList()).extracting(r -> r.getName()).containsExactly(BIG);

      ProxyConnection stream = mesh.ads.connections().get(0);
      CompletableFuture<Object> held = new CompletableFuture<>();
      stream.serial.execute(() -> held.complete(String.valueOf(stream.watches.get(TypeUrls.ENDPOINT).clientVersions)));
      assertThat(held.get(60, TimeUnit.SECONDS)).isEqualTo("null");
    }
  }
}
