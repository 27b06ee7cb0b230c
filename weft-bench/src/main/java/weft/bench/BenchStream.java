package weft.bench;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One simulated proxyless gRPC client that calls a few services: for each it watches what
 * grpc-java watches, by name (the listener and route configuration {@code HOST:PORT}, the cluster
 * {@code outbound|PORT||HOST} and its endpoints), ACKs everything, and notes when the hot
 * service's endpoints first contain an expected address. Unlike grpc-java it asks for all four
 * types at once instead of following the chain: what the control plane holds is the same.
 *
 * <p>State is guarded by {@code this}; gRPC calls the response handler on the channel's I/O
 * thread, one response at a time per stream.
 */
final class BenchStream implements Client {
  private final StreamObserver<DiscoveryRequest> requests;
  private final Node node;
  /** type → the names this stream subscribes to. */
  private final Map<String, List<String>> names = new HashMap<>();
  private final String hotCluster;
  private final CountDownLatch synced = new CountDownLatch(1);
  /** type → names received so far; only until synced, then dropped so the harness stays small. */
  private Map<String, Set<String>> received = new HashMap<>();
  private final AtomicReference<String> awaited = new AtomicReference<>();
  private final AtomicLong arrived = new AtomicLong();
  private boolean nodeSent;
  private volatile Throwable error;

  /**
   * @param clusterId the cluster the client runs in ({@code CLUSTER_ID}), which decides the
   *     endpoints it is sent
   * @param hostnames the services it calls, all on port 8080
   * @param hotHost the one of them whose endpoints {@link #await} watches
   */
  BenchStream(ManagedChannel channel, int index, String clusterId, List<String> hostnames, String hotHost) {
    List<String> hostPorts = hostnames.stream().map(h -> h + ":8080").toList();
    List<String> clusters = hostnames.stream().map(h -> "outbound|8080||" + h).toList();
    names.put(BenchTypes.LISTENER, hostPorts);
    names.put(BenchTypes.ROUTE, hostPorts);
    names.put(BenchTypes.CLUSTER, clusters);
    names.put(BenchTypes.ENDPOINT, clusters);
    names.keySet().forEach(type -> received.put(type, new HashSet<>()));
    this.hotCluster = "outbound|8080||" + hotHost;
    this.node = Node.newBuilder()
        .setId("sidecar~10.200." + (index / 250) + "." + (index % 250) + "~bench-" + index
            + ".bench~bench.svc.cluster.local")
        .setMetadata(Struct.newBuilder()
            .putFields("GENERATOR", Value.newBuilder().setStringValue("grpc").build())
            .putFields("NAMESPACE", Value.newBuilder().setStringValue("bench").build())
            .putFields("CLUSTER_ID", Value.newBuilder().setStringValue(clusterId).build()))
        .build();
    requests = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(new StreamObserver<>() {
      @Override
      public void onNext(DiscoveryResponse r) {
        onResponse(r);
      }

      @Override
      public void onError(Throwable t) {
        error = t;
      }

      @Override
      public void onCompleted() {}
    });
  }

  synchronized void subscribe() {
    for (String type : List.of(BenchTypes.LISTENER, BenchTypes.ROUTE, BenchTypes.CLUSTER, BenchTypes.ENDPOINT)) {
      send(DiscoveryRequest.newBuilder().setTypeUrl(type).addAllResourceNames(names.get(type)));
    }
  }

  /** From now on, note the first time the hot cluster lists {@code address}. */
  @Override
  public void await(String address) {
    arrived.set(0);
    awaited.set(address);
  }

  @Override
  public long arrivedNanos() {
    return arrived.get();
  }

  @Override
  public boolean awaitSynced(long timeout, java.util.concurrent.TimeUnit unit) throws InterruptedException {
    return synced.await(timeout, unit);
  }

  @Override
  public Throwable error() {
    return error;
  }

  /** What has not arrived yet, per type. */
  @Override
  public synchronized String missing() {
    if (received == null) return "nothing";
    StringBuilder out = new StringBuilder();
    received.forEach((type, got) -> out.append(EnvoySidecar.shortType(type)).append(' ')
        .append(names.get(type).size() - got.size()).append(" of ").append(names.get(type).size()).append("; "));
    return out.toString();
  }

  private synchronized void onResponse(DiscoveryResponse r) {
    String type = r.getTypeUrl();
    List<String> subscribed = names.get(type);
    if (subscribed == null) {
      error = new IllegalStateException("response of a type never asked for: " + type);
      return;
    }
    send(DiscoveryRequest.newBuilder().setTypeUrl(type).setVersionInfo(r.getVersionInfo())
        .setResponseNonce(r.getNonce()).addAllResourceNames(subscribed));
    long now = System.nanoTime();
    String address = awaited.get();
    for (Any any : r.getResourcesList()) {
      // Only the name is read from most resources: the harness shares the control plane's cores.
      String name = Peek.name(any.getValue());
      if (received != null) received.get(type).add(name);
      if (address != null && type.equals(BenchTypes.ENDPOINT) && name.equals(hotCluster)) {
        noteArrival(any, address, now);
      }
    }
    if (received != null && received.entrySet().stream()
        .allMatch(e -> e.getValue().containsAll(names.get(e.getKey())))) {
      received = null;
      synced.countDown();
    }
  }

  private void noteArrival(Any any, String address, long now) {
    try {
      ClusterLoadAssignment cla = any.unpack(ClusterLoadAssignment.class);
      for (var locality : cla.getEndpointsList()) {
        for (var e : locality.getLbEndpointsList()) {
          if (e.getEndpoint().getAddress().getSocketAddress().getAddress().equals(address)) {
            arrived.compareAndSet(0, now);
          }
        }
      }
    } catch (InvalidProtocolBufferException e) {
      error = e;
    }
  }

  /** Like Envoy and grpc-java, the node goes only in the first request of the stream. */
  private void send(DiscoveryRequest.Builder request) {
    if (!nodeSent) request.setNode(node);
    nodeSent = true;
    requests.onNext(request.build());
  }

  @Override
  public synchronized void close() {
    requests.onCompleted();
  }
}
