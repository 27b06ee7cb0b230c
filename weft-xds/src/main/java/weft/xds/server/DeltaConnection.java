package weft.xds.server;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeSet;
import java.util.concurrent.Executor;
import weft.registry.MeshSnapshot;
import weft.xds.Generated;
import weft.xds.Generation;
import weft.xds.TypeUrls;
import weft.xds.view.ProxyView;

/**
 * A Delta (incremental) ADS stream, as Envoy speaks it: subscriptions change by difference, each
 * resource carries its own version, deletions are named in {@code removed_resources}, and a
 * reconnecting client says what it holds so that only what changed is sent again.
 */
final class DeltaConnection extends ProxyConnection {
  private final StreamObserver<DeltaDiscoveryResponse> responses;

  DeltaConnection(AdsServer server, StreamObserver<DeltaDiscoveryResponse> responses, Executor pool, String peer,
      MeshSnapshot initial) {
    super(server, pool, peer, initial);
    this.responses = responses;
  }

  @Override
  String protocol() {
    return "delta";
  }

  void onRequest(DeltaDiscoveryRequest request) {
    serial.execute(() -> handle(request));
  }

  @Override
  void fail(Status status) {
    responses.onError(status.asRuntimeException());
  }

  private void handle(DeltaDiscoveryRequest request) {
    if (closed || !identify(request.getNode())) return;
    String type = request.getTypeUrl();
    if (!TypeUrls.PUSH_ORDER.contains(type)) {
      unsupportedType(type);
      return;
    }
    boolean first = !watches.containsKey(type);
    WatchState w = watches.computeIfAbsent(type, WatchState::new);
    String nonce = request.getResponseNonce();
    // A reply may answer an earlier response than the latest; subscription changes count whatever the nonce.
    String repliedVersion = nonce.isEmpty() ? null : w.versionOf(nonce);
    if (repliedVersion != null) {
      if (request.hasErrorDetail()) {
        nacked(w, repliedVersion, nonce, request.getErrorDetail().getMessage());
      } else {
        w.ackedVersion = repliedVersion;
        if (nonce.equals(w.lastNonce)) w.lastNack = null;
      }
    }
    Set<String> added = new TreeSet<>();
    boolean wildcardAdded = false;
    if (first) {
      w.clientVersions = new HashMap<>(request.getInitialResourceVersionsMap());
      // A first request that names nothing subscribes to everything (the legacy wildcard).
      if (request.getResourceNamesSubscribeCount() == 0) wildcardAdded = true;
    }
    for (String n : request.getResourceNamesSubscribeList()) {
      if (n.equals("*")) {
        wildcardAdded |= !w.wildcard;
      } else if (w.names.add(n)) {
        added.add(n);
      }
    }
    for (String n : request.getResourceNamesUnsubscribeList()) {
      if (n.equals("*")) {
        w.wildcard = false;
      } else {
        w.names.remove(n);
      }
      // Forgotten, so that subscribing again is answered with the resource.
      if (!w.wildcard) w.sent.remove(n);
    }
    if (wildcardAdded) w.wildcard = true;
    if (!first && added.isEmpty() && !wildcardAdded) return;
    ProxyView view = view(snapshot());
    push(w, view, w.wildcard ? w.names : added, first, added);
    recordDropped(view, false);
  }

  @Override
  boolean push(WatchState w, ProxyView view, Set<String> names, boolean force) {
    return push(w, view, names, force, Set.of());
  }

  /**
   * Sends resources whose bytes differ from what the client holds (what we sent, or on reconnect
   * what it declared), and names the ones that are gone. {@code justSubscribed} names that do not
   * exist are reported as removed so the client stops waiting for them.
   */
  private boolean push(WatchState w, ProxyView view, Set<String> names, boolean force, Set<String> justSubscribed) {
    long start = System.nanoTime();
    Generation generation = generate(w, view, names);
    if (generation.failed()) return false;
    SortedMap<String, Generated> resources = generation.resources();
    DeltaDiscoveryResponse.Builder response = DeltaDiscoveryResponse.newBuilder().setTypeUrl(w.typeUrl);
    Map<String, ByteString> sentNow = new HashMap<>();
    for (Map.Entry<String, Generated> e : resources.entrySet()) {
      ByteString bytes = e.getValue().resource().getValue();
      String name = e.getKey();
      if (sameBytes(bytes, w.sent.get(name))) continue;
      String version = WatchState.resourceVersion(bytes);
      if (version.equals(w.clientVersions.remove(name))) {
        w.sent.put(name, bytes); // The reconnecting client already holds exactly this.
        continue;
      }
      sentNow.put(name, bytes);
      response.addResources(Resource.newBuilder().setName(name).setVersion(version).setResource(e.getValue().resource()));
    }
    Set<String> considered = w.wildcard ? new TreeSet<>(w.sent.keySet()) : new TreeSet<>(names);
    if (w.wildcard) considered.addAll(w.clientVersions.keySet());
    for (String name : considered) {
      if (resources.containsKey(name)) continue;
      boolean held = w.sent.remove(name) != null | w.clientVersions.remove(name) != null;
      if (held || justSubscribed.contains(name)) response.addRemovedResources(name);
    }
    if (w.wildcard) w.clientVersions.clear();
    if (!force && response.getResourcesCount() == 0 && response.getRemovedResourcesCount() == 0) return false;
    w.sent.putAll(sentNow);
    w.sent(nextNonce(), w.contentVersion());
    response.setSystemVersionInfo(w.sentVersion).setNonce(w.lastNonce);
    send(response.build());
    pushed(w, response.getResourcesCount(), start);
    return true;
  }

  private void send(DeltaDiscoveryResponse response) {
    if (closed) return;
    try {
      responses.onNext(response);
    } catch (RuntimeException e) {
      closed = true;
    }
  }
}
