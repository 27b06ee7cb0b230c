package weft.bench;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * An Envoy sidecar with no Sidecar resource, reduced to what it asks for and when, as Envoy does
 * over ADS: clusters by wildcard first; on the clusters, endpoints for every EDS cluster (the
 * request goes out before the clusters' ACK, since Envoy holds EDS while it applies CDS); once
 * every EDS cluster has its endpoints (cluster manager initialised), listeners by wildcard; on the
 * listeners, the route configurations their HTTP connection managers name (again before the ACK).
 * Later responses update the subscriptions the same way. The wire format (State of the World or
 * Delta) is the subclass's: it turns a response into changed and removed resources, and a
 * subscription change or an ACK into a request.
 *
 * <p>All state is guarded by {@code this}; gRPC calls the response handler on the channel's
 * I/O thread, one response at a time per stream.
 */
abstract class EnvoySidecar implements Client {
  /**
   * Names and name sets are the same for every stream: sharing one copy keeps the harness's heap
   * (and its garbage collector's share of the two cores) small beside the control plane's.
   */
  private static final Map<Object, Object> SHARED = new ConcurrentHashMap<>();

  final Node node;
  private final String hotEds;
  private final CountDownLatch synced = new CountDownLatch(1);
  private final AtomicReference<String> awaited = new AtomicReference<>();
  private final AtomicLong arrived = new AtomicLong();
  volatile Throwable error;
  /** Prints this stream's requests and responses (--trace, stream 0 only), to check the exchange by eye. */
  volatile boolean trace;
  private final long created = System.nanoTime();

  /** cluster → the name it is fetched by over EDS, {@code ""} for other cluster types. */
  private final Map<String, String> clusters = new HashMap<>();
  /** listener → route configurations it fetches over RDS. */
  private final Map<String, Set<String>> listeners = new HashMap<>();
  private Set<String> edsWatched = Set.of();
  private Set<String> rdsWatched = Set.of();
  private final Set<String> edsHeld = new HashSet<>();
  private final Set<String> rdsHeld = new HashSet<>();
  private boolean clustersReceived;
  private boolean listenersRequested;
  private boolean listenersReceived;

  /** @param hotEds the EDS name whose endpoints {@link #await} watches */
  EnvoySidecar(Node node, String hotEds) {
    this.node = node;
    this.hotEds = hotEds;
  }

  /** Opens the stream as Envoy does: the wildcard request for clusters. */
  final void start() {
    subscribe(BenchTypes.CLUSTER, null, Set.of());
  }

  /** The response side of a stream, either wire: each response to {@code handler}, an error kept. */
  final <R> io.grpc.stub.StreamObserver<R> responses(java.util.function.Consumer<R> handler) {
    return new io.grpc.stub.StreamObserver<>() {
      @Override
      public void onNext(R response) {
        handler.accept(response);
      }

      @Override
      public void onError(Throwable t) {
        error = t;
      }

      @Override
      public void onCompleted() {}
    };
  }

  @Override
  public final boolean awaitSynced(long timeout, java.util.concurrent.TimeUnit unit) throws InterruptedException {
    return synced.await(timeout, unit);
  }

  @Override
  public final Throwable error() {
    return error;
  }

  @Override
  public final synchronized String missing() {
    return String.format("CDS %s, EDS %d of %d, LDS %s, RDS %d of %d", clustersReceived ? "received" : "not received",
        edsWatched.stream().filter(edsHeld::contains).count(), edsWatched.size(),
        listenersReceived ? "received" : listenersRequested ? "not received" : "not asked for yet",
        rdsWatched.stream().filter(rdsHeld::contains).count(), rdsWatched.size());
  }

  /** Forgets the names shared between streams, so that one run's names do not stay for the next. */
  static void forgetSharedNames() {
    SHARED.clear();
  }

  /** Asks for {@code names} of a type where the last request asked for {@code before}; wildcard when null. */
  abstract void subscribe(String typeUrl, Set<String> names, Set<String> before);

  /** Acknowledges the response just handled. */
  abstract void ack(String typeUrl);

  /**
   * Applies one response: {@code changed} resources (name → bytes) and {@code removed} names; with
   * {@code stateOfWorld} the response lists every resource of a full-state type (clusters, listeners),
   * and those it does not list are gone. Follow-up subscriptions go out first, then the ACK.
   */
  final synchronized void onResources(String typeUrl, Map<String, ByteString> changed, Collection<String> removed,
      boolean stateOfWorld) {
    switch (typeUrl) {
      case BenchTypes.CLUSTER -> {
        if (stateOfWorld) clusters.clear();
        removed.forEach(clusters::remove);
        changed.forEach((name, bytes) -> clusters.put(shared(name), shared(Peek.edsServiceName(bytes))));
        clustersReceived = true;
        Set<String> eds = new TreeSet<>(clusters.values());
        eds.remove("");
        eds = shared(Set.copyOf(eds));
        if (!eds.equals(edsWatched)) {
          subscribe(BenchTypes.ENDPOINT, eds, edsWatched);
          edsHeld.retainAll(eds); // Envoy drops a removed cluster's endpoints with it
          edsWatched = eds;
        }
      }
      case BenchTypes.ENDPOINT -> {
        edsHeld.removeAll(removed);
        changed.forEach((name, bytes) -> {
          edsHeld.add(shared(name));
          if (name.equals(hotEds)) noteArrival(bytes);
        });
      }
      case BenchTypes.LISTENER -> {
        if (stateOfWorld) listeners.clear();
        removed.forEach(listeners::remove);
        changed.forEach((name, bytes) -> listeners.put(shared(name), shared(Set.copyOf(Peek.routeNames(bytes)))));
        listenersReceived = true;
        Set<String> rds = new TreeSet<>();
        listeners.values().forEach(rds::addAll);
        rds = shared(Set.copyOf(rds));
        if (!rds.equals(rdsWatched)) {
          subscribe(BenchTypes.ROUTE, rds, rdsWatched);
          rdsHeld.retainAll(rds);
          rdsWatched = rds;
        }
      }
      case BenchTypes.ROUTE -> {
        rdsHeld.removeAll(removed);
        changed.keySet().forEach(n -> rdsHeld.add(shared(n)));
      }
      default -> throw new IllegalStateException("response of a type never asked for: " + typeUrl);
    }
    // Envoy's cluster manager finishes initialising when every EDS cluster has endpoints; only then
    // does the server start listener discovery.
    if (!listenersRequested && clustersReceived && edsHeld.containsAll(edsWatched)) {
      listenersRequested = true;
      subscribe(BenchTypes.LISTENER, null, Set.of());
    }
    ack(typeUrl);
    if (synced.getCount() > 0 && listenersReceived && edsHeld.containsAll(edsWatched)
        && rdsHeld.containsAll(rdsWatched)) {
      if (!edsWatched.contains(hotEds)) {
        error = new IllegalStateException(hotEds + " is not among the clusters fetched over EDS");
      }
      synced.countDown();
    }
  }

  private void noteArrival(ByteString bytes) {
    String address = awaited.get();
    if (address == null) return;
    long now = System.nanoTime();
    try {
      for (LocalityLbEndpoints locality : ClusterLoadAssignment.parseFrom(bytes).getEndpointsList()) {
        for (LbEndpoint e : locality.getLbEndpointsList()) {
          if (e.getEndpoint().getAddress().getSocketAddress().getAddress().equals(address)) {
            arrived.compareAndSet(0, now);
          }
        }
      }
    } catch (InvalidProtocolBufferException e) {
      error = e;
    }
  }

  void trace(String line) {
    if (trace) System.out.printf("  [stream 0, %6d ms] %s%n", Stats.ms(System.nanoTime() - created), line);
  }

  static String shortType(String typeUrl) {
    return switch (typeUrl) {
      case BenchTypes.CLUSTER -> "CDS";
      case BenchTypes.ENDPOINT -> "EDS";
      case BenchTypes.LISTENER -> "LDS";
      case BenchTypes.ROUTE -> "RDS";
      default -> typeUrl;
    };
  }

  @Override
  public void await(String address) {
    arrived.set(0);
    awaited.set(address);
  }

  @Override
  public long arrivedNanos() {
    return arrived.get();
  }

  @SuppressWarnings("unchecked")
  private static <T> T shared(T value) {
    Object prior = SHARED.putIfAbsent(value, value);
    return prior == null ? value : (T) prior;
  }
}
