package weft.e2e;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A Delta ADS client as Envoy behaves (grpc-java 1.85 has none): the node on the first request, an
 * empty first subscription for a wildcard type, later requests carrying only what changes, and every
 * response ACKed by its nonce alone. It keeps every response it got, in order.
 */
final class DeltaAdsClient implements AutoCloseable {
  final List<DeltaDiscoveryResponse> responses = new CopyOnWriteArrayList<>();
  final List<Throwable> errors = new CopyOnWriteArrayList<>();
  private final ManagedChannel channel;
  private final StreamObserver<DeltaDiscoveryRequest> requests;
  private Node node;

  DeltaAdsClient(int port, Node node) {
    this.node = node;
    channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    requests = AggregatedDiscoveryServiceGrpc.newStub(channel).deltaAggregatedResources(new StreamObserver<>() {
      @Override
      public void onNext(DeltaDiscoveryResponse r) {
        responses.add(r);
        send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(r.getTypeUrl()).setResponseNonce(r.getNonce()));
      }

      @Override
      public void onError(Throwable t) {
        errors.add(t);
      }

      @Override
      public void onCompleted() {
        errors.add(new IllegalStateException("the proxy ended the stream"));
      }
    });
  }

  /** Subscribes to {@code names} of a type; none on a type's first request is the wildcard. */
  void subscribe(String typeUrl, String... names) {
    send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(typeUrl).addAllResourceNamesSubscribe(List.of(names)));
  }

  private synchronized void send(DeltaDiscoveryRequest.Builder r) {
    if (node != null) {
      r.setNode(node);
      node = null;
    }
    requests.onNext(r.build());
  }

  @Override
  public void close() {
    synchronized (this) {
      requests.onCompleted();
    }
    channel.shutdownNow();
  }
}
