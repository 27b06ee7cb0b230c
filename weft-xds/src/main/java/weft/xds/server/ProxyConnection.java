package weft.xds.server;

import io.envoyproxy.envoy.config.core.v3.Node;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
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
 * watches and holds per type, the push queue and flow control.
 *
 * <p>Ownership: everything here except the fields marked otherwise belongs to the stream's serial
 * executor, which also makes every call on the response observer ({@code onNext}, {@code onError},
 * {@code onCompleted}): one writer per stream. Other threads only enqueue work ({@link #enqueue},
 * requests, readiness, cancellation) and read the published {@link StreamSummary}.
 *
 * <p>Flow control: nothing is sent while the transport is not ready. A push that finds it not ready
 * is remembered per type (at most one per type, see {@link WatchState.Deferred}) and generated from
 * the newest snapshot when the transport calls back; what was sent is recorded only when it really
 * is sent. A stream that stays unready with work waiting for the send timeout is closed.
 */
abstract class ProxyConnection {
  private static final System.Logger LOG = System.getLogger(ProxyConnection.class.getName());
  // Kinds of client-caused log lines, each with its own per-stream budget.
  private static final String NACK = "nack";
  private static final String UNSUPPORTED_TYPE = "unsupported type";
  private static final String SECRET_REFUSED = "secret refused";
  /**
   * What one stream may make us hold of names it chose (subscriptions, Delta's declared versions),
   * over all types. A full mesh of 10,000 services with a few ports and subsets stays well inside;
   * a client past it is refused rather than allowed to grow the server's memory.
   */
  static final int MAX_NAMES = 200_000;
  static final long MAX_NAME_CHARS = 16L << 20;

  final AdsServer server;
  final SerialExecutor serial;
  private final ServerCallStreamObserver<?> responses;
  private final String peer;
  /** Who the client proved to be on the secure port; null on the plaintext port or with --xds-auth none. */
  private final VerifiedCaller caller;
  private final long connectedAt = System.currentTimeMillis();
  final Map<String, WatchState> watches = new LinkedHashMap<>();
  /** Written once, on the serial executor; read by the server's fan-out. */
  private volatile Proxy proxy;
  /** Written on the serial executor (and before it starts); read anywhere. */
  volatile boolean closed;
  private long nonce;
  private Map<String, String> dropped = Map.of();
  /** Hosts the proxy's own workload served at the last push (an endpoint removal must still reach it). */
  private Set<String> ownHosts = Set.of();
  /** When the stream first left work waiting for the transport since it last made progress; -1 when none waits. */
  private long stalledSinceNanos = -1;
  private boolean stallCheckScheduled;
  /** What this stream's client may make us log: NACK details and type URLs are its own text. Thread-safe. */
  private final LogBudget logBudget = new LogBudget();
  /** Published after each request and push; read by any thread. */
  private volatile StreamSummary summary;
  // Pending push, guarded by pendingLock: merged while the stream is busy, so a burst costs one push
  // and a lone change starts at once.
  private final Object pendingLock = new Object();
  private ChangeEvent pendingChange;
  private MeshSnapshot latest;

  ProxyConnection(AdsServer server, ServerCallStreamObserver<?> responses, Executor pool, String peer,
      MeshSnapshot initial) {
    this.server = server;
    this.responses = responses;
    this.serial = new SerialExecutor(pool, this::crashed);
    this.peer = peer;
    this.latest = initial;
    // Streams are opened inside the call's context, where the secure port's interceptor put the identity.
    this.caller = CallerAuthentication.CALLER.get();
    publishStatus();
  }

  /**
   * Generates the resources of one type and sends what the client lacks; returns whether a response
   * went out. Called only when the transport is ready. {@code force} sends a response even if
   * nothing differs; {@code justSubscribed} (Delta) are names to report removed if they do not exist.
   */
  abstract boolean push(WatchState w, ProxyView view, Collection<String> names, boolean force,
      Set<String> justSubscribed);

  abstract String protocol();

  Proxy proxy() {
    return proxy;
  }

  StreamSummary summary() {
    return summary;
  }

  long connectedAt() {
    return connectedAt;
  }

  /** Ends the stream with an error status. On the serial executor. */
  final void fail(Status status) {
    closed = true;
    responses.onError(status.asRuntimeException());
  }

  /** The client finished its side: we finish ours. On the serial executor. */
  final void clientCompleted() {
    if (!closed) {
      closed = true;
      responses.onCompleted();
    }
    onClosed();
  }

  /** The stream is over (cancelled, failed or completed): no call on the observer may follow. On the serial executor. */
  final void onClosed() {
    closed = true;
    server.remove(this);
    server.autoRegistrationClosed(this);
    // The stream's last word on what it made us leave out of the log; drained, so a second close is silent.
    long nacks = logBudget.drainSuppressed(NACK);
    long types = logBudget.drainSuppressed(UNSUPPORTED_TYPE);
    Proxy p = proxy;
    if (p != null && (nacks > 0 || types > 0)) {
      LOG.log(System.Logger.Level.WARNING, "proxy " + ClientText.forLog(p.id()) + " closed its stream; not logged "
          + "since its last line: " + nacks + " NACKs, " + types + " requests for unsupported types");
    }
  }

  /**
   * A task of this stream threw: its state can no longer be trusted, so the stream ends (the client
   * reconnects and starts clean) and the error is logged with the proxy.
   */
  private void crashed(RuntimeException e) {
    Proxy p = proxy;
    LOG.log(System.Logger.Level.ERROR, "xDS stream of " + (p == null ? peer : ClientText.forLog(p.id()))
        + " failed; closing it so the proxy reconnects", e);
    if (!closed) {
      closed = true;
      try {
        responses.onError(Status.INTERNAL.withDescription("control plane error; reconnect").asRuntimeException());
      } catch (RuntimeException again) {
        e.addSuppressed(again);
        LOG.log(System.Logger.Level.ERROR, "could not end the failed stream", again);
      }
    }
    server.remove(this);
    server.autoRegistrationClosed(this);
  }

  /** Called for every new snapshot, on the registry's thread; merges with a push that has not started yet. */
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

  /** The transport can take more: send what waited (called on the transport's thread). */
  void onReady() {
    serial.execute(this::flushDeferred);
  }

  /** Asks the transport for the next request once this one is handled, so a client cannot queue work without bound. */
  void requestNext() {
    if (!closed) responses.request(1);
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
      fail(Status.INVALID_ARGUMENT.withDescription(reason));
      server.remove(this);
      return false;
    }
    if (caller != null && !claimsOnlyItsOwnIdentity(parsed)) return false;
    String notRegistered = server.autoRegister(this, node, parsed, caller);
    if (notRegistered != null) {
      String reason = ClientText.forLog(notRegistered, 1024);
      server.logRefusal("refusing xDS stream from " + peer + ": node " + ClientText.forLog(parsed.id()) + ": " + reason);
      server.metrics().rejectedStream();
      fail(Status.PERMISSION_DENIED.withDescription(reason));
      server.remove(this);
      return false;
    }
    // Only a proven identity is ever sent Secrets, only those of its own namespace (SDS), and only
    // when its service account may read them there (Kubernetes RBAC, as istiod asks).
    Proxy identified = parsed;
    if (caller != null) {
      identified = parsed.verifiedIn(caller.id().namespace());
      java.util.concurrent.CompletableFuture<String> access = server.secretAccess().decide(caller.id().namespace(),
          caller.id().serviceAccount());
      if (access.isDone()) {
        String noSecrets = access.getNow(null);
        if (noSecrets != null) identified = identified.refusedSecrets(noSecrets);
      } else {
        // The stream does not wait for the API server: no key until it answers, then a push.
        identified = identified.refusedSecrets("waiting for the API server to say whether service account "
            + caller.id().serviceAccount() + " may list Secrets in namespace " + caller.id().namespace()
            + " (SubjectAccessReview); sent once it answers");
        access.whenComplete((noSecrets, failure) -> serial.execute(() -> secretAccessDecided(noSecrets, failure)));
      }
    }
    proxy = identified;
    // Published before the stream is listed, so whoever finds it there also finds its identity.
    publishStatus();
    server.registerProxy(this);
    synchronized (pendingLock) {
      // A snapshot published before registration never reached this stream: start from the newest.
      MeshSnapshot current = server.currentSnapshot();
      if (current.version() > latest.version()) latest = current;
      ownHosts = ownHosts(latest);
    }
    return true;
  }

  /** The API server answered whether this proven proxy may have Secrets: push again with the answer. */
  private void secretAccessDecided(String noSecrets, Throwable failure) {
    if (closed || proxy == null) return;
    String refusal = failure != null ? "could not ask the API server whether the service account may list Secrets ("
        + failure + ")" : noSecrets;
    proxy = proxy.refusedSecrets(refusal == null ? "" : refusal);
    publishStatus();
    enqueue(snapshot(), ChangeEvent.FULL);
  }

  /**
   * A node may claim no other namespace, service account or cluster than its caller proved; if it
   * does, the stream ends with PERMISSION_DENIED and the log names both identities.
   */
  private boolean claimsOnlyItsOwnIdentity(Proxy node) {
    var mesh = snapshot().meshConfig();
    List<String> wrong = NodeClaims.mismatches(node, caller, mesh.trustDomain(), mesh.trustDomainAliases(),
        id -> isGatewayApiDeployment(snapshot(), id));
    if (wrong.isEmpty()) return true;
    String claims = ClientText.forLog(String.join(", ", wrong), 1024);
    server.logRefusal("refusing xDS stream from " + peer + ": node " + ClientText.forLog(node.id()) + " claims "
        + claims + " but the client proved " + caller);
    server.metrics().rejectedStream();
    fail(Status.PERMISSION_DENIED.withDescription("node " + ClientText.forLog(node.id()) + " claims " + claims
        + " but the client is " + caller + "; a proxy may only ask for its own identity's configuration"));
    server.remove(this);
    return false;
  }

  /**
   * Whether the identity is that of a Gateway API Gateway's deployment (class istio): the Gateway,
   * translated into Istio Gateways selecting its pods, exists in the identity's namespace.
   */
  private static boolean isGatewayApiDeployment(MeshSnapshot snapshot, weft.security.SpiffeId id) {
    String label = weft.model.gatewayapi.GatewayApiTranslation.GATEWAY_NAME_LABEL;
    for (weft.model.Gateway g : snapshot.config().gateways()) {
      if (!g.id().namespace().equals(id.namespace())
          || !weft.model.gatewayapi.GatewayApiTranslation.isDerived(g)) {
        continue;
      }
      String name = g.selector().get(label);
      if (name != null && NodeClaims.gatewayApiServiceAccount(name).equals(id.serviceAccount())) return true;
    }
    return false;
  }

  /**
   * Whether the stream may hold {@code extraNames} more names of {@code extraChars} characters; if
   * not, it is ended with RESOURCE_EXHAUSTED and the reason is logged. Envoy subscribes to names
   * that may not exist yet, so names are not checked against the mesh, only counted.
   */
  boolean admitNames(long extraNames, long extraChars) {
    long names = extraNames;
    long chars = extraChars;
    for (WatchState w : watches.values()) {
      names += w.heldNames();
      chars += w.names.chars();
    }
    if (names <= MAX_NAMES && chars <= MAX_NAME_CHARS) return true;
    String reason = "stream would hold " + names + " resource names (" + chars + " characters) over all types; "
        + "at most " + MAX_NAMES + " names and " + MAX_NAME_CHARS + " characters are allowed";
    server.logRefusal("closing xDS stream of " + ClientText.forLog(proxy.id()) + " from " + peer + ": " + reason);
    server.metrics().rejectedStream();
    fail(Status.RESOURCE_EXHAUSTED.withDescription(reason));
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

  /**
   * Sends now if the transport can take it and nothing of this stream waits already (responses keep
   * their order); otherwise remembers the type for when the transport is ready.
   */
  boolean pushOrDefer(WatchState w, ProxyView view, Collection<String> names, boolean force,
      Set<String> justSubscribed) {
    if (!canSendNow()) {
      defer(w, force, justSubscribed);
      return false;
    }
    return push(w, view, names, force, justSubscribed);
  }

  /** Whether a response may go out now: the transport takes it and nothing of this stream waits before it. */
  boolean canSendNow() {
    return stalledSinceNanos < 0 && responses.isReady();
  }

  /** Remembers that this type owes a push, to be generated from the newest snapshot once the transport is ready. */
  void defer(WatchState w, boolean force, Set<String> justSubscribed) {
    if (w.deferred == null) w.deferred = new WatchState.Deferred();
    w.deferred.merge(force, justSubscribed);
    if (stalledSinceNanos < 0) stalledSinceNanos = server.deadlines().nanoTime();
    if (!stallCheckScheduled) scheduleStallCheck(server.sendTimeout().toNanos());
  }

  private void scheduleStallCheck(long delayNanos) {
    stallCheckScheduled = true;
    server.deadlines().after(delayNanos, () -> serial.execute(this::checkStall));
  }

  /** Sends, in push order, what waited for the transport; stops again as soon as it is not ready. */
  private void flushDeferred() {
    if (closed || proxy == null || stalledSinceNanos < 0) return;
    ProxyView view = null;
    boolean sent = false;
    MeshSnapshot snapshot = snapshot();
    for (String type : TypeUrls.PUSH_ORDER) {
      WatchState w = watches.get(type);
      if (w == null || w.deferred == null) continue;
      if (!responses.isReady()) {
        // Progress was made if something went out; the timeout counts from the last progress.
        if (sent) stalledSinceNanos = server.deadlines().nanoTime();
        publishStatus();
        return;
      }
      WatchState.Deferred d = w.deferred;
      w.deferred = null;
      if (view == null) view = view(snapshot);
      sent |= push(w, view, w.wildcard ? List.of() : w.names.asList(), d.force, d.justSubscribed);
    }
    stalledSinceNanos = -1;
    if (view != null) recordDropped(view, false);
    if (sent) server.metrics().converged(System.nanoTime() - snapshot.createdNanos());
    publishStatus();
  }

  /** Closes the stream if it has left work waiting for the transport for the whole send timeout. */
  private void checkStall() {
    stallCheckScheduled = false;
    if (closed || stalledSinceNanos < 0) return;
    long timeout = server.sendTimeout().toNanos();
    long stalledFor = server.deadlines().nanoTime() - stalledSinceNanos;
    if (stalledFor < timeout) {
      scheduleStallCheck(timeout - stalledFor);
      return;
    }
    List<String> waiting = new ArrayList<>();
    for (WatchState w : watches.values()) if (w.deferred != null) waiting.add(TypeUrls.shortName(w.typeUrl));
    String reason = "the client read nothing for " + java.time.Duration.ofNanos(stalledFor).toSeconds()
        + " s while a push of " + String.join(", ", waiting) + " waited (--xds-send-timeout "
        + server.sendTimeout().toSeconds() + " s)";
    server.logSendTimeout("closing xDS stream of proxy " + ClientText.forLog(proxy.id()) + " from " + peer + ": "
        + reason);
    server.metrics().sendTimeout();
    fail(Status.DEADLINE_EXCEEDED.withDescription(reason));
    onClosed();
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
    boolean endpointsOnly = change.endpointsOnly();
    Set<String> ownHostsNow = ownHostsAfter(snapshot, change);
    boolean envoyWhole = endpointsOnly && !proxy.proxyless() && touchesEnvoyWholeTypes(snapshot, change, ownHostsNow);
    // A stream that waits for its client generates nothing now: it will generate from the newest snapshot.
    boolean waiting = !canSendNow();
    ProxyView view = waiting ? null : view(snapshot);
    boolean sent = false;
    for (String type : TypeUrls.PUSH_ORDER) {
      WatchState w = watches.get(type);
      if (w == null) continue;
      boolean whole = envoyWhole && TypeUrls.isFullState(type);
      if (!whole && !Generators.affects(type, change, proxy.proxyless())) continue;
      Collection<String> names = w.names.asList();
      // A Secret's change resends what differs among the few Secrets the proxy watches (the push compares).
      if (endpointsOnly && !whole && !type.equals(TypeUrls.SECRET)) {
        names = namesForHosts(w.names, change.endpointHosts(), snapshot);
      }
      if (names.isEmpty() && !w.wildcard) continue;
      if (view == null) {
        defer(w, false, Set.of());
      } else {
        sent |= pushOrDefer(w, view, names, false, Set.of());
      }
    }
    ownHosts = ownHostsNow;
    if (view != null) recordDropped(view, !endpointsOnly);
    if (sent) server.metrics().converged(System.nanoTime() - snapshot.createdNanos());
    publishStatus();
  }

  /**
   * Envoy's listeners and clusters depend on endpoints in two cases: the proxy's own workload
   * (inbound listeners and clusters) and DNS-resolved hosts (their endpoints are inline in CDS).
   */
  private boolean touchesEnvoyWholeTypes(MeshSnapshot snapshot, ChangeEvent change, Set<String> now) {
    for (String host : change.endpointHosts()) {
      if (ownHosts.contains(host)) return true;
      var view = snapshot.service(host);
      if (view != null && view.service().resolution().startsWith("DNS")) return true;
    }
    for (String host : change.endpointHosts()) if (now.contains(host)) return true;
    return false;
  }

  /**
   * {@link #ownHosts(MeshSnapshot)} after {@code change}. An endpoint change can only add or remove
   * the changed hosts, and a few endpoints are cheaper to scan than the mesh-wide address index
   * is to search; a change with a large host, or of anything but endpoints, looks it up afresh.
   */
  private Set<String> ownHostsAfter(MeshSnapshot snapshot, ChangeEvent change) {
    if (proxy.proxyless()) return Set.of();
    if (!change.endpointsOnly()) return ownHosts(snapshot);
    List<weft.registry.ServiceView> changed = new ArrayList<>(change.endpointHosts().size());
    int endpoints = 0;
    for (String host : change.endpointHosts()) {
      var service = snapshot.service(host);
      if (service != null) {
        changed.add(service);
        endpoints += service.endpoints().size();
      }
    }
    if (endpoints > SCAN_ENDPOINTS_UP_TO) return ownHosts(snapshot);
    Set<String> out = new TreeSet<>(ownHosts);
    out.removeAll(change.endpointHosts());
    for (var service : changed) {
      for (var e : service.endpoints()) {
        if (e.address().equals(proxy.ip()) && e.clusterId().equals(proxy.clusterId())) {
          out.add(service.service().hostname());
          break;
        }
      }
    }
    return out.equals(ownHosts) ? ownHosts : out;
  }

  /** Up to how many changed endpoints {@link #ownHostsAfter} scans them rather than searching the index. */
  private static final int SCAN_ENDPOINTS_UP_TO = 64;

  /** The hosts whose endpoints include this proxy's own workload. */
  private Set<String> ownHosts(MeshSnapshot snapshot) {
    if (proxy().proxyless()) return Set.of();
    var at = snapshot.endpointsAt(proxy().clusterId(), proxy().ip());
    if (at.isEmpty()) return Set.of();
    Set<String> hosts = new TreeSet<>();
    for (var w : at) hosts.add(w.service().service().hostname());
    return hosts;
  }

  /**
   * Only the watched clusters of the changed hosts: the rest of the proxy's endpoints are untouched.
   * The candidates come from the snapshot (each port, with no subset and with every subset any
   * DestinationRule defines for the host), looked up in the sorted names: a few lookups instead of
   * a pass over every name the proxy watches, which for a full-mesh sidecar is every cluster.
   */
  private List<String> namesForHosts(NameSet names, Set<String> hosts, MeshSnapshot snapshot) {
    List<String> out = new ArrayList<>();
    for (String host : hosts) {
      var service = snapshot.service(host);
      if (service == null) {
        out.addAll(namesEndingWith(names, host));
        continue;
      }
      Set<String> subsets = new TreeSet<>(server.generators().context(snapshot).subsetNames(host));
      subsets.add("");
      for (var port : service.service().ports()) {
        for (String subset : subsets) {
          String name = ClusterName.outbound(port.number(), subset, host).toString();
          if (names.contains(name)) out.add(name);
        }
      }
    }
    return out;
  }

  /** Every watched name {@code ...|HOST}: for a host that left the snapshot, whatever it was watched as. */
  private static List<String> namesEndingWith(NameSet names, String host) {
    List<String> out = new ArrayList<>();
    for (String n : names.asList()) {
      int at = n.length() - host.length();
      if (at > 0 && n.charAt(at - 1) == '|' && n.endsWith(host)) out.add(n);
    }
    return out;
  }

  /** The resources of a type for this proxy: every one it may see for a wildcard watch, else the named ones. */
  Generation generate(WatchState w, ProxyView view, Collection<String> names) {
    Generation g = w.wildcard ? server.generators().generateAll(w.typeUrl, view)
        : server.generators().generate(w.typeUrl, view, names);
    if (w.typeUrl.equals(TypeUrls.SECRET) && !g.failed()) logRefusedSecrets(view, names, g);
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

  /**
   * Logs, within the stream's budget, each Kubernetes Secret asked for and not sent, with the reason
   * the generator recorded (never any of its content). Names of other schemes (the agent's own
   * {@code default}, {@code ROOTCA}) are only shown in /debug/status: asking for them is normal.
   */
  private void logRefusedSecrets(ProxyView view, Collection<String> names, Generation g) {
    for (String name : names) {
      if (g.resources().containsKey(name) || !weft.xds.sds.SecretResources.isKubernetesSecret(name)) {
        continue;
      }
      server.metrics().secretRefused();
      String suppressed = logBudget.admit(SECRET_REFUSED);
      if (suppressed == null) continue;
      LOG.log(System.Logger.Level.WARNING, "proxy " + ClientText.forLog(proxy.id()) + ": " + ClientText.forLog(
          view.dropped().getOrDefault(name, "SDS " + name + " not sent"), 1024) + suppressed);
    }
  }

  ProxyView view(MeshSnapshot snapshot) {
    return server.generators().view(snapshot, proxy);
  }

  void recordDropped(ProxyView view, boolean replace) {
    if (view.dropped().isEmpty() && (!replace || dropped.isEmpty())) return;
    Map<String, String> next = replace ? new TreeMap<>() : new TreeMap<>(dropped);
    next.putAll(view.dropped());
    dropped = java.util.Collections.unmodifiableMap(next);
  }

  void pushed(WatchState w, int resources, long bytes, long startNanos) {
    w.pushes++;
    server.metrics().pushed(w.typeUrl, resources, bytes, System.nanoTime() - startNanos);
  }

  /** Replaces the summary others read; on the serial executor (or in the constructor). */
  final void publishStatus() {
    List<StreamSummary.TypeSummary> types = new ArrayList<>(watches.size());
    for (WatchState w : watches.values()) types.add(StreamSummary.TypeSummary.of(w));
    summary = new StreamSummary(proxy, peer, protocol(), connectedAt, caller == null ? null : caller.toString(),
        types, dropped);
  }
}
