package weft.xds.server;

import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
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

/**
 * A Delta (incremental) ADS stream, as Envoy speaks it: subscriptions change by difference, each
 * resource carries its own version, deletions are named in {@code removed_resources}, and a
 * reconnecting client says what it holds so that only what changed is sent again.
 */
final class DeltaConnection extends ProxyConnection {
  private final ServerCallStreamObserver<DeltaDiscoveryResponse> responses;

  DeltaConnection(AdsServer server, ServerCallStreamObserver<DeltaDiscoveryResponse> responses, Executor pool,
      String peer, MeshSnapshot initial) {
    super(server, responses, pool, peer, initial);
    this.responses = responses;
  }

  @Override
  String protocol() {
    return "delta";
  }

  /** On the transport's thread: the request is handled on the stream's executor, then the next one is asked for. */
  void onRequest(DeltaDiscoveryRequest request) {
    serial.execute(() -> {
      handle(request);
      publishStatus();
      requestNext();
    });
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
    Set<String> added = new LinkedHashSet<>();
    boolean wildcardAdded = false;
    Map<String, String> declared = first ? request.getInitialResourceVersionsMap() : Map.of();
    // A first request that names nothing subscribes to everything (the legacy wildcard).
    if (first && request.getResourceNamesSubscribeCount() == 0) wildcardAdded = true;
    long addedChars = 0;
    for (String n : request.getResourceNamesSubscribeList()) {
      if (n.equals("*")) {
        wildcardAdded |= !w.wildcard;
      } else if (!w.names.contains(n) && added.add(n)) {
        addedChars += n.length();
      }
    }
    if (!added.isEmpty() || !declared.isEmpty()) {
      for (String n : declared.keySet()) addedChars += n.length();
      if (!admitNames(added.size() + declared.size(), addedChars)) return;
    }
    if (first && !declared.isEmpty()) w.clientVersions = new HashMap<>(declared);
    List<String> unsubscribed = new ArrayList<>();
    for (String n : request.getResourceNamesUnsubscribeList()) {
      if (n.equals("*")) {
        w.wildcard = false;
      } else {
        unsubscribed.add(n);
      }
    }
    w.names = w.names.minus(unsubscribed).plus(added);
    // Forgotten, so that subscribing again is answered with the resource.
    if (!w.wildcard && !unsubscribed.isEmpty()) w.sent = w.sent.with(new TreeMap<>(), new java.util.HashSet<>(unsubscribed));
    if (wildcardAdded) w.wildcard = true;
    if (!first && added.isEmpty() && !wildcardAdded) return;
    Set<String> justSubscribed = new TreeSet<>(added);
    if (!canSendNow()) {
      defer(w, first, justSubscribed);
      return;
    }
    ProxyView view = view(snapshot());
    push(w, view, w.wildcard ? w.names.asList() : justSubscribed, first, justSubscribed);
    recordDropped(view, false);
  }

  /**
   * Sends resources whose content differs from what the client holds (what we sent, or on reconnect
   * what it declared), and names the ones that are gone. {@code justSubscribed} names that do not
   * exist are reported as removed so the client stops waiting for them.
   */
  @Override
  boolean push(WatchState w, ProxyView view, Collection<String> names, boolean force, Set<String> justSubscribed) {
    long start = System.nanoTime();
    Generation generation = generate(w, view, names);
    if (generation.failed()) return false;
    SortedMap<String, Generated> resources = generation.resources();
    Map<String, String> declared = w.clientVersions == null ? Map.of() : w.clientVersions;
    DeltaDiscoveryResponse.Builder response = DeltaDiscoveryResponse.newBuilder().setTypeUrl(w.typeUrl);
    SortedMap<String, Long> held = new TreeMap<>();
    for (Map.Entry<String, Generated> e : resources.entrySet()) {
      String name = e.getKey();
      Generated g = e.getValue();
      if (w.sent.holds(name, g.hash())) continue;
      held.put(name, g.hash());
      // A reconnecting client that already holds exactly this is not sent it again.
      if (g.version().equals(declared.get(name))) continue;
      response.addResources(Resource.newBuilder().setName(name).setVersion(g.version()).setResource(g.resource()));
    }
    Set<String> considered = new TreeSet<>();
    if (w.wildcard) {
      for (int i = 0; i < w.sent.size(); i++) considered.add(w.sent.name(i));
      considered.addAll(declared.keySet());
    } else {
      considered.addAll(names);
    }
    Set<String> removed = new TreeSet<>();
    for (String name : considered) {
      if (resources.containsKey(name)) continue;
      if (w.sent.contains(name) || declared.containsKey(name) || justSubscribed.contains(name)) {
        removed.add(name);
        response.addRemovedResources(name);
      }
    }
    // Reconciled: what the client declared on reconnect matters for this first answer only.
    w.clientVersions = null;
    w.sent = w.sent.with(held, removed);
    if (!force && response.getResourcesCount() == 0 && response.getRemovedResourcesCount() == 0) return false;
    w.sent(nextNonce(), w.sent.version());
    response.setSystemVersionInfo(w.sentVersion).setNonce(w.lastNonce);
    // Published before the response leaves: whoever has seen it can already read it in /debug/status.
    publishStatus();
    DeltaDiscoveryResponse sent = response.build();
    responses.onNext(sent);
    pushed(w, sent.getResourcesCount(), sent.getSerializedSize(), start);
    return true;
  }
}
