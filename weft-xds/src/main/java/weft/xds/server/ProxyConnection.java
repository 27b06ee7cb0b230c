package weft.xds.server;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.grpc.Status;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import weft.model.text.ClientText;
import weft.model.text.LogBudget;
import weft.registry.ChangeEvent;
import weft.registry.MeshSnapshot;
import weft.security.auth.CallerAuthentication;
import weft.security.auth.VerifiedCaller;
import weft.xds.ClusterName;
import weft.xds.Generation;
import weft.xds.Generators;
import weft.xds.TypeUrls;
import weft.xds.proxy.NodeClaims;
import weft.xds.proxy.Proxy;
import weft.xds.proxy.ProxyParser;
import weft.xds.view.ProxyView;

/**
 * What every ADS stream shares, whatever its protocol variant: the proxy's identity, what it
 * watches and was sent per type, and the push queue. Requests and pushes of one stream run on its
 * own serial executor, so this state is touched by one thread at a time and responses go out in
 * order. Subclasses speak State of the World or Delta.
 */
abstract class ProxyConnection {
  private static final System.Logger LOG = System.getLogger(ProxyConnection.class.getName());
  // Kinds of client-caused log lines, each with its own per-stream budget.
  private static final String NACK = "nack";
  private static final String UNSUPPORTED_TYPE = "unsupported type";

  final AdsServer server;
  final SerialExecutor serial;
  private final String peer;
  /** Who the client proved to be on the secure port; null on the plaintext port or with --xds-auth none. */
  private final VerifiedCaller caller;
  private final long connectedAt = System.currentTimeMillis();
  final Map<String, WatchState> watches = new LinkedHashMap<>();
  private volatile Proxy proxy;
  volatile boolean closed;
  private long nonce;
  private Map<String, String> dropped = new TreeMap<>();
  /** Hosts the proxy's own workload served at the last push (an endpoint removal must still reach it). */
  private Set<String> ownHosts = Set.of();
  /** What this stream's client may make us log: NACK details and type URLs are its own text. */
  private final LogBudget logBudget = new LogBudget();
  // Pending push: merged while the stream is busy, so a burst costs one push and a lone change none extra.
  private final Object pendingLock = new Object();
  private ChangeEvent pendingChange;
  private MeshSnapshot latest;

  ProxyConnection(AdsServer server, Executor pool, String peer, MeshSnapshot initial) {
    this.server = server;
    this.serial = new SerialExecutor(pool);
    this.peer = peer;
    this.latest = initial;
    // Streams are opened inside the call's context, where the secure port's interceptor put the identity.
    this.caller = CallerAuthentication.CALLER.get();
  }

  /** Sends the resources of one type that the client lacks; returns whether anything was sent. */
  abstract boolean push(WatchState w, ProxyView view, Set<String> names, boolean force);

  /** Ends the stream with an error status. */
  abstract void fail(Status status);

  abstract String protocol();

  Proxy proxy() {
    return proxy;
  }

