package weft.xds.security;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import java.util.HashMap;
import java.util.Map;
import weft.model.ConfigProblem;
import weft.model.Resource;
import weft.model.ResourceId;
import weft.model.parse.ParsedFile;
import weft.model.parse.ResourceParser;
import weft.registry.ClusterSettings;
import weft.registry.Locality;
import weft.registry.Registry;
import weft.xds.grpcgen.GrpcClusters;
import weft.xds.grpcgen.GrpcListeners;
import weft.xds.proxy.Proxy;
import weft.xds.view.ProxyView;

/**
 * A registry fed from YAML (services, pods, and the security policies under test) and proxyless
 * proxies to view it with. The greeter service has two pods with different service accounts;
 * {@link #greeter} lets a test label them.
 */
final class SecureMesh implements AutoCloseable {
  static final String GREETER = "greeter.default.svc.cluster.local";
  static final String CLUSTER = "outbound|50051||" + GREETER;
  static final String SERVER_LISTENER = "xds.istio.io/grpc/lds/inbound/10.1.0.1:50051";
  static final Map<String, String> IN_MESH = Map.of("app", "greeter", Identities.TLS_MODE_LABEL, "istio");
  static final Map<String, String> PLAIN = Map.of("app", "greeter");

  final Registry registry = new Registry();

  SecureMesh(String yaml) {
    registry.addCluster(new ClusterSettings("cluster1", "network1", "istio-system"), true);
    ParsedFile parsed = ResourceParser.parse("test.yaml", yaml);
    if (parsed.problems().stream().anyMatch(p -> p.severity() == ConfigProblem.Severity.ERROR
        && parsed.resources().stream().noneMatch(r -> r.id().equals(p.resource())))) {
      throw new AssertionError("bad test YAML: " + parsed.problems());
    }
    Map<ResourceId, Resource> changes = new HashMap<>();
    parsed.resources().forEach(r -> changes.put(r.id(), r));
    registry.update("cluster1", changes, true);
    registry.flush();
  }

  /** The greeter service on 50051, pods 10.1.0.1 (service account greeter) and 10.1.0.2 (greeter-canary). */
  static String greeter(Map<String, String> labels1, Map<String, String> labels2) {
    return """
        apiVersion: v1
        kind: Service
        metadata: {name: greeter, namespace: default}
        spec:
          clusterIP: 10.96.0.50
          ports: [{name: grpc, port: 50051}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: greeter-1, namespace: default, labels: {kubernetes.io/service-name: greeter}}
        addressType: IPv4
        ports: [{name: grpc, port: 50051}]
        endpoints:
        - addresses: ["10.1.0.1"]
        - addresses: ["10.1.0.2"]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: greeter-1, namespace: default, labels: %s}
        spec: {serviceAccountName: greeter}
        status: {podIP: 10.1.0.1, phase: Running}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: greeter-2, namespace: default, labels: %s}
        spec: {serviceAccountName: greeter-canary}
        status: {podIP: 10.1.0.2, phase: Running}
        ---
        """.formatted(flow(labels1), flow(labels2));
  }

  private static String flow(Map<String, String> labels) {
    StringBuilder out = new StringBuilder("{");
    new java.util.TreeMap<>(labels).forEach((k, v) -> out.append(out.length() > 1 ? ", " : "").append(k).append(": ")
        .append(v));
    return out.append("}").toString();
  }

  ProxyView proxyless(String namespace, String ip, Map<String, String> labels) {
    return new ProxyView(registry.current(), new Proxy("sidecar~" + ip + "~app." + namespace + "~" + namespace
        + ".svc.cluster.local", "sidecar", ip, "app", namespace, "cluster1", "network1", labels, "default",
        Locality.UNKNOWN, true, namespace + ".svc.cluster.local"));
  }

  /** The greeter server's own view (pod 10.1.0.1). */
  ProxyView server(Map<String, String> labels) {
    return proxyless("default", "10.1.0.1", labels);
  }

  /** A client in namespace {@code client}. */
  ProxyView client() {
    return proxyless("client", "10.2.0.1", Map.of("app", "client"));
  }

  static Listener listener(ProxyView view, String name) {
    return unpack(GrpcListeners.generate(view, name), Listener.class);
  }

  static Cluster cluster(ProxyView view, String name) {
    return unpack(GrpcClusters.generate(view, name), Cluster.class);
  }

  /** The server listener's one chain's TLS context, or null when it is plaintext. */
  static DownstreamTlsContext serverTls(Listener l) {
    if (l.getFilterChainsCount() != 1) throw new AssertionError("gRPC servers get one filter chain: " + l);
    var chain = l.getFilterChains(0);
    return chain.hasTransportSocket() ? unpack(chain.getTransportSocket().getTypedConfig(), DownstreamTlsContext.class)
        : null;
  }

  static UpstreamTlsContext clientTls(Cluster c) {
    return c.hasTransportSocket() ? unpack(c.getTransportSocket().getTypedConfig(), UpstreamTlsContext.class) : null;
  }

  static HttpConnectionManager hcm(Listener l) {
    return unpack(l.getFilterChains(0).getFilters(0).getTypedConfig(), HttpConnectionManager.class);
  }

  static <T extends Message> T unpack(Any any, Class<T> type) {
    if (any == null) throw new AssertionError("no resource");
    try {
      return any.unpack(type);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  static String peerAuthentication(String ns, String name, String spec) {
    return """
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: %s, namespace: %s}
        spec:
        %s
        ---
        """.formatted(name, ns, spec.stripTrailing().indent(2).stripTrailing());
  }

  static String authorizationPolicy(String ns, String name, String spec) {
    return """
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: %s, namespace: %s}
        spec:
        %s
        ---
        """.formatted(name, ns, spec.stripTrailing().indent(2).stripTrailing());
  }

  @Override
  public void close() {
    registry.close();
  }
}
