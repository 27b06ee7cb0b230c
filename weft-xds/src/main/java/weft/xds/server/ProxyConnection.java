package weft.xds.server;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executor;
import weft.registry.ChangeEvent;
import weft.registry.MeshSnapshot;
import weft.xds.ClusterName;
import weft.xds.Generators;
import weft.xds.TypeUrls;
import weft.xds.proxy.Proxy;
import weft.xds.proxy.ProxyParser;
import weft.xds.view.ProxyView;

/**
 * One ADS stream (State of the World). Requests and pushes for the stream run on its own serial
 * executor, so its state is touched by one thread at a time and responses go out in order.
 */
final class ProxyConnection {
  private static final System.Logger LOG = System.getLogger(ProxyConnection.class.getName());

  private final AdsServer server;
  private final StreamObserver<DiscoveryResponse> responses;
  private final SerialExecutor serial;
  private final String peer;
  private final long connectedAt = System.currentTimeMillis();
  private final Map<String, WatchState> watches = new LinkedHashMap<>();
  private volatile Proxy proxy;
  private volatile boolean closed;
  private long nonce;
  private Map<String, String> dropped = new TreeMap<>();
  // Pending push: merged while the stream is busy, so a burst costs one push and a lone change none extra.
  private final Object pendingLock = new Object();
  private ChangeEvent pendingChange;
  private MeshSnapshot latest;

  ProxyConnection(AdsServer server, StreamObserver<DiscoveryResponse> responses, Executor pool, String peer,
      MeshSnapshot initial) {
    this.server = server;
    this.responses = responses;
    this.serial = new SerialExecutor(pool);
    this.peer = peer;
    this.latest = initial;
  }

  Proxy proxy() {
    return proxy;
  }

  void onRequest(DiscoveryRequest request) {
    serial.execute(() -> handle(request));
  }

  void onClosed() {
    closed = true;
  }

  /** Called for every new snapshot; merges with a push that has not started yet. */
  void enqueue(MeshSnapshot snapshot, ChangeEvent change) {
    boolean schedule;
    synchronized (pendingLock) {
      latest = snapshot;
      schedule = pendingChange == null;
      pendingChange = schedule ? change : pendingChange.merge(change);
    }
    if (schedule) serial.execute(this::pushPending);
  }

  private MeshSnapshot snapshot() {
    synchronized (pendingLock) {
      return latest;
    }
  }

  private void pushPending() {
    ChangeEvent change;
    MeshSnapshot snapshot;
    synchronized (pendingLock) {
      change = pendingChange;
      snapshot = latest;
      pendingChange = null;
    }
    if (change == null || closed || proxy == null) return;
    ProxyView view = new ProxyView(snapshot, proxy);
    boolean endpointsOnly = change.endpointsOnly();
    boolean sent = false;
    for (String type : TypeUrls.PUSH_ORDER) {
      WatchState w = watches.get(type);
      if (w == null || !Generators.affects(type, change)) continue;
      Set<String> names = w.names;
      if (endpointsOnly) names = namesForHosts(w.names, change.endpointHosts());
      if (names.isEmpty() && !w.wildcard) continue;
      sent |= push(w, view, names, false);
    }
    recordDropped(view, !endpointsOnly);
    if (sent) server.metrics().converged(System.nanoTime() - snapshot.createdNanos());
  }

  /** Only the watched clusters of the changed hosts: the rest of the proxy's endpoints are untouched. */
  private static Set<String> namesForHosts(Set<String> names, Set<String> hosts) {
    Set<String> out = new TreeSet<>();
    for (String n : names) {
      String host = ClusterName.hostOf(n);
      if (host != null && hosts.contains(host)) out.add(n);
    }
    return out;
  }

  private void handle(DiscoveryRequest request) {
    if (closed) return;
    if (proxy == null) {
      try {
        proxy = ProxyParser.parse(request.getNode(), server.defaultClusterId());
      } catch (ProxyParser.InvalidNodeException e) {
        LOG.log(System.Logger.Level.WARNING, "refusing xDS stream from " + peer + ": " + e.getMessage());
        server.metrics().rejectedStream();
        closed = true;
        responses.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
        server.remove(this);
        return;
      }
      server.registerProxy(this);
      synchronized (pendingLock) {
        // A snapshot published before registration never reached this stream: start from the newest.
        MeshSnapshot current = server.currentSnapshot();
        if (current.version() > latest.version()) latest = current;
      }
    }
    String type = request.getTypeUrl();
    if (!TypeUrls.PUSH_ORDER.contains(type)) {
      LOG.log(System.Logger.Level.WARNING, proxy.id() + " asked for unsupported type " + type + "; ignored");
      return;
    }
    WatchState w = watches.computeIfAbsent(type, WatchState::new);
    String responseNonce = request.getResponseNonce();
    boolean isReply = !responseNonce.isEmpty();
    if (isReply && !responseNonce.equals(w.lastNonce)) {
      return; // Stale: the client has not seen our latest response yet and will answer it.
    }
    if (isReply && request.hasErrorDetail()) {
      w.lastNack = request.getErrorDetail().getMessage();
      w.lastNackMillis = System.currentTimeMillis();
      w.nacks++;
      server.metrics().nack(type);
      LOG.log(System.Logger.Level.WARNING, "proxy " + proxy.id() + " rejected " + TypeUrls.shortName(type)
          + " version " + request.getVersionInfo() + " (nonce " + responseNonce + "): " + w.lastNack
          + "; it keeps its previous configuration");
    } else if (isReply) {
      w.ackedVersion = request.getVersionInfo();
      w.lastNack = null;
    }
    Set<String> requested = new TreeSet<>(request.getResourceNamesList());
    boolean wildcard = requested.isEmpty() && TypeUrls.isFullState(type) || requested.remove("*");
    boolean changedSubscription = !requested.equals(w.names) || wildcard != w.wildcard;
    if (isReply && !changedSubscription) return;
    Set<String> added = new TreeSet<>(requested);
    added.removeAll(w.names);
    w.names = requested;
    w.wildcard = wildcard;
    // Forget what was sent for names no longer watched, so a later re-subscription is answered.
    w.sent.keySet().retainAll(requested);
    ProxyView view = new ProxyView(snapshot(), proxy);
    Set<String> names = TypeUrls.isFullState(type) || !isReply ? requested : added;
    if (names.isEmpty() && !TypeUrls.isFullState(type) && isReply) return;
    push(w, view, names, true);
    recordDropped(view, false);
  }

