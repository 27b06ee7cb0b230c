package weft.xds.server;

import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import weft.model.text.LogBudget;
import weft.registry.ChangeEvent;
import weft.registry.MeshSnapshot;
import weft.registry.Registry;
import weft.xds.Generation;
import weft.xds.Generators;
import weft.xds.dump.SentResources;
import weft.xds.view.ProxyView;

/**
 * The Aggregated Discovery Service, State of the World and Delta. Each stream is a {@link
 * ProxyConnection}; every new snapshot is handed to each connection, which decides what it must
 * resend. Status and config-dump readers use the summary each stream publishes and never wait for
 * a stream.
 */
public final class AdsServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(AdsServer.class.getName());
  /** The remote address of the current call, for logs and /debug/status. */
  private static final Context.Key<Object> PEER = Context.key("weft-peer");

  /** How long a stream may leave a push waiting for its client to read before it is closed (Istio's send timeout). */
  public static final Duration DEFAULT_SEND_TIMEOUT = Duration.ofSeconds(60);

  private final Registry registry;
  private final String defaultClusterId;
  private final Generators generators;
  private final XdsMetrics metrics;
  private final Duration sendTimeout;
  private final Deadlines deadlines;
  /** Streams whose node is known; thread-safe. Each stream owns its own state (see ProxyConnection). */
  private final Set<ProxyConnection> connections = ConcurrentHashMap.newKeySet();
  private final ExecutorService pool;
  /** The timer of the real clock, or null when a test injected its own. */
  private final ScheduledThreadPoolExecutor timer;
  /** Refused streams are logged server-wide: each refusal ends its stream, so a per-stream budget cannot bound them. */
  private final LogBudget refusals = new LogBudget(10, Duration.ofMinutes(1), System::nanoTime);
  /** Streams closed for not reading, likewise server-wide. */
  private final LogBudget sendTimeouts = new LogBudget(10, Duration.ofMinutes(1), System::nanoTime);

  public AdsServer(Registry registry, String defaultClusterId, XdsMetrics metrics) {
    this(registry, defaultClusterId, metrics, new Generators());
  }

  public AdsServer(Registry registry, String defaultClusterId, XdsMetrics metrics, Generators generators) {
    this(registry, defaultClusterId, metrics, generators, DEFAULT_SEND_TIMEOUT);
  }

  /** @param sendTimeout how long a stream may leave a push waiting for its client to read ({@code --xds-send-timeout}) */
  public AdsServer(Registry registry, String defaultClusterId, XdsMetrics metrics, Generators generators,
      Duration sendTimeout) {
    this(registry, defaultClusterId, metrics, generators, sendTimeout, null);
  }

  /** With {@code deadlines} null, send timeouts run on real time. */
  AdsServer(Registry registry, String defaultClusterId, XdsMetrics metrics, Generators generators,
      Duration sendTimeout, Deadlines deadlines) {
    if (sendTimeout.isNegative() || sendTimeout.isZero()) {
      throw new IllegalArgumentException("the xDS send timeout must be positive, not " + sendTimeout);
    }
    this.registry = registry;
    this.generators = generators;
    this.defaultClusterId = defaultClusterId;
    this.metrics = metrics;
    this.sendTimeout = sendTimeout;
    if (deadlines == null) {
      this.timer = new ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "weft-xds-send-timeouts");
        t.setDaemon(true);
        return t;
      });
      this.deadlines = Deadlines.on(timer);
    } else {
      this.timer = null;
      this.deadlines = deadlines;
    }
    AtomicInteger n = new AtomicInteger();
    // Generation is CPU work; one thread per core keeps pushes from starving each other. No task
    // blocks (sends respect flow control), so a slow stream never holds a thread.
    // Once the server is closed, what its streams still hand over (cancellations) is dropped.
    int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
    this.pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
      Thread t = new Thread(r, "weft-xds-push-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    }, new ThreadPoolExecutor.DiscardPolicy());
    metrics.connectionsGauge(connections);
    registry.addListener(this::onSnapshot);
  }

  /**
   * The service with the interceptor that records each stream's peer address. State of the World
   * requests are read by {@link SotwRequest}, which leaves resource names undecoded; everything
   * else uses the generated protobuf marshallers.
   */
  public ServerServiceDefinition definition() {
    MethodDescriptor<DiscoveryRequest, DiscoveryResponse> generatedSotw =
        AggregatedDiscoveryServiceGrpc.getStreamAggregatedResourcesMethod();
    MethodDescriptor<SotwRequest, DiscoveryResponse> sotw =
        generatedSotw.toBuilder(SotwRequest.MARSHALLER, generatedSotw.getResponseMarshaller()).build();
    MethodDescriptor<DeltaDiscoveryRequest, DeltaDiscoveryResponse> delta =
        AggregatedDiscoveryServiceGrpc.getDeltaAggregatedResourcesMethod();
    ServiceDescriptor generated = AggregatedDiscoveryServiceGrpc.getServiceDescriptor();
    ServiceDescriptor descriptor = ServiceDescriptor.newBuilder(generated.getName())
        .setSchemaDescriptor(generated.getSchemaDescriptor()).addMethod(sotw).addMethod(delta).build();
    ServerServiceDefinition service = ServerServiceDefinition.builder(descriptor)
        .addMethod(sotw, ServerCalls.asyncBidiStreamingCall(this::streamAggregatedResources))
        .addMethod(delta, ServerCalls.asyncBidiStreamingCall(this::deltaAggregatedResources))
        .build();
    return ServerInterceptors.intercept(service, new ServerInterceptor() {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
          ServerCallHandler<Q, R> next) {
        Context ctx = Context.current().withValue(PEER, call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
        return Contexts.interceptCall(ctx, call, headers, next);
      }
    });
  }

  String defaultClusterId() {
    return defaultClusterId;
  }

  MeshSnapshot currentSnapshot() {
    return registry.current();
  }

  Generators generators() {
    return generators;
  }

  XdsMetrics metrics() {
    return metrics;
  }

  Duration sendTimeout() {
    return sendTimeout;
  }

  Deadlines deadlines() {
    return deadlines;
  }

  private void onSnapshot(MeshSnapshot snapshot, ChangeEvent change) {
    // Every snapshot, status-only ones included: the context carries parts across one described step at a time.
    generators.onSnapshot(snapshot, change);
    // Status only (sync, staleness, problems): nothing a proxy is sent can differ, so no connection wakes.
    if (change.isEmpty()) return;
    metrics.pushTriggered(change);
    for (ProxyConnection c : connections) c.enqueue(snapshot, change);
  }

  private StreamObserver<SotwRequest> streamAggregatedResources(StreamObserver<DiscoveryResponse> responses) {
    ServerCallStreamObserver<DiscoveryResponse> call = (ServerCallStreamObserver<DiscoveryResponse>) responses;
    SotwConnection connection = new SotwConnection(this, call, pool, String.valueOf(PEER.get()), registry.current());
    return requests(connection, call, connection::onRequest);
  }

  private StreamObserver<DeltaDiscoveryRequest> deltaAggregatedResources(
      StreamObserver<DeltaDiscoveryResponse> responses) {
    ServerCallStreamObserver<DeltaDiscoveryResponse> call = (ServerCallStreamObserver<DeltaDiscoveryResponse>) responses;
    DeltaConnection connection = new DeltaConnection(this, call, pool, String.valueOf(PEER.get()), registry.current());
    return requests(connection, call, connection::onRequest);
  }

  /**
   * The request side of a stream, either variant. Everything the transport reports (requests,
   * readiness, cancellation, the client's end) is handed to the stream's own executor, which alone
   * calls the response observer. Requests are asked for one at a time, after the previous one was
   * handled, so a client that floods requests waits in its own flow-control window, not in our heap.
   */
  private <Q, R> StreamObserver<Q> requests(ProxyConnection connection, ServerCallStreamObserver<R> responses,
      java.util.function.Consumer<Q> onRequest) {
    responses.disableAutoRequest();
    responses.setOnCancelHandler(() -> connection.serial.execute(connection::onClosed));
    responses.setOnReadyHandler(connection::onReady);
    responses.request(1);
    return new StreamObserver<>() {
      @Override
      public void onNext(Q request) {
        onRequest.accept(request);
      }

      @Override
      public void onError(Throwable t) {
        // The call is over (the cancel handler ran too): nothing may be written to it.
        connection.serial.execute(connection::onClosed);
      }

      @Override
      public void onCompleted() {
        connection.serial.execute(connection::clientCompleted);
      }
    };
  }

  /** WorkloadEntry auto-registration; made on first use with Istio's grace period unless set. */
  private volatile weft.xds.autoreg.AutoRegistration autoRegistration;

  /** Who may be sent Secrets besides proving a namespace (Kubernetes mode: RBAC); every proven identity by default. */
  private volatile weft.xds.sds.SecretAccess secretAccess = weft.xds.sds.SecretAccess.OWN_NAMESPACE;

  /** Asks {@code access} before a proven proxy is sent any Secret. */
  public void secretAccess(weft.xds.sds.SecretAccess access) {
    this.secretAccess = access;
  }

  weft.xds.sds.SecretAccess secretAccess() {
    return secretAccess;
  }

  /** Uses {@code registration} for proxies that name a WorkloadGroup (the control plane sets its flags). */
  public void autoRegistration(weft.xds.autoreg.AutoRegistration registration) {
    this.autoRegistration = registration;
  }

  /** The auto-registration in use, made with Istio's defaults when none was set. */
  public synchronized weft.xds.autoreg.AutoRegistration autoRegistration() {
    if (autoRegistration == null) {
      java.util.concurrent.ScheduledThreadPoolExecutor s = new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
        Thread t = new Thread(r, "weft-workload-entry-cleanup");
        t.setDaemon(true);
        return t;
      });
      autoRegistration = new weft.xds.autoreg.AutoRegistration(registry, defaultClusterId,
          weft.xds.autoreg.AutoRegistration.DEFAULT_GRACE_PERIOD, s);
    }
    return autoRegistration;
  }

  /**
   * Registers a proxy whose node names a WorkloadGroup ({@code AUTO_REGISTER_GROUP}); null when
   * registered or when it names none, else why the stream must be refused.
   */
  String autoRegister(ProxyConnection c, io.envoyproxy.envoy.config.core.v3.Node node, weft.xds.proxy.Proxy proxy,
      weft.security.auth.VerifiedCaller caller) {
    com.google.protobuf.Value group = node.getMetadata().getFieldsMap().get(weft.xds.autoreg.AutoRegistration.GROUP_METADATA);
    if (group == null || group.getStringValue().isEmpty()) return null;
    return autoRegistration().register(c, proxy, caller, group.getStringValue(), registry.current());
  }

  /** A stream closed: what it registered starts its grace period. */
  void autoRegistrationClosed(ProxyConnection c) {
    weft.xds.autoreg.AutoRegistration a = autoRegistration;
    if (a != null) a.disconnected(c);
  }

  /** A connection joins the push fan-out only once its node is known. */
  void registerProxy(ProxyConnection c) {
    connections.add(c);
  }

  /** Logs why a stream was refused, within the server's budget for such lines. */
  void logRefusal(String line) {
    String suppressed = refusals.admit("refused stream");
    if (suppressed != null) LOG.log(System.Logger.Level.WARNING, line + suppressed);
  }

  /** Logs why a stream was closed for not reading, within the server's budget for such lines. */
  void logSendTimeout(String line) {
    String suppressed = sendTimeouts.admit("send timeout");
    if (suppressed != null) LOG.log(System.Logger.Level.WARNING, line + suppressed);
  }

  void remove(ProxyConnection c) {
    connections.remove(c);
  }

  /** The connected streams; a test parks work on their executors through this. */
  List<ProxyConnection> connections() {
    return List.copyOf(connections);
  }

  public int connectedProxies() {
    return connections.size();
  }

  /**
   * Each connected proxy's identity, subscriptions, versions sent and ACKed, NACKs and drop reasons,
   * from the summary each stream publishes: never waits for a stream, however busy.
   */
  public List<Map<String, Object>> proxyStatus() {
    List<Map<String, Object>> out = new ArrayList<>();
    MeshSnapshot snapshot = registry.current();
    for (ProxyConnection c : connections) {
      StreamSummary s = c.summary();
      Map<String, Object> m = s.toMap();
      if (s.proxy() != null) m.put("proxyConfig", effectiveProxyConfig(snapshot, s.proxy()).toMap());
      out.add(m);
    }
    out.sort(Comparator.comparing(m -> String.valueOf(m.get("id"))));
    return out;
  }

  /** The ProxyConfig in force for a proxy (ProxyConfig resources by scope), shown per proxy. */
  static weft.xds.proxyconfig.EffectiveProxyConfig effectiveProxyConfig(MeshSnapshot snapshot,
      weft.xds.proxy.Proxy proxy) {
    return weft.xds.proxyconfig.ProxyConfigs.effective(snapshot.proxyPolicies().proxyConfigs(),
        snapshot.meshConfig().rootNamespace(), proxy.namespace(), proxy.labels());
  }

  /**
   * What each connected stream's proxy was not sent (its drop notes) and what it rejects now (a NACK
   * not followed by an ACK), for {@code weft analyze}; from the published summaries, never waiting.
   */
  public List<weft.xds.diag.AnalysisInput.ProxyReport> proxyReports() {
    List<weft.xds.diag.AnalysisInput.ProxyReport> out = new ArrayList<>();
    for (ProxyConnection c : connections) {
      StreamSummary s = c.summary();
      if (s.proxy() == null) continue;
      List<String> nacks = new ArrayList<>();
      for (StreamSummary.TypeSummary t : s.types()) {
        if (t.lastNack() != null && !t.sentVersion().equals(t.ackedVersion())) {
          nacks.add(weft.xds.TypeUrls.shortName(t.typeUrl()) + " version " + t.sentVersion() + ": " + t.lastNack());
        }
      }
      out.add(new weft.xds.diag.AnalysisInput.ProxyReport(s.proxy().id(), s.dropped(), nacks));
    }
    out.sort(Comparator.comparing(weft.xds.diag.AnalysisInput.ProxyReport::id));
    return out;
  }

  /** The connected proxy with this node id, as its newest stream describes it. */
  public Optional<weft.xds.proxy.Proxy> proxy(String id) {
    StreamSummary newest = null;
    for (ProxyConnection c : connections) {
      StreamSummary s = c.summary();
      if (s.proxy() == null || !s.proxy().id().equals(id)) continue;
      if (newest == null || s.connectedAt() > newest.connectedAt()) newest = s;
    }
    return newest == null ? Optional.empty() : Optional.of(newest.proxy());
  }

  /** The node ids of the connected proxies, sorted (one id may have several streams). */
  public List<String> proxyIds() {
    return connections.stream().map(ProxyConnection::proxy).filter(java.util.Objects::nonNull)
        .map(weft.xds.proxy.Proxy::id).distinct().sorted().toList();
  }

  /**
   * The configuration of the proxy with node id {@code id}, from its newest stream: per type it
   * watches, the resources generated afresh from the current snapshot (streams keep hashes, not
   * bytes), each marked as held when its content is what the stream last sent, else pending. Runs
   * on the caller's thread and never waits for the stream. Empty when the proxy is not connected.
   */
  public Optional<List<SentResources>> configOf(String id) {
    StreamSummary newest = null;
    for (ProxyConnection c : connections) {
      StreamSummary s = c.summary();
      if (s.proxy() == null || !s.proxy().id().equals(id)) continue;
      if (newest == null || s.connectedAt() > newest.connectedAt()) newest = s;
    }
    if (newest == null) return Optional.empty();
    ProxyView view = generators.view(registry.current(), newest.proxy());
    boolean delta = newest.protocol().equals("delta");
    List<SentResources> out = new ArrayList<>();
    for (StreamSummary.TypeSummary t : newest.types()) {
      Generation g = t.wildcard() ? generators.generateAll(t.typeUrl(), view)
          : generators.generate(t.typeUrl(), view, t.names().asList());
      SortedMap<String, ByteString> resources = new TreeMap<>();
      Map<String, String> versions = new HashMap<>();
      Set<String> pending = new TreeSet<>();
      if (!g.failed()) {
        g.resources().forEach((name, r) -> {
          resources.put(name, r.resource().getValue());
          boolean held = t.sent().holds(name, r.hash());
          if (!held) pending.add(name);
          // Delta resources carry their own version; State of the World ones the response's, if sent.
          if (delta) versions.put(name, r.version());
          else if (!held) versions.put(name, "");
        });
      }
      out.add(new SentResources(t.typeUrl(), t.sentVersion(), resources, versions, pending,
          t.sentVersion().equals(t.ackedVersion())));
    }
    return Optional.of(out);
  }

  @Override
  public void close() {
    pool.shutdownNow();
    if (timer != null) timer.shutdownNow();
  }
}
