package weft.xds.server;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * An ADS stream as a raw gRPC call on its own connection, with manual flow control: it reads as many
 * responses as the test asks for and no more, so a test can play a client that stops reading.
 */
final class RawAdsClient<Q, R> implements AutoCloseable {
  final ManagedChannel channel;
  final ClientCall<Q, R> call;
  final BlockingQueue<R> responses = new LinkedBlockingQueue<>();
  final CompletableFuture<Status> closed = new CompletableFuture<>();

  /**
   * @param onResponse sees every response first, on the transport's thread; with {@code keepReading}
   *     the client asks for the next one after it, otherwise only the test's {@link #read} asks
   */
  private RawAdsClient(int port, MethodDescriptor<Q, R> method, boolean keepReading, Consumer<R> onResponse) {
    // Large enough for a response to tens of thousands of names.
    channel = NettyChannelBuilder.forAddress("localhost", port).usePlaintext().maxInboundMessageSize(64 << 20).build();
    call = channel.newCall(method, CallOptions.DEFAULT);
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onMessage(R message) {
        onResponse.accept(message);
        if (keepReading) {
          call.request(1);
        } else {
          responses.add(message);
        }
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        closed.complete(status);
      }
    }, new Metadata());
    if (keepReading) call.request(1);
  }

  static RawAdsClient<DiscoveryRequest, DiscoveryResponse> sotw(int port, boolean keepReading,
      Consumer<DiscoveryResponse> onResponse) {
    return new RawAdsClient<>(port, AggregatedDiscoveryServiceGrpc.getStreamAggregatedResourcesMethod(), keepReading,
        onResponse);
  }

  static RawAdsClient<DeltaDiscoveryRequest, DeltaDiscoveryResponse> delta(int port, boolean keepReading,
      Consumer<DeltaDiscoveryResponse> onResponse) {
    return new RawAdsClient<>(port, AggregatedDiscoveryServiceGrpc.getDeltaAggregatedResourcesMethod(), keepReading,
        onResponse);
  }

  static DiscoveryRequest request(Node node, String typeUrl, List<String> names) {
    return DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(typeUrl).addAllResourceNames(names).build();
  }

  void send(Q request) {
    call.sendMessage(request);
  }

  /** Reads one more response (a client that does not call this reads nothing more). */
  R read() throws InterruptedException {
    call.request(1);
    R r = responses.poll(60, TimeUnit.SECONDS);
    if (r == null) throw new AssertionError("no xDS response within 60 s");
    return r;
  }

  @Override
  public void close() {
    channel.shutdownNow();
  }
}
