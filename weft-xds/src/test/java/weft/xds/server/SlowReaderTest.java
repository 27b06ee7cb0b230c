package weft.xds.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import weft.model.Resource;
import weft.model.ResourceId;
import weft.xds.TypeUrls;

/**
 * Flow control: a client that stops reading costs the server at most one pending push per type,
 * never delays the other streams, and is closed once it has read nothing for the send timeout.
 */
class SlowReaderTest {
  static final String BIG = "outbound|9080||big.default.svc.cluster.local";
  /** Endpoints of the big service: enough that 1,000 unread pushes of it would be tens of megabytes. */
  static final int ENDPOINTS = 1500;
  static final int CHANGES = 1000;
  static final long ALLOWED_GROWTH = 16L << 20;

  @Test
  void aClientThatStopsReadingHoldsNoBacklogWhileOthersConvergeAndIsClosedAfterTheSendTimeout() throws Exception {
    String yaml = StreamMesh.service("big", 9080, "big-1", StreamMesh.addresses(1, ENDPOINTS))
        + StreamMesh.slice("big", 9080, "marker", List.of(marker(0)));
    Node slowNode = StreamMesh.proxyless("slow-1");
    Node fastNode = StreamMesh.proxyless("fast-1");
    BlockingQueue<String> fastMarkers = new LinkedBlockingQueue<>();
    try (StreamMesh mesh = new StreamMesh(yaml);
        var slow = RawAdsClient.sotw(mesh.port(), false, r -> { });
        var fast = RawAdsClient.sotw(mesh.port(), true, r -> fastMarkers.add(markerIn(r)))) {
      slow.send(RawAdsClient.request(slowNode, TypeUrls.ENDPOINT, List.of(BIG)));
      DiscoveryResponse first = slow.read();
      // The precondition that makes the bound meaningful: every push to the slow client is sizeable.
      assertThat(first.getSerializedSize()).isGreaterThan(40_000);
      fast.send(RawAdsClient.request(fastNode, TypeUrls.ENDPOINT, List.of(BIG)));
      assertThat(fastMarkers.poll(60, TimeUnit.SECONDS)).isEqualTo(marker(0));
      long before = liveHeap();

      for (int i = 1; i <= CHANGES; i++) {
        mesh.apply(markerSlice(i), false);
        // The other stream gets every change while the slow one reads nothing.
        awaitMarker(fastMarkers, marker(i));
      }

      long growth = liveHeap() - before;
      assertThat(growth).as("live heap growth over %d pushes to a client that reads nothing", CHANGES)
          .isLessThan(ALLOWED_GROWTH);
      Map<String, Object> slowStatus = status(mesh, slowNode.getId());
      assertThat(eds(slowStatus)).containsEntry("waitingToSend", true);
      assertThat(mesh.counter("weft_xds_send_timeouts_total")).isZero();

      mesh.deadlines.advance(AdsServer.DEFAULT_SEND_TIMEOUT.plusSeconds(1));

      await().atMost(Duration.ofSeconds(60)).until(() -> !mesh.ads.proxyIds().contains(slowNode.getId()));
      assertThat(mesh.ads.proxyIds()).containsExactly(fastNode.getId());
      assertThat(mesh.counter("weft_xds_send_timeouts_total")).isEqualTo(1);
      // Reading again drains what the transport held and then the server's closing status.
      slow.call.request(Integer.MAX_VALUE);
      Status closed = slow.closed.get(60, TimeUnit.SECONDS);
      assertThat(closed.getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
      assertThat(closed.getDescription()).contains("EDS").contains("--xds-send-timeout");
    }
  }

  static void awaitMarker(BlockingQueue<String> markers, String wanted) throws InterruptedException {
    while (true) {
      String seen = markers.poll(60, TimeUnit.SECONDS);
      if (seen == null) throw new AssertionError("the reading stream never got " + wanted);
      if (seen.equals(wanted)) return;
    }
  }

  static String marker(int change) {
    return "10.200." + (change / 250) + "." + (change % 250 + 1);
  }

  static Map<ResourceId, Resource> markerSlice(int change) {
    return StreamMesh.parse(StreamMesh.slice("big", 9080, "marker", List.of(marker(change))));
  }

  /** The marker address in an EDS response (the one endpoint of the changing slice), or "" if none. */
  static String markerIn(DiscoveryResponse response) {
    for (Any any : response.getResourcesList()) {
      try {
        ClusterLoadAssignment cla = any.unpack(ClusterLoadAssignment.class);
        for (LocalityLbEndpoints l : cla.getEndpointsList()) {
          for (LbEndpoint e : l.getLbEndpointsList()) {
            String ip = e.getEndpoint().getAddress().getSocketAddress().getAddress();
            if (ip.startsWith("10.200.")) return ip;
          }
        }
      } catch (InvalidProtocolBufferException e) {
        throw new AssertionError(e);
      }
    }
    return "";
  }

  static Map<String, Object> status(StreamMesh mesh, String id) {
    return mesh.ads.proxyStatus().stream().filter(m -> m.get("id").equals(id)).findFirst().orElseThrow();
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> eds(Map<String, Object> status) {
    return (Map<String, Object>) ((Map<String, Object>) status.get("xds")).get("EDS");
  }

  /** Heap in use after full collections: what is really held. */
  static long liveHeap() {
    for (int i = 0; i < 3; i++) System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }
}
