package weft.bench;

import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The State-of-the-World wire for {@link EnvoySidecar}. Every request of a type carries what
 * Envoy's xDS mux keeps per type: the subscribed names (none for a wildcard), the version_info of
 * the last accepted response and the nonce of the last response received. An ACK is therefore the
 * same names with the response's version_info and nonce.
 */
final class SotwSidecar extends EnvoySidecar {
  /** Names as UTF-8, shared by every sidecar of the harness. */
  private static final java.util.concurrent.ConcurrentMap<String, ByteString> WIRE_NAMES =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final StreamObserver<DiscoveryRequest> requests;
  /** Per type: names (null = wildcard), last accepted version_info, last nonce. */
  private final Map<String, DiscoveryRequest.Builder> perType = new HashMap<>();
  private boolean nodeSent;

  SotwSidecar(ManagedChannel channel, Node node, String hotEds) {
    super(node, hotEds);
    requests = ClientCalls.asyncBidiStreamingCall(channel.newCall(METHOD, CallOptions.DEFAULT),
        responses(this::onResponse));
  }

  /** ADS with responses read as {@link LightResponse}s: the harness reads only what a sidecar acts on. */
  private static final MethodDescriptor<DiscoveryRequest, LightResponse> METHOD =
      AggregatedDiscoveryServiceGrpc.getStreamAggregatedResourcesMethod().toBuilder(
          ProtoUtils.marshaller(DiscoveryRequest.getDefaultInstance()), LightResponse.MARSHALLER).build();

  private void onResponse(LightResponse r) {
    String type = r.typeUrl();
    if (trace) {
      trace("<- " + shortType(type) + " version_info=" + r.versionInfo() + " nonce=" + r.nonce() + ", "
          + r.resources().size() + " resources");
    }
    Map<String, ByteString> changed = new HashMap<>();
    for (ByteString value : r.resources()) changed.put(Peek.name(value), value);
    synchronized (this) {
      DiscoveryRequest.Builder state = perType.get(type);
      if (state == null) {
        error = new IllegalStateException("response of a type never asked for: " + type);
        return;
      }
      state.setVersionInfo(r.versionInfo()).setResponseNonce(r.nonce());
    }
    boolean fullState = type.equals(BenchTypes.CLUSTER) || type.equals(BenchTypes.LISTENER);
    onResources(type, changed, List.of(), fullState);
  }

  @Override
  synchronized void subscribe(String typeUrl, Set<String> names, Set<String> before) {
    DiscoveryRequest.Builder state = perType.computeIfAbsent(typeUrl,
        t -> DiscoveryRequest.newBuilder().setTypeUrl(t));
    state.clearResourceNames();
    // As bytes: each ACK repeats every name, and protobuf writes a ByteString as it is but
    // encodes a String anew each time. Envoy encodes its requests in C++ at a fraction of that
    // cost; the harness shares the control plane's cores, so it must not spend them on its ACKs.
    if (names != null) for (String n : names) state.addResourceNamesBytes(WIRE_NAMES.computeIfAbsent(n, ByteString::copyFromUtf8));
    send(state);
  }

  @Override
  synchronized void ack(String typeUrl) {
    send(perType.get(typeUrl));
  }

  /** Like Envoy with Istio's bootstrap ({@code set_node_on_first_message_only}), the node goes only in the first request. */
  private void send(DiscoveryRequest.Builder state) {
    DiscoveryRequest.Builder request = state.clone();
    if (!nodeSent) request.setNode(node);
    nodeSent = true;
    if (trace) {
      trace("-> " + shortType(request.getTypeUrl()) + (request.hasNode() ? " (with node)" : "") + " version_info="
          + request.getVersionInfo() + " response_nonce=" + request.getResponseNonce() + ", "
          + (request.getResourceNamesCount() == 0 ? "wildcard" : request.getResourceNamesCount() + " names"));
    }
    requests.onNext(request.build());
  }

  @Override
  public synchronized void close() {
    requests.onCompleted();
  }
}
