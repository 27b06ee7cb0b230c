package weft.bench;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The Delta wire for {@link EnvoySidecar}, as Envoy speaks it: the first request of a wildcard type
 * names nothing (the legacy wildcard Envoy still sends), later requests name only what is added to
 * or removed from the subscription, and an ACK is the type and the response's nonce alone.
 */
final class DeltaSidecar extends EnvoySidecar {
  private final StreamObserver<DeltaDiscoveryRequest> requests;
  private boolean nodeSent;

  DeltaSidecar(ManagedChannel channel, Node node, String hotEds) {
    super(node, hotEds);
    requests = AggregatedDiscoveryServiceGrpc.newStub(channel).deltaAggregatedResources(responses(this::onResponse));
  }

  private String lastNonce = "";

  private void onResponse(DeltaDiscoveryResponse r) {
    trace("<- " + shortType(r.getTypeUrl()) + " system_version_info=" + r.getSystemVersionInfo() + " nonce="
        + r.getNonce() + ", " + r.getResourcesCount() + " resources, " + r.getRemovedResourcesCount() + " removed");
    Map<String, com.google.protobuf.ByteString> changed = new HashMap<>();
    for (Resource res : r.getResourcesList()) changed.put(res.getName(), res.getResource().getValue());
    synchronized (this) {
      lastNonce = r.getNonce();
    }
    onResources(r.getTypeUrl(), changed, r.getRemovedResourcesList(), false);
  }

  @Override
  synchronized void subscribe(String typeUrl, Set<String> names, Set<String> before) {
    DeltaDiscoveryRequest.Builder request = DeltaDiscoveryRequest.newBuilder().setTypeUrl(typeUrl);
    if (names != null) {
      Set<String> added = new TreeSet<>(names);
      added.removeAll(before);
      Set<String> removed = new TreeSet<>(before);
      removed.removeAll(names);
      request.addAllResourceNamesSubscribe(added).addAllResourceNamesUnsubscribe(removed);
    }
    send(request);
  }

  @Override
  synchronized void ack(String typeUrl) {
    send(DeltaDiscoveryRequest.newBuilder().setTypeUrl(typeUrl).setResponseNonce(lastNonce));
  }

  private void send(DeltaDiscoveryRequest.Builder request) {
    if (!nodeSent) request.setNode(node);
    nodeSent = true;
    trace("-> " + shortType(request.getTypeUrl()) + (request.hasNode() ? " (with node)" : "") + " response_nonce="
        + request.getResponseNonce() + ", subscribe " + request.getResourceNamesSubscribeCount() + ", unsubscribe "
        + request.getResourceNamesUnsubscribeCount());
    requests.onNext(request.build());
  }

  @Override
  public synchronized void close() {
    requests.onCompleted();
  }
}
