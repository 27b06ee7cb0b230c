package weft.agent.xdsproxy;

import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import java.net.InetSocketAddress;

/**
 * Opens ADS streams to control planes. The proxy's only way out: production dials gRPC over the
 * network ({@link GrpcUpstreamDialer}), the state machine's tests hand back streams they drive by hand.
 */
interface UpstreamDialer extends AutoCloseable {
  /** Starts one SotW ADS stream to {@code address}; events arrive on any thread. */
  Stream open(InetSocketAddress address, Events events);

  /** Releases the channels; streams still open are cancelled. */
  @Override
  void close();

  /** The requests half of one upstream stream. */
  interface Stream {
    void send(DiscoveryRequest request);

    /** Cancels the stream; no more events follow that matter (they carry a stale stream id). */
    void cancel(String why);
  }

  /** What the control plane says on one stream. */
  interface Events {
    void onResponse(DiscoveryResponse response);

    /** The stream ended (error or completion); {@code why} is for the log. */
    void onClosed(String why);
  }
}
