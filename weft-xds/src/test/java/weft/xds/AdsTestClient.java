package weft.xds;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.rpc.Status;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A raw State-of-the-World ADS client over a real socket: sends what a test says, records what comes back. */
final class AdsTestClient implements AutoCloseable {
  final ManagedChannel channel;
  final BlockingQueue<DiscoveryResponse> responses = new LinkedBlockingQueue<>();
  final BlockingQueue<Throwable> errors = new LinkedBlockingQueue<>();
  private final StreamObserver<DiscoveryRequest> requests;
  private final Node node;

  AdsTestClient(int port, Node node) {
    this(NettyChannelBuilder.forAddress("localhost", port).usePlaintext().build(), node);
  }

  /** Over a channel of the test's making (TLS, call credentials); closing the client shuts it down. */
  AdsTestClient(ManagedChannel channel, Node node) {
    this.node = node;
    this.channel = channel;
    requests = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(new StreamObserver<>() {
      @Override
      public void onNext(DiscoveryResponse value) {
        responses.add(value);
      }

      @Override
      public void onError(Throwable t) {
        errors.add(t);
      }

      @Override
      public void onCompleted() {}
    });
  }

  static Node proxyless(String pod, String namespace) {
    return Node.newBuilder()
        .setId("sidecar~10.0.0.9~" + pod + "." + namespace + "~" + namespace + ".svc.cluster.local")
        .setMetadata(Struct.newBuilder()
            .putFields("GENERATOR", Value.newBuilder().setStringValue("grpc").build())
            .putFields("NAMESPACE", Value.newBuilder().setStringValue(namespace).build()))
        .build();
  }

  /** An Envoy sidecar's node: no GENERATOR, Istio's id and metadata. */
  static Node sidecar(String pod, String namespace, String ip) {
    return Node.newBuilder()
        .setId("sidecar~" + ip + "~" + pod + "." + namespace + "~" + namespace + ".svc.cluster.local")
        .setMetadata(Struct.newBuilder()
            .putFields("NAMESPACE", Value.newBuilder().setStringValue(namespace).build())
            .putFields("CLUSTER_ID", Value.newBuilder().setStringValue("cluster1").build()))
        .build();
  }

  void request(String typeUrl, List<String> names) {
    requests.onNext(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(typeUrl).addAllResourceNames(names).build());
  }

  void ack(DiscoveryResponse r, List<String> names) {
    requests.onNext(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(r.getTypeUrl())
        .setVersionInfo(r.getVersionInfo()).setResponseNonce(r.getNonce()).addAllResourceNames(names).build());
  }

  void nack(DiscoveryResponse r, String previousVersion, List<String> names, String reason) {
    requests.onNext(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(r.getTypeUrl())
        .setVersionInfo(previousVersion).setResponseNonce(r.getNonce()).addAllResourceNames(names)
        .setErrorDetail(Status.newBuilder().setCode(3).setMessage(reason)).build());
  }

  DiscoveryResponse next() throws InterruptedException {
    DiscoveryResponse r = responses.poll(60, TimeUnit.SECONDS);
    if (r == null) throw new AssertionError("no xDS response within 60 s");
    return r;
  }

  @Override
  public void close() {
    channel.shutdownNow();
  }
}
