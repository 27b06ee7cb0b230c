package weft.agent.xdsproxy;

import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.net.InetSocketAddress;

/**
 * Opens ADS streams to control planes. The proxy's only way out: production dials gRPC over the
 * network ({@link GrpcUpstreamDialer}), the state machine's tests hand back streams they drive by hand.
 */
interface UpstreamDialer extends AutoCloseable {
  /** Starts one State-of-the-World ADS stream to {@code address}; events arrive on any thread. */
  Stream<DiscoveryRequest> open(InetSocketAddress address, Events<DiscoveryResponse> events);

  /** Starts one Delta ADS stream ({@code DeltaAggregatedResources}) to {@code address}. */
  Stream<DeltaDiscoveryRequest> openDelta(InetSocketAddress address, Events<DeltaDiscoveryResponse> events);

  /** Releases the channels; streams still open are cancelled. */
  @Override
  void close();

  /** The requests half of one upstream stream. */
  interface Stream<Q> {
    void send(Q request);

    /** Cancels the stream; no more events follow that matter (they carry a stale stream id). */
    void cancel(String why);
  }

  /** What the control plane says on one stream. */
  interface Events<R> {
    void onResponse(R response);

    /** The stream ended (error or completion); {@code why} is for the log. */
    void onClosed(String why);
  }
}