  /**
   * Generates the named resources and sends what the client lacks. For listeners and clusters a
   * response must list them all (absence means deletion); routes and endpoints may go alone.
   */
  private boolean push(WatchState w, ProxyView view, Set<String> names, boolean force) {
    long start = System.nanoTime();
    boolean full = TypeUrls.isFullState(w.typeUrl);
    Set<String> wanted = full ? w.names : names;
    SortedMap<String, Any> resources = server.generators().generate(w.typeUrl, view,
        w.wildcard ? allNames(w.typeUrl, view) : wanted);
    Map<String, ByteString> changed = new HashMap<>();
    for (Map.Entry<String, Any> e : resources.entrySet()) {
      ByteString bytes = e.getValue().getValue();
      if (!bytes.equals(w.sent.get(e.getKey()))) changed.put(e.getKey(), bytes);
    }
    List<String> removed = new ArrayList<>();
    if (full) {
      for (String n : w.sent.keySet()) if (!resources.containsKey(n)) removed.add(n);
    }
    if (!force && changed.isEmpty() && removed.isEmpty()) return false;
    DiscoveryResponse.Builder response = DiscoveryResponse.newBuilder().setTypeUrl(w.typeUrl);
    if (full) {
      w.sent = new TreeMap<>();
      resources.forEach((n, any) -> w.sent.put(n, any.getValue()));
      response.addAllResources(resources.values());
    } else {
      w.sent.putAll(changed);
      for (Map.Entry<String, Any> e : resources.entrySet()) {
        if (force || changed.containsKey(e.getKey())) response.addResources(e.getValue());
      }
    }
    w.sentVersion = w.contentVersion();
    w.lastNonce = Long.toString(++nonce);
    w.pushes++;
    response.setVersionInfo(w.sentVersion).setNonce(w.lastNonce);
    send(response.build());
    server.metrics().pushed(w.typeUrl, response.getResourcesCount(), System.nanoTime() - start);
    return true;
  }

  /** A wildcard subscription: everything of the type the proxy may see (clusters for every visible service port). */
  private static Set<String> allNames(String typeUrl, ProxyView view) {
    Set<String> out = new TreeSet<>();
    if (!typeUrl.equals(TypeUrls.CLUSTER)) return out;
    for (var e : view.snapshot().services().entrySet()) {
      if (!e.getValue().service().exportedTo(view.proxy().namespace())) continue;
      for (var p : e.getValue().service().ports()) out.add(ClusterName.outbound(p.number(), "", e.getKey()).toString());
    }
    return out;
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

  private void recordDropped(ProxyView view, boolean replace) {
    Map<String, String> next = replace ? new TreeMap<>() : new TreeMap<>(dropped);
    next.putAll(view.dropped());
    dropped = next;
  }

  /** A consistent copy for /debug/status, taken on the stream's own executor. */
  java.util.concurrent.CompletableFuture<Map<String, Object>> statusAsync() {
    return java.util.concurrent.CompletableFuture.supplyAsync(this::status, serial);
  }

  private Map<String, Object> status() {
    Map<String, Object> out = new LinkedHashMap<>();
    Proxy p = proxy;
    out.put("id", p == null ? "" : p.id());
    out.put("peer", peer);
    out.put("connectedAt", connectedAt);
    if (p != null) {
      out.put("clusterId", p.clusterId());
      out.put("network", p.network());
      out.put("namespace", p.namespace());
      out.put("labels", p.labels());
      out.put("serviceAccount", p.serviceAccount());
      out.put("locality", p.locality().toString());
      out.put("generator", p.proxyless() ? "grpc" : "envoy");
    }
    Map<String, Object> types = new LinkedHashMap<>();
    for (WatchState w : List.copyOf(watches.values())) {
      Map<String, Object> t = new LinkedHashMap<>();
      t.put("subscribed", w.wildcard ? List.of("*") : List.copyOf(w.names));
      t.put("sentVersion", w.sentVersion);
      t.put("sentNonce", w.lastNonce);
      t.put("ackedVersion", w.ackedVersion);
      t.put("acked", w.sentVersion.equals(w.ackedVersion));
      t.put("resources", w.sent.size());
      t.put("pushes", w.pushes);
      t.put("nacks", w.nacks);
      if (w.lastNack != null) t.put("lastNack", Map.of("reason", w.lastNack, "at", w.lastNackMillis));
      types.put(TypeUrls.shortName(w.typeUrl), t);
    }
    out.put("xds", types);
    out.put("dropped", dropped);
    return out;
  }
}
