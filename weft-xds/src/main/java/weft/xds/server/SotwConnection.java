package weft.xds.server;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executor;
import weft.registry.MeshSnapshot;
import weft.xds.Generated;
import weft.xds.Generation;
import weft.xds.TypeUrls;
import weft.xds.view.ProxyView;

/** A State-of-the-World ADS stream (what grpc-java speaks, and Envoy by default). */
final class SotwConnection extends ProxyConnection {
  private final StreamObserver<DiscoveryResponse> responses;

  SotwConnection(AdsServer server, StreamObserver<DiscoveryResponse> responses, Executor pool, String peer,
      MeshSnapshot initial) {
    super(server, pool, peer, initial);
    this.responses = responses;
  }

  @Override
  String protocol() {
    return "sotw";
  }

  void onRequest(DiscoveryRequest request) {
    serial.execute(() -> handle(request));
  }

  @Override
  void fail(Status status) {
    responses.onError(status.asRuntimeException());
  }

  private void handle(DiscoveryRequest request) {
    if (closed || !identify(request.getNode())) return;
    String type = request.getTypeUrl();
    if (!TypeUrls.PUSH_ORDER.contains(type)) {
      unsupportedType(type);
      return;
    }
    WatchState w = watches.computeIfAbsent(type, WatchState::new);
    String responseNonce = request.getResponseNonce();
    boolean isReply = !responseNonce.isEmpty();
    if (isReply && !responseNonce.equals(w.lastNonce)) {
      // Stale: the client has not seen our latest response yet and will answer it. What it says
      // of the earlier one still tells which version it holds.
      String version = w.versionOf(responseNonce);
      if (version != null && !request.hasErrorDetail()) w.ackedVersion = version;
      return;
    }
    if (isReply && request.hasErrorDetail()) {
      nacked(w, request.getVersionInfo(), responseNonce, request.getErrorDetail().getMessage());
    } else if (isReply) {
      w.ackedVersion = request.getVersionInfo();
      w.lastNack = null;
    }
    // The common case is an ACK naming exactly what is watched: answer it without building sets.
    if (isReply && !w.wildcard && sameNames(request.getResourceNamesList(), w.names)) return;
    Set<String> requested = new TreeSet<>(request.getResourceNamesList());
    // An empty list means "everything" only for listeners and clusters, and only until names are given.
    boolean wildcard = requested.remove("*") || (requested.isEmpty() && TypeUrls.isFullState(type));
    boolean changedSubscription = !requested.equals(w.names) || wildcard != w.wildcard;
    if (isReply && !changedSubscription) return;
    Set<String> added = new TreeSet<>(requested);
    added.removeAll(w.names);
    w.names = requested;
    w.wildcard = wildcard;
    // Forget what was sent for names no longer watched, so a later re-subscription is answered.
    if (!wildcard) w.sent.keySet().retainAll(requested);
    ProxyView view = view(snapshot());
    Set<String> names = TypeUrls.isFullState(type) || !isReply ? requested : added;
    if (names.isEmpty() && !wildcard && !TypeUrls.isFullState(type) && isReply) return;
    push(w, view, names, true);
    recordDropped(view, false);
  }

  /** True when {@code requested} (as the client listed them) are exactly {@code watched}. */
  private static boolean sameNames(java.util.List<String> requested, Set<String> watched) {
    if (requested.size() != watched.size()) return false;
    for (String n : requested) if (!watched.contains(n)) return false;
    return true;
  }

  /**
   * Generates the named resources and sends what the client lacks. For listeners and clusters a
   * response must list them all (absence means deletion); routes and endpoints may go alone.
   */
  @Override
  boolean push(WatchState w, ProxyView view, Set<String> names, boolean force) {
    long start = System.nanoTime();
    boolean full = TypeUrls.isFullState(w.typeUrl);
    Generation generation = generate(w, view, full ? w.names : names);
    if (generation.failed()) return false;
    SortedMap<String, Generated> resources = generation.resources();
    Map<String, ByteString> changed = new HashMap<>();
    for (Map.Entry<String, Generated> e : resources.entrySet()) {
      ByteString bytes = e.getValue().resource().getValue();
      if (!sameBytes(bytes, w.sent.get(e.getKey()))) changed.put(e.getKey(), bytes);
    }
    boolean removed = full && !resources.keySet().containsAll(w.sent.keySet());
    if (!force && changed.isEmpty() && !removed) return false;
    DiscoveryResponse.Builder response = DiscoveryResponse.newBuilder().setTypeUrl(w.typeUrl);
    if (full) {
      w.sent = new TreeMap<>();
      resources.forEach((n, g) -> {
        w.sent.put(n, g.resource().getValue());
        response.addResources(g.resource());
      });
    } else {
      w.sent.putAll(changed);
      for (Map.Entry<String, Generated> e : resources.entrySet()) {
        if (force || changed.containsKey(e.getKey())) response.addResources(e.getValue().resource());
      }
    }
    w.sent(nextNonce(), w.contentVersion());
    response.setVersionInfo(w.sentVersion).setNonce(w.lastNonce);
    send(response.build());
    pushed(w, response.getResourcesCount(), start);
    return true;
  }

  private void send(DiscoveryResponse response) {
    if (closed) return;
    try {
      responses.onNext(response);
    } catch (RuntimeException e) {
      // The stream was cancelled under us; the close callback cleans up.
      closed = true;
    }
  }
}
