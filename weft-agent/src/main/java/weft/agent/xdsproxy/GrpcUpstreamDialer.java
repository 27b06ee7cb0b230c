package weft.agent.xdsproxy;

import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Upstream streams over gRPC, one channel per stream: a channel that failed carries grpc-java's own
 * reconnect backoff (up to two minutes), which must not keep the proxy from a control plane that has
 * come back. A new channel costs one handshake per failover.
 */
final class GrpcUpstreamDialer implements UpstreamDialer {
  // A control plane's full push for a large mesh is several MB; gRPC's default limit is 4 MiB.
  private static final int MAX_RESPONSE_BYTES = 64 << 20;

  private final ChannelCredentials credentials;
  private final String authority;
  private final Set<ManagedChannel> open = ConcurrentHashMap.newKeySet();

  /** @param authority the name the control plane's certificate must carry; null for the address dialled */
  GrpcUpstreamDialer(ChannelCredentials credentials, String authority) {
    this.credentials = credentials;
    this.authority = authority;
  }

  @Override
  public Stream<DiscoveryRequest> open(InetSocketAddress address, Events<DiscoveryResponse> events) {
    ManagedChannel channel = channel(address);
    return call(channel, events, observer -> AggregatedDiscoveryServiceGrpc.newStub(channel)
        .streamAggregatedResources(observer));
  }

  @Override
  public Stream<DeltaDiscoveryRequest> openDelta(InetSocketAddress address, Events<DeltaDiscoveryResponse> events) {
    ManagedChannel channel = channel(address);
    return call(channel, events, observer -> AggregatedDiscoveryServiceGrpc.newStub(channel)
        .deltaAggregatedResources(observer));
  }

  private ManagedChannel channel(InetSocketAddress address) {
    NettyChannelBuilder b = NettyChannelBuilder.forAddress(address, credentials)
        .maxInboundMessageSize(MAX_RESPONSE_BYTES);
    if (authority != null && !authority.isEmpty()) b.overrideAuthority(authority);
    ManagedChannel channel = b.build();
    open.add(channel);
    return channel;
  }

  private <Q, R> Stream<Q> call(ManagedChannel channel, Events<R> events,
      Function<StreamObserver<R>, StreamObserver<Q>> start) {
    List<ClientCallStreamObserver<Q>> call = new ArrayList<>(1);
    start.apply(new ClientResponseObserver<Q, R>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<Q> requests) {
        call.add(requests);
      }

      @Override
      public void onNext(R response) {
        events.onResponse(response);
      }

      @Override
      public void onError(Throwable t) {
        release(channel);
        Status s = Status.fromThrowable(t);
        events.onClosed(s.getCode() + (s.getDescription() == null ? "" : ": " + s.getDescription()));
      }

      @Override
      public void onCompleted() {
        release(channel);
        events.onClosed("the control plane ended the stream");
      }
    });
    ClientCallStreamObserver<Q> requests = call.get(0);
    return new Stream<>() {
      @Override
      public void send(Q request) {
        synchronized (requests) {
          requests.onNext(request);
        }
      }

      @Override
      public void cancel(String why) {
        synchronized (requests) {
          requests.cancel(why, null);
        }
        release(channel);
      }
    };
  }

  private void release(ManagedChannel channel) {
    open.remove(channel);
    channel.shutdownNow();
  }

  @Override
  public void close() {
    for (ManagedChannel c : open) release(c);
  }
}
