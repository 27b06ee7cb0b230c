package weft.xds;

import com.google.rpc.Status;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A raw Delta ADS client over a real socket, as Envoy would use it. */
final class DeltaTestClient implements AutoCloseable {
  final ManagedChannel channel;
  final BlockingQueue<DeltaDiscoveryResponse> responses = new LinkedBlockingQueue<>();
  private final StreamObserver<DeltaDiscoveryRequest> requests;
  private final Node node;
  private boolean nodeSent;

  DeltaTestClient(int port, Node node) {
    this(NettyChannelBuilder.forAddress("localhost", port).usePlaintext().build(), node);
  }

  /** Over a channel of the test's making (TLS, call credentials); closing the client shuts it down. */
  DeltaTestClient(ManagedChannel channel, Node node) {
    this.node = node;
    this.channel = channel;
    requests = AggregatedDiscoveryServiceGrpc.newStub(channel).deltaAggregatedResources(new StreamObserver<>() {
      @Override
      public void onNext(DeltaDiscoveryResponse value) {
        responses.add(value);
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    });
  }

  /** Envoy sends the node only with the first request of a stream. */
  void send(DeltaDiscoveryRequest.Builder request) {
    if (!nodeSent) request.setNode(node);
    nodeSent = true;
    requests.onNext(request.build());
  }

  void subscribe(String typeUrl, List<String> names, Map<String, String> initialVersions) {
    send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(typeUrl).addAllResourceNamesSubscribe(names)
        .putAllInitialResourceVersions(initialVersions));
  }

  void unsubscribe(String typeUrl, List<String> names) {
    send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(typeUrl).addAllResourceNamesUnsubscribe(names));
  }

  void ack(DeltaDiscoveryResponse r) {
    send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(r.getTypeUrl()).setResponseNonce(r.getNonce()));
  }

  void nack(DeltaDiscoveryResponse r, String reason) {
    send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(r.getTypeUrl()).setResponseNonce(r.getNonce())
        .setErrorDetail(Status.newBuilder().setCode(3).setMessage(reason)));
  }

  DeltaDiscoveryResponse next() throws InterruptedException {
    DeltaDiscoveryResponse r = responses.poll(60, TimeUnit.SECONDS);
    if (r == null) throw new AssertionError("no Delta xDS response within 60 s");
    return r;
  }

  @Override
  public void close() {
    channel.shutdownNow();
  }
}
