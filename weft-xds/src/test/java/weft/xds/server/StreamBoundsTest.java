package weft.xds.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import weft.xds.TypeUrls;
import weft.xds.dump.SentResources;

/** What a stream may cost others: status never waits for it, and its client cannot grow it without bound. */
class StreamBoundsTest {
  static final String BIG = SlowReaderTest.BIG;

  @Test
  void statusAndConfigDumpAnswerWithEveryProxyWhileEveryStreamsExecutorIsBlocked() throws Exception {
    String yaml = StreamMesh.service("big", 9080, "big-1", StreamMesh.addresses(1, 3))
        + StreamMesh.slice("big", 9080, "marker", List.of(SlowReaderTest.marker(0)));
    Node sotwNode = StreamMesh.proxyless("sotw-1");
    Node deltaNode = StreamMesh.proxyless("delta-1");
    BlockingQueue<String> sotwMarkers = new LinkedBlockingQueue<>();
    BlockingQueue<DeltaDiscoveryResponse> deltaResponses = new LinkedBlockingQueue<>();
    try (StreamMesh mesh = new StreamMesh(yaml);
        var sotw = RawAdsClient.sotw(mesh.port(), true, r -> sotwMarkers.add(SlowReaderTest.markerIn(r)));
        var delta = RawAdsClient.delta(mesh.port(), true, deltaResponses::add)) {
      sotw.send(RawAdsClient.request(sotwNode, TypeUrls.ENDPOINT, List.of(BIG)));
      delta.send(DeltaDiscoveryRequest.newBuilder().setNode(deltaNode).setTypeUrl(TypeUrls.ENDPOINT)
          .addResourceNamesSubscribe(BIG).build());
      SlowReaderTest.awaitMarker(sotwMarkers, SlowReaderTest.marker(0));
      assertThat(deltaResponses.poll(60, TimeUnit.SECONDS)).isNotNull();
      await().atMost(Duration.ofSeconds(60)).until(() -> mesh.ads.connections().size() == 2);

      CountDownLatch release = new CountDownLatch(1);
      CountDownLatch parked = new CountDownLatch(2);
      for (ProxyConnection c : mesh.ads.connections()) {
        c.serial.execute(() -> {
          parked.countDown();
          awaitUninterruptibly(release);
        });
      }
      try {
        assertThat(parked.await(60, TimeUnit.SECONDS)).isTrue();
        // A change now queues behind the parked tasks: the streams cannot touch their state.
        mesh.apply(SlowReaderTest.markerSlice(1), false);

        List<Map<String, Object>> status = mesh.ads.proxyStatus();
        assertThat(status).extracting(m -> m.get("id")).containsExactly(deltaNode.getId(), sotwNode.getId());
        for (Map<String, Object> proxy : status) {
          assertThat(SlowReaderTest.eds(proxy)).containsEntry("resources", 1).containsEntry("subscribed", List.of(BIG));
        }
        assertThat(mesh.ads.proxyIds()).containsExactly(deltaNode.getId(), sotwNode.getId());
        // The dump is generated from the newest snapshot: the change the stream has not sent shows as pending.
        SentResources eds = mesh.ads.configOf(sotwNode.getId()).orElseThrow().get(0);
        assertThat(eds.resources()).containsOnlyKeys(BIG);
        assertThat(eds.pending()).containsExactly(BIG);
      } finally {
        release.countDown();
      }
      SlowReaderTest.awaitMarker(sotwMarkers, SlowReaderTest.marker(1));
      await().atMost(Duration.ofSeconds(60))
          .until(() -> mesh.ads.configOf(sotwNode.getId()).orElseThrow().get(0).pending().isEmpty());
    }
  }

  @Test
  void aClientSubscribingToMoreNamesThanAStreamMayHoldIsClosedWithResourceExhausted() throws Exception {
    Node node = StreamMesh.proxyless("greedy-1");
    BlockingQueue<DeltaDiscoveryResponse> responses = new LinkedBlockingQueue<>();
    int batch = 50_000;
    try (StreamMesh mesh = new StreamMesh(StreamMesh.service("big", 9080, "big-1", StreamMesh.addresses(1, 1)));
        var greedy = RawAdsClient.delta(mesh.port(), true, responses::add)) {
      int batches = ProxyConnection.MAX_NAMES / batch;
      for (int b = 0; b < batches; b++) {
        greedy.send(bogusNames(node, b, batch));
        DeltaDiscoveryResponse r = responses.poll(60, TimeUnit.SECONDS);
        assertThat(r).as("answer to batch %d (stream closed: %s)", b, greedy.closed.getNow(null)).isNotNull();
        // Names that do not exist (yet) are accepted, as Envoy expects: each is answered.
        assertThat(r.getResourcesCount() + r.getRemovedResourcesCount()).isEqualTo(batch);
      }
      assertThat(mesh.ads.proxyIds()).containsExactly(node.getId());

      greedy.send(bogusNames(node, batches, batch));

      Status closed = greedy.closed.get(60, TimeUnit.SECONDS);
      assertThat(closed.getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(closed.getDescription()).contains("at most " + ProxyConnection.MAX_NAMES + " names");
      await().atMost(Duration.ofSeconds(60)).until(() -> mesh.ads.proxyIds().isEmpty());
    }
  }

  static DeltaDiscoveryRequest bogusNames(Node node, int batchIndex, int batch) {
    List<String> names = new ArrayList<>(batch);
    for (int i = 0; i < batch; i++) names.add("outbound|1||h" + batchIndex + "-" + i);
    return DeltaDiscoveryRequest.newBuilder().setNode(node).setTypeUrl(TypeUrls.ENDPOINT)
        .addAllResourceNamesSubscribe(names).build();
  }

  static void awaitUninterruptibly(CountDownLatch latch) {
    boolean interrupted = false;
    while (true) {
      try {
        latch.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) Thread.currentThread().interrupt();
  }
}
