package weft.gateway.xds;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.Status;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;
import weft.gateway.route.GatewayRoutes;
import weft.gateway.route.SniTable;

/**
 * The gateway's State-of-the-World ADS client, as a router node: wildcard LDS and CDS, then EDS for
 * the clusters the listeners' chains name. Every accepted update yields new {@link GatewayRoutes}:
 * one table per listener port. Listeners it cannot use are NACKed with the reason and the last good
 * routes stay. When the stream breaks it
 * reconnects with exponential backoff and keeps serving the last good table meanwhile.
 *
 * <p>All state lives on one thread ({@code sync}); gRPC callbacks only hand work to it.
 */
public final class GatewayXdsClient implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(GatewayXdsClient.class.getName());
  static final String LDS = ListenerRoutes.LISTENER_TYPE;
  static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  static final String EDS = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

  /** Reconnect delays: grpc-java's xDS client uses 1 s doubling to 30 s with jitter; so do we. */
  private final long initialBackoffMillis;
  private static final long MAX_BACKOFF_MILLIS = 30_000;

  private final ManagedChannel channel;
  private final Node node;
  private final Consumer<GatewayRoutes> onRoutes;
  private final ScheduledExecutorService sync;

  // Everything below is touched only on `sync`.
  private StreamObserver<DiscoveryRequest> requests;
  private int stream;
  private int failures;
  private boolean closed;
  private volatile boolean connected;
  private volatile String lastNack = "";
  private final Map<String, String> versions = new HashMap<>();
  private final Map<String, String> nonces = new HashMap<>();
  /** Each listener's chains by port, from the last accepted LDS response; null before the first. */
  private Map<Integer, ListenerRoutes.Chains> listeners;
  /** Cluster name → its EDS service name, from the last CDS response; null before the first. */
  private Map<String, String> edsNames;
  /** Clusters that carry their endpoints inline (STATIC). */
  private final Map<String, List<InetSocketAddress>> inline = new HashMap<>();
  private final Map<String, List<InetSocketAddress>> assignments = new HashMap<>();
  private Set<String> edsSubscribed = Set.of();
  private boolean published;

  public GatewayXdsClient(ManagedChannel channel, Node node, Consumer<GatewayRoutes> onRoutes) {
    this(channel, node, onRoutes, 1000);
  }

  GatewayXdsClient(ManagedChannel channel, Node node, Consumer<GatewayRoutes> onRoutes, long initialBackoffMillis) {
    this.channel = channel;
    this.node = node;
    this.onRoutes = onRoutes;
    this.initialBackoffMillis = initialBackoffMillis;
    this.sync = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "weft-gateway-xds");
      t.setDaemon(true);
      return t;
    });
  }

  public void start() {
    sync.execute(this::connect);
  }

  /** Whether an ADS stream is open and has answered at least once. */
  public boolean connected() {
    return connected;
  }

  /** The error_detail of the last NACK this client sent, or empty. */
  public String lastNack() {
    return lastNack;
  }

  private void connect() {
    if (closed) return;
    int id = ++stream;
    nonces.clear();
    requests = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(new StreamObserver<>() {
      @Override
      public void onNext(DiscoveryResponse r) {
        onSync(() -> {
          if (id == stream) onResponse(r);
        });
      }

      @Override
      public void onError(Throwable t) {
        onSync(() -> {
          if (id == stream) onBroken(t.toString());
        });
      }

      @Override
      public void onCompleted() {
        onSync(() -> {
          if (id == stream) onBroken("server closed the stream");
        });
      }
    });
    // A resumed stream says what it already has, so the server may skip unchanged resources.
    send(LDS, List.of(), null);
    send(CDS, List.of(), null);
    if (!edsSubscribed.isEmpty()) send(EDS, List.copyOf(edsSubscribed), null);
  }

  /** Runs on the state thread, unless the client is already closed. */
  private void onSync(Runnable r) {
    try {
      sync.execute(r);
    } catch (java.util.concurrent.RejectedExecutionException closedAlready) {
      // Late callbacks of the stream closed by close().
    }
  }

  private void onBroken(String why) {
    connected = false;
    requests = null;
    if (closed) return;
    long delay = Math.min(MAX_BACKOFF_MILLIS, initialBackoffMillis << Math.min(failures, 16));
    delay = (long) (delay * (0.8 + 0.4 * ThreadLocalRandom.current().nextDouble()));
    failures++;
    LOG.log(Level.WARNING, "xDS stream broken ({0}); keeping the last table, reconnecting in {1} ms",
        new Object[] {why, delay});
    sync.schedule(this::connect, delay, TimeUnit.MILLISECONDS);
  }

  private void onResponse(DiscoveryResponse r) {
    connected = true;
    failures = 0;
    String type = r.getTypeUrl();
    try {
      switch (type) {
        case LDS -> onListeners(r.getResourcesList());
        case CDS -> onClusters(r.getResourcesList());
        case EDS -> onAssignments(r.getResourcesList());
        default -> {
          // Not asked for; ACK so the server does not wait on us.
        }
      }
    } catch (InvalidResourceException e) {
      nonces.put(type, r.getNonce());
      lastNack = e.getMessage();
      LOG.warning("rejecting " + type + " version " + r.getVersionInfo() + ": " + e.getMessage());
      send(type, names(type), Status.newBuilder().setCode(Code.INVALID_ARGUMENT_VALUE).setMessage(e.getMessage()).build());
      return;
    }
    versions.put(type, r.getVersionInfo());
    nonces.put(type, r.getNonce());
    send(type, names(type), null);
    subscribeEndpoints();
    publish();
  }

  private void onListeners(List<Any> resources) throws InvalidResourceException {
    listeners = ListenerRoutes.all(resources);
  }

  private void onClusters(List<Any> resources) throws InvalidResourceException {
    Map<String, String> eds = new TreeMap<>();
    Map<String, List<InetSocketAddress>> statics = new HashMap<>();
    for (Any a : resources) {
      Cluster c = ListenerRoutes.unpack(a, Cluster.class, "cluster");
      if (c.getType() == Cluster.DiscoveryType.EDS) {
        String service = c.getEdsClusterConfig().getServiceName();
        eds.put(c.getName(), service.isEmpty() ? c.getName() : service);
      } else if (c.hasLoadAssignment()) {
        statics.put(c.getName(), Endpoints.usable(c.getLoadAssignment()));
      }
    }
    edsNames = eds;
    inline.clear();
    inline.putAll(statics);
  }

  private void onAssignments(List<Any> resources) throws InvalidResourceException {
    Map<String, List<InetSocketAddress>> got = new HashMap<>();
    for (Any a : resources) {
      ClusterLoadAssignment cla = ListenerRoutes.unpack(a, ClusterLoadAssignment.class, "load assignment");
      got.put(cla.getClusterName(), Endpoints.usable(cla));
    }
    // SotW EDS may carry only the assignments that changed; the others stand.
    assignments.putAll(got);
  }

  /** Clusters the listeners' chains name. */
  private Set<String> routedClusters() {
    Set<String> out = new TreeSet<>();
    for (ListenerRoutes.Chains c : listeners.values()) out.addAll(c.clusters());
    return out;
  }

  /** EDS for the clusters the chains name, once both LDS and CDS are known. */
  private void subscribeEndpoints() {
    if (listeners == null || edsNames == null) return;
    Set<String> want = new TreeSet<>();
    for (String cluster : routedClusters()) {
      String service = edsNames.get(cluster);
      if (service != null) want.add(service);
    }
    assignments.keySet().retainAll(want);
    // An empty EDS request would mean "everything" to many servers; keep the old names instead.
    if (want.isEmpty() || want.equals(edsSubscribed)) return;
    edsSubscribed = want;
    send(EDS, List.copyOf(want), null);
  }

  private void publish() {
    if (listeners == null || edsNames == null) return;
    Map<String, List<InetSocketAddress>> endpoints = new HashMap<>();
    boolean warm = true;
    for (String cluster : routedClusters()) {
      String service = edsNames.get(cluster);
      if (service != null) {
        List<InetSocketAddress> e = assignments.get(service);
        if (e == null) warm = false;
        else endpoints.put(cluster, e);
      } else if (inline.containsKey(cluster)) {
        endpoints.put(cluster, inline.get(cluster));
      }
    }
    // The first table waits for every cluster's endpoints (Envoy's cluster warming), so /healthz
    // turns ready only when the gateway can route; later tables go out at once.
    if (!warm && !published) return;
    published = true;
    Map<Integer, SniTable> tables = new TreeMap<>();
    listeners.forEach((port, chains) -> tables.put(port, SniTable.of(chains.byName(), chains.anyName(), endpoints)));
    onRoutes.accept(GatewayRoutes.of(tables));
  }

  private List<String> names(String type) {
    return type.equals(EDS) ? List.copyOf(edsSubscribed) : List.of();
  }

  private void send(String type, List<String> names, Status error) {
    if (requests == null) return;
    DiscoveryRequest.Builder b = DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(type)
        .addAllResourceNames(names)
        .setVersionInfo(versions.getOrDefault(type, ""))
        .setResponseNonce(nonces.getOrDefault(type, ""));
    if (error != null) b.setErrorDetail(error);
    try {
      requests.onNext(b.build());
    } catch (RuntimeException e) {
      LOG.log(Level.FINE, "send failed; the stream's own error will reconnect", e);
    }
  }

  @Override
  public void close() {
    sync.execute(() -> {
      closed = true;
      connected = false;
      if (requests != null) {
        try {
          requests.onCompleted();
        } catch (RuntimeException ignored) {
          // The stream is already gone.
        }
      }
    });
    sync.shutdown();
    try {
      sync.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
