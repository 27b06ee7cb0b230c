package weft.xds.server;

import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import weft.model.text.LogBudget;
import weft.registry.ChangeEvent;
import weft.registry.MeshSnapshot;
import weft.registry.Registry;
import weft.xds.Generators;

/**
 * The Aggregated Discovery Service (State of the World). Each stream is a {@link ProxyConnection};
 * every new snapshot is handed to each connection, which decides what it must resend.
 */
public final class AdsServer extends AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase
    implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(AdsServer.class.getName());
  /** The remote address of the current call, for logs and /debug/status. */
  private static final Context.Key<Object> PEER = Context.key("weft-peer");

  private final Registry registry;
  private final String defaultClusterId;
  private final Generators generators;
  private final XdsMetrics metrics;
  private final Set<ProxyConnection> connections = ConcurrentHashMap.newKeySet();
  private final ExecutorService pool;
  /** Refused streams are logged server-wide: each refusal ends its stream, so a per-stream budget cannot bound them. */
  private final LogBudget refusals = new LogBudget(10, java.time.Duration.ofMinutes(1), System::nanoTime);

  public AdsServer(Registry registry, String defaultClusterId, XdsMetrics metrics) {
    this(registry, defaultClusterId, metrics, new Generators());
  }

  public AdsServer(Registry registry, String defaultClusterId, XdsMetrics metrics, Generators generators) {
    this.registry = registry;
    this.generators = generators;
    this.defaultClusterId = defaultClusterId;
    this.metrics = metrics;
    AtomicInteger n = new AtomicInteger();
    // Generation is CPU work; one thread per core keeps pushes from starving each other.
    this.pool = Executors.newFixedThreadPool(Math.max(2, Runtime.getRuntime().availableProcessors()), r -> {
      Thread t = new Thread(r, "weft-xds-push-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    metrics.connectionsGauge(connections);
    registry.addListener(this::onSnapshot);
  }

  /** The service with the interceptor that records each stream's peer address. */
  public ServerServiceDefinition definition() {
    return ServerInterceptors.intercept(this, new ServerInterceptor() {
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

  private void onSnapshot(MeshSnapshot snapshot, ChangeEvent change) {
    // Before any connection sees the snapshot: its context keeps only the parts the change left valid.
    generators.onSnapshot(snapshot, change);
    for (ProxyConnection c : connections) c.enqueue(snapshot, change);
  }

  @Override
  public StreamObserver<DiscoveryRequest> streamAggregatedResources(StreamObserver<DiscoveryResponse> responses) {
    SotwConnection connection = new SotwConnection(this, responses, pool, String.valueOf(PEER.get()),
        registry.current());
    return requests(connection, responses, connection::onRequest);
  }

  @Override
  public StreamObserver<DeltaDiscoveryRequest> deltaAggregatedResources(
      StreamObserver<DeltaDiscoveryResponse> responses) {
    DeltaConnection connection = new DeltaConnection(this, responses, pool, String.valueOf(PEER.get()),
        registry.current());
    return requests(connection, responses, connection::onRequest);
  }

  /** The request side of a stream, either variant: requests go to the connection, endings close it. */
  private <Q, R> StreamObserver<Q> requests(ProxyConnection connection, StreamObserver<R> responses,
      java.util.function.Consumer<Q> onRequest) {
    ((ServerCallStreamObserver<R>) responses).setOnCancelHandler(() -> close(connection));
    return new StreamObserver<>() {
      @Override
      public void onNext(Q request) {
        onRequest.accept(request);
      }

      @Override
      public void onError(Throwable t) {
        close(connection);
      }

      @Override
      public void onCompleted() {
        close(connection);
        try {
          responses.onCompleted();
        } catch (RuntimeException ignored) {
          // already closed by the client
        }
      }
    };
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

  void remove(ProxyConnection c) {
    connections.remove(c);
  }

  private void close(ProxyConnection c) {
    c.onClosed();
    connections.remove(c);
  }

  public int connectedProxies() {
    return connections.size();
  }

  /** Each connected proxy's identity, subscriptions, versions sent and ACKed, NACKs and drop reasons. */
  public List<Map<String, Object>> proxyStatus() {
    List<Map<String, Object>> out = new ArrayList<>();
    for (ProxyConnection c : connections) {
      try {
        out.add(c.statusAsync().get(2, TimeUnit.SECONDS));
      } catch (Exception e) {
        out.add(Map.of("id", c.proxy() == null ? "" : c.proxy().id(), "error", "busy: " + e));
      }
    }
    out.sort(Comparator.comparing(m -> String.valueOf(m.get("id"))));
    return out;
  }

  /** The node ids of the connected proxies, sorted (one id may have several streams). */
  public List<String> proxyIds() {
    return connections.stream().map(ProxyConnection::proxy).filter(java.util.Objects::nonNull)
        .map(weft.xds.proxy.Proxy::id).distinct().sorted().toList();
  }

  /**
   * What the proxy with node id {@code id} was last sent per type, from its newest stream; empty
   * when it is not connected. Waits at most {@code wait} for the stream's executor.
   */
  public java.util.Optional<List<weft.xds.dump.SentResources>> lastSent(String id, java.time.Duration wait)
      throws java.util.concurrent.ExecutionException, java.util.concurrent.TimeoutException, InterruptedException {
    ProxyConnection newest = null;
    for (ProxyConnection c : connections) {
      if (c.proxy() == null || !c.proxy().id().equals(id)) continue;
      if (newest == null || c.connectedAt() > newest.connectedAt()) newest = c;
    }
    if (newest == null) return java.util.Optional.empty();
    return java.util.Optional.of(newest.sentAsync().get(wait.toMillis(), TimeUnit.MILLISECONDS));
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
