package weft.bench;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One simulated proxyless client: subscribes to clusters and endpoints of a few services, ACKs
 * everything, and notes when the hot cluster's endpoints first contain an expected address.
 */
final class BenchStream implements ChangeRounds.Watcher {
  private final StreamObserver<DiscoveryRequest> requests;
  private final Node node;
  private final List<String> clusters;
  private final String hotCluster;
  final CountDownLatch synced = new CountDownLatch(2);
  private final AtomicReference<String> awaited = new AtomicReference<>();
  private final AtomicLong arrived = new AtomicLong();
  volatile Throwable error;

  BenchStream(ManagedChannel channel, int index, List<String> clusters, String hotCluster) {
    this.clusters = clusters;
    this.hotCluster = hotCluster;
    this.node = Node.newBuilder()
        .setId("sidecar~10.200." + (index / 250) + "." + (index % 250) + "~bench-" + index
            + ".bench~bench.svc.cluster.local")
        .setMetadata(Struct.newBuilder()
            .putFields("GENERATOR", Value.newBuilder().setStringValue("grpc").build())
            .putFields("NAMESPACE", Value.newBuilder().setStringValue("bench").build()))
        .build();
    requests = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(new StreamObserver<>() {
      @Override
      public void onNext(DiscoveryResponse r) {
        onResponse(r);
      }

      @Override
      public void onError(Throwable t) {
        error = t;
      }

      @Override
      public void onCompleted() {}
    });
  }

  void subscribe() {
    send(DiscoveryRequest.newBuilder()
        .setTypeUrl(BenchTypes.CLUSTER).addAllResourceNames(clusters));
    send(DiscoveryRequest.newBuilder().setTypeUrl(BenchTypes.ENDPOINT).addAllResourceNames(clusters));
  }

  /** From now on, note the first time the hot cluster lists {@code address}. */
  @Override
  public void await(String address) {
    arrived.set(0);
    awaited.set(address);
  }

  @Override
  public long arrivedNanos() {
    return arrived.get();
  }

  private synchronized void onResponse(DiscoveryResponse r) {
    send(DiscoveryRequest.newBuilder().setTypeUrl(r.getTypeUrl()).setVersionInfo(r.getVersionInfo())
        .setResponseNonce(r.getNonce()).addAllResourceNames(clusters));
    synced.countDown();
    String address = awaited.get();
    if (address == null || !r.getTypeUrl().equals(BenchTypes.ENDPOINT)) return;
    long now = System.nanoTime();
    for (var any : r.getResourcesList()) {
      try {
        ClusterLoadAssignment cla = any.unpack(ClusterLoadAssignment.class);
        if (!cla.getClusterName().equals(hotCluster)) continue;
        for (var locality : cla.getEndpointsList()) {
          for (var e : locality.getLbEndpointsList()) {
            if (e.getEndpoint().getAddress().getSocketAddress().getAddress().equals(address)) {
              arrived.compareAndSet(0, now);
            }
          }
        }
      } catch (InvalidProtocolBufferException e) {
        error = e;
      }
    }
  }

  private boolean nodeSent;

  /** Like Envoy and grpc-java, the node goes only in the first request of the stream. */
  private synchronized void send(DiscoveryRequest.Builder request) {
    if (!nodeSent) request.setNode(node);
    nodeSent = true;
    requests.onNext(request.build());
  }

  void close() {
    requests.onCompleted();
  }
}
