package weft.xds.server;

import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.Collection;
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

/** A State-of-the-World ADS stream (what grpc-java speaks, and Envoy by default). */
final class SotwConnection extends ProxyConnection {
  private final ServerCallStreamObserver<DiscoveryResponse> responses;

  SotwConnection(AdsServer server, ServerCallStreamObserver<DiscoveryResponse> responses, Executor pool,
      String peer, MeshSnapshot initial) {
    super(server, responses, pool, peer, initial);
    this.responses = responses;
  }

  @Override
  String protocol() {
    return "sotw";
  }

  /** On the transport's thread: the request is handled on the stream's executor, then the next one is asked for. */
  void onRequest(SotwRequest request) {
    serial.execute(() -> {
      handle(request);
      publishStatus();
      requestNext();
    });
  }

  /** The same, for a request already parsed as a message. */
  void onRequest(DiscoveryRequest request) {
    onRequest(SotwRequest.of(request));
  }

  private void handle(SotwRequest request) {
    if (closed || !identify(request.node())) return;
    String type = request.typeUrl();
    if (!TypeUrls.PUSH_ORDER.contains(type)) {
      unsupportedType(type);
      return;
    }
    WatchState w = watches.computeIfAbsent(type, WatchState::new);
    String responseNonce = request.responseNonce();
    boolean isReply = !responseNonce.isEmpty();
    if (isReply && !responseNonce.equals(w.lastNonce)) {
      // Stale: the client has not seen our latest response yet and will answer it. What it says
      // of the earlier one still tells which version it holds.
      String version = w.versionOf(responseNonce);
      if (version != null && !request.hasErrorDetail()) w.ackedVersion = version;
      return;
    }
    if (isReply && request.hasErrorDetail()) {
      nacked(w, request.versionInfo(), responseNonce, request.errorDetail().getMessage());
    } else if (isReply) {
      w.ackedVersion = request.versionInfo();
      w.lastNack = null;
    }
    // The common case is an ACK naming exactly what the previous request named, in its order:
    // answered on the bytes, without decoding a name or building a set.
    if (isReply && !w.wildcard && request.namesAre(w.requestOrder)) return;
    List<String> listed;
    try {
      listed = request.names();
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      fail(io.grpc.Status.INVALID_ARGUMENT.withDescription("a resource name of " + type + " is not UTF-8"));
      server.remove(this);
      return;
    }
    Set<String> requested = new TreeSet<>(listed);
    // An empty list means "everything" only for listeners and clusters, and only until names are given.
    boolean wildcard = requested.remove("*") || (requested.isEmpty() && TypeUrls.isFullState(type));
    NameSet previous = w.names;
    boolean changedSubscription = wildcard != w.wildcard || requested.size() != previous.size()
        || !requested.stream().allMatch(previous::contains);
    if (changedSubscription) {
      long chars = 0;
      for (String n : requested) chars += n.length();
      if (!admitNames(requested.size() - previous.size(), chars - previous.chars())) return;
    }
    // Envoy lists all of a type's names in every request, in the same order each time.
    w.requestOrder = request.wireNames();
    if (isReply && !changedSubscription) return;
    List<String> added = requested.stream().filter(n -> !previous.contains(n)).toList();
    NameSet now = previous.minus(previous.asList().stream().filter(n -> !requested.contains(n)).toList()).plus(added);
    w.names = now;
    w.wildcard = wildcard;
    // Forget what was sent for names no longer watched, so a later re-subscription is answered.
    if (!wildcard) w.sent = w.sent.retainedIn(now);
    Collection<String> names = TypeUrls.isFullState(type) || !isReply ? now.asList() : added;
    if (names.isEmpty() && !wildcard && !TypeUrls.isFullState(type) && isReply) return;
    if (!canSendNow()) {
      defer(w, true, Set.of());
      return;
    }
    ProxyView view = view(snapshot());
    push(w, view, names, true, Set.of());
    recordDropped(view, false);
  }

  /**
   * Generates the named resources and sends what the client lacks. For listeners and clusters a
   * response must list them all (absence means deletion); routes and endpoints may go alone. Every
   * response reuses the generated {@code Any}s, shared with every other stream sent the same.
   */
  @Override
  boolean push(WatchState w, ProxyView view, Collection<String> names, boolean force, Set<String> justSubscribed) {
    long start = System.nanoTime();
    boolean full = TypeUrls.isFullState(w.typeUrl);
    Generation generation = generate(w, view, full ? w.names.asList() : names);
    if (generation.failed()) return false;
    SortedMap<String, Generated> resources = generation.resources();
    DiscoveryResponse.Builder response = DiscoveryResponse.newBuilder().setTypeUrl(w.typeUrl);
    SentTable next;
    if (full) {
      next = w.sent.replacedBy(resources);
      if (!force && next.equals(w.sent)) return false;
      for (Generated g : resources.values()) response.addResources(g.resource());
    } else {
      SortedMap<String, Long> changed = new TreeMap<>();
      for (Map.Entry<String, Generated> e : resources.entrySet()) {
        Generated g = e.getValue();
        boolean held = w.sent.holds(e.getKey(), g.hash());
        if (!held) changed.put(e.getKey(), g.hash());
        if (force || !held) response.addResources(g.resource());
      }
      if (!force && changed.isEmpty()) return false;
      next = w.sent.with(changed, Set.of());
    }
    w.sent = next;
    w.sent(nextNonce(), next.version());
    response.setVersionInfo(w.sentVersion).setNonce(w.lastNonce);
    // Published before the response leaves: whoever has seen it can already read it in /debug/status.
    publishStatus();
    DiscoveryResponse sent = response.build();
    responses.onNext(sent);
    pushed(w, sent.getResourcesCount(), sent.getSerializedSize(), start);
    return true;
  }
}
