package weft.xds;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.envoyproxy.envoy.service.discovery.v3.Resource;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A raw ADS client of either wire that ACKs every response as a well-behaved client does and
 * keeps what it holds per type, recording every response that took a resource away: in State of
 * the World a listener or cluster response without a name held before, in Delta any
 * {@code removed_resources}. All state is guarded by this object's lock (the response thread and
 * the test thread both use it).
 */
final class HoldingClient implements AutoCloseable {
  enum Wire { SOTW, DELTA }

  private final ManagedChannel channel;
  private final Wire wire;
  private final Node node;
  private final StreamObserver<DiscoveryRequest> sotw;
  private final StreamObserver<DeltaDiscoveryRequest> delta;
  private final Map<String, Map<String, Any>> held = new HashMap<>();
  private final Map<String, List<String>> subscribed = new HashMap<>();
  private final Map<String, String[]> lastVersionAndNonce = new HashMap<>();
  private final List<String> removals = new ArrayList<>();
  private boolean nodeSent;

  HoldingClient(int port, Node node, Wire wire) {
    this.node = node;
    this.wire = wire;
    channel = NettyChannelBuilder.forAddress("localhost", port).usePlaintext().build();
    var stub = AggregatedDiscoveryServiceGrpc.newStub(channel);
    if (wire == Wire.SOTW) {
      delta = null;
      sotw = stub.streamAggregatedResources(new Observer<>(this::onSotw));
    } else {
      sotw = null;
      delta = stub.deltaAggregatedResources(new Observer<>(this::onDelta));
    }
  }

  private record Observer<T>(java.util.function.Consumer<T> onResponse) implements StreamObserver<T> {
    @Override
    public void onNext(T value) {
      onResponse.accept(value);
    }

    @Override
    public void onError(Throwable t) {}

    @Override
    public void onCompleted() {}
  }

  /** Subscribes to these names of a type; none means every resource of it (listeners, clusters). */
  synchronized void subscribe(String typeUrl, List<String> names) {
    List<String> before = subscribed.getOrDefault(typeUrl, List.of());
    subscribed.put(typeUrl, List.copyOf(names));
    if (wire == Wire.SOTW) {
      String[] vn = lastVersionAndNonce.getOrDefault(typeUrl, new String[] {"", ""});
      sotw.onNext(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(typeUrl).addAllResourceNames(names)
          .setVersionInfo(vn[0]).setResponseNonce(vn[1]).build());
      return;
    }
    List<String> added = new ArrayList<>(names.isEmpty() ? List.of("*") : names);
    added.removeAll(before);
    sendDelta(DeltaDiscoveryRequest.newBuilder().setTypeUrl(typeUrl).addAllResourceNamesSubscribe(added));
  }

  private void sendDelta(DeltaDiscoveryRequest.Builder request) {
    if (!nodeSent) request.setNode(node);
    nodeSent = true;
    delta.onNext(request.build());
  }

  private synchronized void onSotw(DiscoveryResponse r) {
    String type = r.getTypeUrl();
    Map<String, Any> now = new TreeMap<>();
    for (Any a : r.getResourcesList()) now.put(Names.of(a), a);
    Map<String, Any> mine = held.computeIfAbsent(type, t -> new TreeMap<>());
    if (TypeUrls.isFullState(type)) {
      Set<String> lost = new TreeSet<>(mine.keySet());
      lost.removeAll(now.keySet());
      if (!lost.isEmpty()) removals.add(TypeUrls.shortName(type) + " response without " + lost);
      mine.clear();
    }
    mine.putAll(now);
    lastVersionAndNonce.put(type, new String[] {r.getVersionInfo(), r.getNonce()});
    sotw.onNext(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(type)
        .addAllResourceNames(subscribed.getOrDefault(type, List.of()))
        .setVersionInfo(r.getVersionInfo()).setResponseNonce(r.getNonce()).build());
    notifyAll();
  }

  private synchronized void onDelta(DeltaDiscoveryResponse r) {
    String type = r.getTypeUrl();
    if (r.getRemovedResourcesCount() > 0) {
      removals.add(TypeUrls.shortName(type) + " removed_resources " + r.getRemovedResourcesList());
    }
    Map<String, Any> mine = held.computeIfAbsent(type, t -> new TreeMap<>());
    for (Resource res : r.getResourcesList()) mine.put(res.getName(), res.getResource());
    sendDelta(DeltaDiscoveryRequest.newBuilder().setTypeUrl(type).setResponseNonce(r.getNonce()));
  }

  /** What the client holds of a type, by name. */
  synchronized Map<String, Any> held(String typeUrl) {
    return new TreeMap<>(held.getOrDefault(typeUrl, Map.of()));
  }

  /** Every response so far that took something away. */
  synchronized List<String> removals() {
    return List.copyOf(removals);
  }

  @Override
  public void close() {
    channel.shutdownNow();
  }

  /** The name of a resource, as its type's name field has it. */
  static final class Names {
    private Names() {}

    static String of(Any a) {
      try {
        return switch (a.getTypeUrl()) {
          case TypeUrls.LISTENER -> a.unpack(io.envoyproxy.envoy.config.listener.v3.Listener.class).getName();
          case TypeUrls.CLUSTER -> a.unpack(io.envoyproxy.envoy.config.cluster.v3.Cluster.class).getName();
          case TypeUrls.ROUTE -> a.unpack(io.envoyproxy.envoy.config.route.v3.RouteConfiguration.class).getName();
          case TypeUrls.ENDPOINT -> a.unpack(io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment.class)
              .getClusterName();
          case TypeUrls.NAME_TABLE -> weft.xds.nds.NameTables.RESOURCE_NAME; // one table, named nothing
          default -> throw new AssertionError("unexpected type " + a.getTypeUrl());
        };
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new AssertionError(e);
      }
    }
  }
}