  void onClosed() {
    closed = true;
    // The stream's last word on what it made us leave out of the log; drained, so a second close is silent.
    long nacks = logBudget.drainSuppressed(NACK);
    long types = logBudget.drainSuppressed(UNSUPPORTED_TYPE);
    Proxy p = proxy;
    if (p != null && (nacks > 0 || types > 0)) {
      LOG.log(System.Logger.Level.WARNING, "proxy " + ClientText.forLog(p.id()) + " closed its stream; not logged "
          + "since its last line: " + nacks + " NACKs, " + types + " requests for unsupported types");
    }
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

  MeshSnapshot snapshot() {
    synchronized (pendingLock) {
      return latest;
    }
  }

  String nextNonce() {
    return Long.toString(++nonce);
  }

  /**
   * Reads the node on a stream's first request. Returns false (and ends the stream with the
   * reason) when the node cannot be served.
   */
  boolean identify(Node node) {
    if (proxy != null) return true;
    Proxy parsed;
    try {
      parsed = ProxyParser.parse(node, server.defaultClusterId());
    } catch (ProxyParser.InvalidNodeException e) {
      // The message quotes the node id, which is the client's own text.
      String reason = ClientText.forLog(e.getMessage(), 1024);
      server.logRefusal("refusing xDS stream from " + peer + ": " + reason);
      server.metrics().rejectedStream();
      closed = true;
      fail(Status.INVALID_ARGUMENT.withDescription(reason));
      server.remove(this);
      return false;
    }
    if (caller != null && !claimsOnlyItsOwnIdentity(parsed)) return false;
    proxy = parsed;
    server.registerProxy(this);
    synchronized (pendingLock) {
      // A snapshot published before registration never reached this stream: start from the newest.
      MeshSnapshot current = server.currentSnapshot();
      if (current.version() > latest.version()) latest = current;
      ownHosts = ownHosts(latest);
    }
    return true;
  }

  /**
   * A node may claim no other namespace, service account or cluster than its caller proved; if it
   * does, the stream ends with PERMISSION_DENIED and the log names both identities.
   */
  private boolean claimsOnlyItsOwnIdentity(Proxy node) {
    var mesh = snapshot().meshConfig();
    List<String> wrong = NodeClaims.mismatches(node, caller, mesh.trustDomain(), mesh.trustDomainAliases());
    if (wrong.isEmpty()) return true;
    String claims = ClientText.forLog(String.join(", ", wrong), 1024);
    server.logRefusal("refusing xDS stream from " + peer + ": node " + ClientText.forLog(node.id()) + " claims "
        + claims + " but the client proved " + caller);
    server.metrics().rejectedStream();
    closed = true;
    fail(Status.PERMISSION_DENIED.withDescription("node " + ClientText.forLog(node.id()) + " claims " + claims
        + " but the client is " + caller + "; a proxy may only ask for its own identity's configuration"));
    server.remove(this);
    return false;
  }

  /**
   * Records a NACK: counted always, shown in /debug/status, logged with the proxy and reason within
   * the stream's log budget. The reason is the client's text: escaped and cut before it is kept.
   */
  void nacked(WatchState w, String version, String nonce, String reason) {
    String shown = ClientText.forLog(reason);
    w.lastNack = shown;
    w.lastNackMillis = System.currentTimeMillis();
    w.nacks++;
    server.metrics().nack(w.typeUrl);
    String suppressed = logBudget.admit(NACK);
    if (suppressed == null) return;
    LOG.log(System.Logger.Level.WARNING, "proxy " + ClientText.forLog(proxy.id()) + " rejected "
        + TypeUrls.shortName(w.typeUrl) + " version " + ClientText.forLog(version, 64) + " (nonce "
        + ClientText.forLog(nonce, 64) + "): " + shown + "; it keeps its previous configuration" + suppressed);
  }

  /** A request for a type Weft does not serve: ignored, counted, and logged within the stream's budget. */
  void unsupportedType(String typeUrl) {
    server.metrics().unsupportedType();
    String suppressed = logBudget.admit(UNSUPPORTED_TYPE);
    if (suppressed == null) return;
    LOG.log(System.Logger.Level.WARNING, "proxy " + ClientText.forLog(proxy.id()) + " asked for unsupported type "
        + ClientText.forLog(typeUrl) + "; ignored" + suppressed);
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
    ProxyView view = view(snapshot);
    boolean endpointsOnly = change.endpointsOnly();
    boolean envoyWhole = endpointsOnly && !proxy.proxyless() && touchesEnvoyWholeTypes(snapshot, change);
    boolean sent = false;
    for (String type : TypeUrls.PUSH_ORDER) {
      WatchState w = watches.get(type);
      if (w == null) continue;
      boolean whole = envoyWhole && TypeUrls.isFullState(type);
      if (!whole && !Generators.affects(type, change, proxy.proxyless())) continue;
      Set<String> names = w.names;
      if (endpointsOnly && !whole) names = namesForHosts(w.names, change.endpointHosts());
      if (names.isEmpty() && !w.wildcard) continue;
      sent |= push(w, view, names, false);
    }
    ownHosts = ownHosts(snapshot);
    recordDropped(view, !endpointsOnly);
    if (sent) server.metrics().converged(System.nanoTime() - snapshot.createdNanos());
  }

  /**
   * Envoy's listeners and clusters depend on endpoints in two cases: the proxy's own workload
   * (inbound listeners and clusters) and DNS-resolved hosts (their endpoints are inline in CDS).
   */
  private boolean touchesEnvoyWholeTypes(MeshSnapshot snapshot, ChangeEvent change) {
    for (String host : change.endpointHosts()) {
      if (ownHosts.contains(host)) return true;
      var view = snapshot.service(host);
      if (view != null && view.service().resolution().startsWith("DNS")) return true;
    }
    Set<String> now = ownHosts(snapshot);
    for (String host : change.endpointHosts()) if (now.contains(host)) return true;
    return false;
  }

  /** The hosts whose endpoints include this proxy's own workload. */
  private Set<String> ownHosts(MeshSnapshot snapshot) {
    if (proxy().proxyless()) return Set.of();
    Set<String> hosts = new TreeSet<>();
    for (var at : snapshot.endpointsAt(proxy().clusterId(), proxy().ip())) hosts.add(at.service().service().hostname());
    return hosts;
  }

  /** Only the watched clusters of the changed hosts: the rest of the proxy's endpoints are untouched. */
  private static Set<String> namesForHosts(Set<String> names, Set<String> hosts) {
    Set<String> out = new TreeSet<>();
    for (String n : names) {
      // Usually one host changed: compare the name's tail in place instead of cutting a substring.
      for (String host : hosts) {
        int at = n.length() - host.length();
        if (at > 0 && n.charAt(at - 1) == '|' && n.endsWith(host)) {
          out.add(n);
          break;
        }
      }
    }
    return out;
  }

  /** The resources of a type for this proxy: every one it may see for a wildcard watch, else the named ones. */
  Generation generate(WatchState w, ProxyView view, Set<String> names) {
    Generation g = w.wildcard ? server.generators().generateAll(w.typeUrl, view)
        : server.generators().generate(w.typeUrl, view, names);
    if (g.failed()) {
      // Nothing is sent: the proxy keeps what it has, and the next change that touches the type retries.
      w.lastError = g.failure();
      w.lastErrorMillis = System.currentTimeMillis();
      server.metrics().internalError(w.typeUrl);
    } else {
      w.lastError = null;
    }
    return g;
  }

  ProxyView view(MeshSnapshot snapshot) {
    return server.generators().view(snapshot, proxy);
  }

  static boolean sameBytes(ByteString a, ByteString b) {
    return a == b || (a != null && a.equals(b));
  }

  void recordDropped(ProxyView view, boolean replace) {
    Map<String, String> next = replace ? new TreeMap<>() : new TreeMap<>(dropped);
    next.putAll(view.dropped());
    dropped = next;
  }

  void pushed(WatchState w, int resources, long startNanos) {
    w.pushes++;
    server.metrics().pushed(w.typeUrl, resources, System.nanoTime() - startNanos);
  }

  /**
   * What this stream last sent per type (the client holds it unless it NACKed), copied on the
   * stream's own executor so that a push in progress is never seen half done.
   */
  CompletableFuture<List<weft.xds.dump.SentResources>> sentAsync() {
    return CompletableFuture.supplyAsync(() -> {
      List<weft.xds.dump.SentResources> out = new java.util.ArrayList<>();
      boolean delta = protocol().equals("delta");
      for (WatchState w : watches.values()) {
        Map<String, String> versions = new TreeMap<>();
        if (delta) w.sent.forEach((name, bytes) -> versions.put(name, WatchState.resourceVersion(bytes)));
        out.add(new weft.xds.dump.SentResources(w.typeUrl, w.sentVersion, new TreeMap<>(w.sent), versions));
      }
      return out;
    }, serial);
  }

  long connectedAt() {
    return connectedAt;
  }

  /** A consistent copy for /debug/status, taken on the stream's own executor. */
  CompletableFuture<Map<String, Object>> statusAsync() {
    return CompletableFuture.supplyAsync(this::status, serial);
  }

  private Map<String, Object> status() {
    Map<String, Object> out = new LinkedHashMap<>();
    Proxy p = proxy;
    out.put("id", p == null ? "" : p.id());
    out.put("peer", peer);
    out.put("protocol", protocol());
    out.put("connectedAt", connectedAt);
    if (caller != null) out.put("verifiedIdentity", caller.toString());
    if (p != null) {
      out.put("clusterId", p.clusterId());
      out.put("network", p.network());
      out.put("namespace", p.namespace());
      out.put("labels", p.labels());
      out.put("serviceAccount", p.serviceAccount());
      out.put("locality", p.locality().toString());
      out.put("generator", p.proxyless() ? "grpc" : "envoy");
      out.put("kind", p.kind());
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
      if (w.lastError != null) t.put("lastError", Map.of("reason", w.lastError, "at", w.lastErrorMillis));
      types.put(TypeUrls.shortName(w.typeUrl), t);
    }
    out.put("xds", types);
    out.put("dropped", dropped);
    return out;
  }
}
