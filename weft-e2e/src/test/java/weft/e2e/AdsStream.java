package weft.e2e;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Locality;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.awaitility.Awaitility;

/**
 * A raw State-of-the-World ADS stream that ACKs every response and keeps the latest resources
 * per type, for asserting on exactly what a proxy with a given node identity is sent.
 */
final class AdsStream implements AutoCloseable {
  private final ManagedChannel channel;
  private final StreamObserver<DiscoveryRequest> requests;
  private final Node node;
  private final Map<String, Map<String, Any>> latest = new ConcurrentHashMap<>();
  private final Map<String, List<String>> subscribed = new ConcurrentHashMap<>();

  AdsStream(int port, Node node) {
    this.node = node;
    channel = NettyChannelBuilder.forAddress("localhost", port).usePlaintext().build();
    requests = AggregatedDiscoveryServiceGrpc.newStub(channel).streamAggregatedResources(new StreamObserver<>() {
      @Override
      public void onNext(DiscoveryResponse r) {
        // Listeners and clusters come whole (absence is deletion); routes and endpoints may come alone.
        boolean whole = r.getTypeUrl().endsWith(".Listener") || r.getTypeUrl().endsWith(".Cluster");
        Map<String, Any> byName = new ConcurrentHashMap<>(whole ? Map.of() : latest.getOrDefault(r.getTypeUrl(), Map.of()));
        for (Any a : r.getResourcesList()) byName.put(name(r.getTypeUrl(), a), a);
        latest.put(r.getTypeUrl(), byName);
        send(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(r.getTypeUrl()).setVersionInfo(r.getVersionInfo())
            .setResponseNonce(r.getNonce()).addAllResourceNames(subscribed.getOrDefault(r.getTypeUrl(), List.of()))
            .build());
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    });
  }

  /**
   * A node in Istio's conventions.
   *
   * @param proxyless {@code GENERATOR=grpc} (grpc-java) rather than an Envoy sidecar
   * @param locality {@code region/zone}, or ""
   */
  static Node node(String pod, String namespace, String ip, String clusterId, String network, String locality,
      boolean proxyless) {
    return node(pod, namespace, ip, clusterId, network, locality, proxyless, Map.of("app", pod));
  }

  static Node node(String pod, String namespace, String ip, String clusterId, String network, String locality,
      boolean proxyless, Map<String, String> labels) {
    Struct.Builder labelStruct = Struct.newBuilder();
    labels.forEach((k, v) -> labelStruct.putFields(k, text(v)));
    Struct.Builder md = Struct.newBuilder()
        .putFields("NAMESPACE", text(namespace))
        .putFields("CLUSTER_ID", text(clusterId))
        .putFields("LABELS", Value.newBuilder().setStructValue(labelStruct).build());
    if (!network.isEmpty()) md.putFields("NETWORK", text(network));
    if (proxyless) md.putFields("GENERATOR", text("grpc"));
    String[] l = (locality + "/").split("/", -1);
    return Node.newBuilder().setId("sidecar~" + ip + "~" + pod + "." + namespace + "~" + namespace + ".svc.cluster.local")
        .setMetadata(md).setLocality(Locality.newBuilder().setRegion(l[0]).setZone(l[1])).build();
  }

  private static Value text(String s) {
    return Value.newBuilder().setStringValue(s).build();
  }

  /** Subscribes to {@code names} of a type (none: a wildcard for listeners and clusters). */
  void request(String typeUrl, String... names) {
    subscribed.put(typeUrl, List.of(names));
    send(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(typeUrl).addAllResourceNames(List.of(names)).build());
  }

  /** The resource of this type and name once it has arrived, decoded. */
  <T extends Message> T await(String typeUrl, String name, Class<T> type) {
    Any any = Awaitility.await().atMost(Duration.ofSeconds(60))
        .until(() -> latest.getOrDefault(typeUrl, Map.of()).get(name), a -> a != null);
    try {
      return any.unpack(type);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  /** Every resource of this type received so far (the latest of each name). */
  Map<String, Any> all(String typeUrl) {
    return Map.copyOf(latest.getOrDefault(typeUrl, Map.of()));
  }

  private synchronized void send(DiscoveryRequest r) {
    requests.onNext(r);
  }

  private static String name(String typeUrl, Any a) {
    try {
      return switch (typeUrl.substring(typeUrl.lastIndexOf('.') + 1)) {
        case "Cluster" -> a.unpack(io.envoyproxy.envoy.config.cluster.v3.Cluster.class).getName();
        case "Listener" -> a.unpack(io.envoyproxy.envoy.config.listener.v3.Listener.class).getName();
        case "RouteConfiguration" -> a.unpack(io.envoyproxy.envoy.config.route.v3.RouteConfiguration.class).getName();
        case "ClusterLoadAssignment" ->
            a.unpack(io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment.class).getClusterName();
        default -> typeUrl;
      };
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  @Override
  public void close() {
    synchronized (this) {
      requests.onCompleted();
    }
    channel.shutdownNow();
  }
}
