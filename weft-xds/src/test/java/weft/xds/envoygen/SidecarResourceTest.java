package weft.xds.envoygen;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.xds.envoygen.EgressTest.assertValid;
import static weft.xds.envoygen.EgressTest.listener;
import static weft.xds.envoygen.EgressTest.tcpCluster;
import static weft.xds.envoygen.EnvoyMesh.unpack;

import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import weft.xds.view.ProxyView;

/**
 * A Sidecar's egress ports, binds and capture modes, ingress listeners and inbound connection pools,
 * YAML in and Envoy xDS out, as Istio's listener and cluster builders apply them. Every generated
 * resource is checked against Envoy's proto validation rules.
 */
class SidecarResourceTest {
  /** Two namespaces, each with an HTTP service on 8080 and a TCP service on 3306; the client runs in shop. */
  static final String SERVICES = """
      apiVersion: v1
      kind: Service
      metadata: {name: web, namespace: shop}
      spec: {clusterIP: 10.96.1.1, ports: [{name: http, port: 8080}]}
      ---
      apiVersion: discovery.k8s.io/v1
      kind: EndpointSlice
      metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}
      addressType: IPv4
      ports: [{name: http, port: 8080}]
      endpoints: [{addresses: ["10.1.1.1"]}]
      ---
      apiVersion: v1
      kind: Pod
      metadata: {name: web-1, namespace: shop, labels: {app: web}}
      status: {podIP: 10.1.1.1, phase: Running}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: db, namespace: shop}
      spec: {clusterIP: 10.96.1.2, ports: [{name: tcp-mysql, port: 3306}]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: api, namespace: other}
      spec: {clusterIP: 10.96.2.1, ports: [{name: http, port: 8080}]}
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: cache, namespace: other}
      spec: {clusterIP: 10.96.2.2, ports: [{name: tcp-redis, port: 3306}]}
      ---
      """;

  static ProxyView client(EnvoyMesh mesh) {
    return mesh.sidecar("shop", "10.1.9.9", Map.of("app", "client"));
  }

  static ProxyView web(EnvoyMesh mesh) {
    return mesh.sidecar("shop", "10.1.1.1", Map.of("app", "web"));
  }

  static RouteConfiguration route(ProxyView view, String name) {
    return unpack(EnvoyRoutes.generate(view, name), RouteConfiguration.class);
  }

  static Cluster cluster(ProxyView view, String name) {
    return EgressTest.cluster(view, name);
  }

  static CircuitBreakers.Thresholds limits(Cluster c) {
    return c.getCircuitBreakers().getThresholds(0);
  }

  static SocketAddress staticEndpoint(Cluster c) {
    return c.getLoadAssignment().getEndpoints(0).getLbEndpoints(0).getEndpoint().getAddress().getSocketAddress();
  }

  @Test
  void egressPortListenerCarriesOnlyItsOwnHostsAndTheCatchAllTheOtherPorts() {
    String sidecar = """
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: client, namespace: shop}
        spec:
          workloadSelector: {labels: {app: client}}
          egress:
          - port: {number: 8080, protocol: HTTP, name: http}
            hosts: ["./*"]
          - hosts: ["other/*"]
        """;
    try (EnvoyMesh mesh = new EnvoyMesh(SERVICES + sidecar)) {
      ProxyView view = client(mesh);
      // Port 8080's routes come from the port's egress listener: shop's web, not other's api.
      assertThat(route(view, "8080").getVirtualHostsList()).extracting(VirtualHost::getName)
          .containsExactly("web.shop.svc.cluster.local:8080", WellKnown.ALLOW_ANY);
      assertThat(listener(view, "0.0.0.0_8080").getFilterChainsList()).isNotEmpty();
      // The catch-all imports other/*: cache's TCP listener; shop's db is on no listener of this sidecar.
      assertThat(tcpCluster(listener(view, "10.96.2.2_3306").getFilterChains(0)))
          .isEqualTo("outbound|3306||cache.other.svc.cluster.local");
      assertThat(EnvoyListeners.all(view)).doesNotContainKey("10.96.1.2_3306");
      // Clusters follow every egress listener's hosts, as Istio's do.
      assertThat(EnvoyClusters.all(view)).containsKeys("outbound|8080||web.shop.svc.cluster.local",
          "outbound|8080||api.other.svc.cluster.local", "outbound|3306||cache.other.svc.cluster.local");
      assertValid(view, "8080");
    }
  }

  @Test
  void declaredHttpEgressPortRoutesEveryServiceOnThePortAndDeclaredTcpMakesVipListeners() {
    String sidecar = """
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: client, namespace: shop}
        spec:
          workloadSelector: {labels: {app: client}}
          egress:
          - port: {number: 3306, protocol: HTTP, name: http-db}
            hosts: ["./db.shop.svc.cluster.local"]
          - port: {number: 8080, protocol: TCP, name: tcp-web}
            hosts: ["./web.shop.svc.cluster.local"]
        """;
    try (EnvoyMesh mesh = new EnvoyMesh(SERVICES + sidecar)) {
      ProxyView view = client(mesh);
      assertThat(route(view, "3306").getVirtualHostsList()).extracting(VirtualHost::getName)
          .containsExactly("db.shop.svc.cluster.local:3306", WellKnown.ALLOW_ANY);
      assertThat(listener(view, "0.0.0.0_3306")).isNotNull();
      assertThat(tcpCluster(listener(view, "10.96.1.1_8080").getFilterChains(0)))
          .isEqualTo("outbound|8080||web.shop.svc.cluster.local");
      // No catch-all: nothing else gets a listener.
      assertThat(EnvoyListeners.all(view).keySet()).containsExactlyInAnyOrder("0.0.0.0_3306", "10.96.1.1_8080",
          WellKnown.VIRTUAL_OUTBOUND, WellKnown.VIRTUAL_INBOUND);
      assertValid(view, "3306");
    }
  }

  @Test
  void bindAndCaptureModeNoneBindRealSocketsAtTheBindAddressOrLocalhost() {
    String sidecar = """
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: client, namespace: shop}
        spec:
          workloadSelector: {labels: {app: client}}
          egress:
          - port: {number: 3306, protocol: TCP, name: tcp}
            bind: 127.0.0.5
            captureMode: NONE
            hosts: ["./db.shop.svc.cluster.local"]
          - captureMode: NONE
            hosts: ["./*"]
        """;
    try (EnvoyMesh mesh = new EnvoyMesh(SERVICES + sidecar)) {
      ProxyView view = client(mesh);
      Listener db = listener(view, "127.0.0.5_3306");
      assertThat(db.getAddress().getSocketAddress().getAddress()).isEqualTo("127.0.0.5");
      assertThat(db.getBindToPort().getValue()).isTrue();
      assertThat(tcpCluster(db.getFilterChains(0))).isEqualTo("outbound|3306||db.shop.svc.cluster.local");
      // captureMode NONE without bind: Istio binds at localhost, HTTP with the port's routes.
      Listener web = listener(view, "127.0.0.1_8080");
      assertThat(web.getBindToPort().getValue()).isTrue();
      HttpConnectionManager hcm = unpack(web.getFilterChains(0).getFilters(0).getTypedConfig(),
          HttpConnectionManager.class);
      assertThat(hcm.getRds().getRouteConfigName()).isEqualTo("8080");
      assertThat(route(view, "8080").getVirtualHostsList()).extracting(VirtualHost::getName)
          .contains("web.shop.svc.cluster.local:8080");
      assertThat(listener(view, "127.0.0.1_3306")).isNotNull();
      assertThat(EnvoyListeners.all(view)).doesNotContainKeys("0.0.0.0_8080", "10.96.1.2_3306");
      assertValid(view, "8080");
    }
  }

  static final String INGRESS = """
      apiVersion: networking.istio.io/v1
      kind: Sidecar
      metadata: {name: web-ingress, namespace: shop}
      spec:
        workloadSelector: {labels: {app: web}}
        ingress:
        - port: {number: 9080, protocol: HTTP, name: http}
          defaultEndpoint: 127.0.0.1:8080
          connectionPool: {tcp: {maxConnections: 7}}
        - port: {number: 9443, protocol: TCP, name: tcp}
          captureMode: NONE
          defaultEndpoint: 0.0.0.0:8443
        - port: {number: 9090, protocol: GRPC, name: grpc}
        inboundConnectionPool:
          tcp: {connectTimeout: 2s}
          http: {http1MaxPendingRequests: 3, maxRequestsPerConnection: 2}
      """;

  @Test
  void ingressListenersReplaceTheServicePortsAndSendToTheirDefaultEndpoints() {
    try (EnvoyMesh mesh = new EnvoyMesh(SERVICES + INGRESS)) {
      ProxyView view = web(mesh);
      Listener in = listener(view, WellKnown.VIRTUAL_INBOUND);
      // 9080 and 9090 are chains of virtualInbound; the service's own port 8080 is not (Istio's rule).
      assertThat(in.getFilterChainsList()).extracting(FilterChain::getName)
          .contains("0.0.0.0_9080", "0.0.0.0_9090")
          .doesNotContain("0.0.0.0_8080", "0.0.0.0_9443");
      // captureMode NONE: a listener of its own that binds the port.
      Listener bound = listener(view, "0.0.0.0_9443");
      assertThat(bound.getAddress().getSocketAddress().getPortValue()).isEqualTo(9443);
      assertThat(bound.hasBindToPort()).isFalse(); // Envoy's default: bind
      assertThat(tcpCluster(bound.getFilterChains(0))).isEqualTo("inbound|9443||");

      Cluster loopback = cluster(view, "inbound|9080||");
      assertThat(loopback.getType()).isEqualTo(Cluster.DiscoveryType.STATIC);
      assertThat(staticEndpoint(loopback).getAddress()).isEqualTo("127.0.0.1");
      assertThat(staticEndpoint(loopback).getPortValue()).isEqualTo(8080);
      assertThat(loopback.hasUpstreamBindConfig()).isFalse();
      // The ingress listener's own pool replaces inboundConnectionPool for its port.
      assertThat(limits(loopback).getMaxConnections().getValue()).isEqualTo(7);
      assertThat(Integer.toUnsignedLong(limits(loopback).getMaxPendingRequests().getValue())).isEqualTo(0xFFFF_FFFFL);

      Cluster podIp = cluster(view, "inbound|9443||");
      assertThat(staticEndpoint(podIp).getAddress()).isEqualTo("10.1.1.1");
      assertThat(staticEndpoint(podIp).getPortValue()).isEqualTo(8443);
      assertThat(podIp.getUpstreamBindConfig().getSourceAddress().getAddress()).isEqualTo(WellKnown.INBOUND_BIND_IPV4);
      assertThat(limits(podIp).getMaxPendingRequests().getValue()).isEqualTo(3);
      assertThat(podIp.getConnectTimeout().getSeconds()).isEqualTo(2);

      // No defaultEndpoint: the address the connection was sent to, with the Sidecar's pool.
      Cluster passthrough = cluster(view, "inbound|9090||");
      assertThat(passthrough.getType()).isEqualTo(Cluster.DiscoveryType.ORIGINAL_DST);
      HttpProtocolOptions http = unpack(passthrough.getTypedExtensionProtocolOptionsOrThrow(
          WellKnown.HTTP_PROTOCOL_OPTIONS), HttpProtocolOptions.class);
      assertThat(http.getCommonHttpProtocolOptions().getMaxRequestsPerConnection().getValue()).isEqualTo(2);
      assertThat(http.getExplicitHttpConfig().hasHttp2ProtocolOptions()).isTrue();
      assertThat(EnvoyClusters.all(view)).doesNotContainKey("inbound|8080||");
      assertValid(view);
    }
  }

  @Test
  void inboundConnectionPoolAloneLimitsTheServicePortsInboundClusters() {
    String sidecar = """
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: web-limits, namespace: shop}
        spec:
          workloadSelector: {labels: {app: web}}
          inboundConnectionPool:
            tcp: {maxConnections: 5}
            http: {maxRequestsPerConnection: 1, http2MaxRequests: 9}
        """;
    try (EnvoyMesh mesh = new EnvoyMesh(SERVICES + sidecar)) {
      ProxyView view = web(mesh);
      Cluster c = cluster(view, "inbound|8080||");
      assertThat(c.getType()).isEqualTo(Cluster.DiscoveryType.ORIGINAL_DST);
      assertThat(limits(c).getMaxConnections().getValue()).isEqualTo(5);
      assertThat(limits(c).getMaxRequests().getValue()).isEqualTo(9);
      HttpProtocolOptions http = unpack(c.getTypedExtensionProtocolOptionsOrThrow(WellKnown.HTTP_PROTOCOL_OPTIONS),
          HttpProtocolOptions.class);
      assertThat(http.getCommonHttpProtocolOptions().getMaxRequestsPerConnection().getValue()).isEqualTo(1);
      // Outbound clusters keep their own (DestinationRule) limits.
      assertThat(Integer.toUnsignedLong(limits(cluster(view, "outbound|8080||web.shop.svc.cluster.local"))
          .getMaxConnections().getValue())).isEqualTo(0xFFFF_FFFFL);
      assertValid(view, "8080");
    }
  }

  @Test
  void egressProxySendsUnknownDestinationsToItsClusterInsteadOfPassingThrough() {
    String sidecar = """
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: client, namespace: shop}
        spec:
          workloadSelector: {labels: {app: client}}
          outboundTrafficPolicy:
            mode: ALLOW_ANY
            egressProxy: {host: api.other.svc.cluster.local, subset: v1, port: {number: 8080}}
        """;
    String egress = "outbound|8080|v1|api.other.svc.cluster.local";
    try (EnvoyMesh mesh = new EnvoyMesh(SERVICES + sidecar)) {
      ProxyView view = client(mesh);
      Listener virtualOutbound = listener(view, WellKnown.VIRTUAL_OUTBOUND);
      assertThat(virtualOutbound.getFilterChainsList()).filteredOn(c -> c.getName().equals(
          WellKnown.OUTBOUND_CATCHALL_CHAIN)).singleElement().satisfies(c -> assertThat(tcpCluster(c)).isEqualTo(egress));
      assertThat(tcpCluster(listener(view, "0.0.0.0_8080").getDefaultFilterChain())).isEqualTo(egress);
      VirtualHost allowAny = route(view, "8080").getVirtualHostsList().stream()
          .filter(v -> v.getName().equals(WellKnown.ALLOW_ANY)).findFirst().orElseThrow();
      assertThat(allowAny.getRoutes(0).getRoute().getCluster()).isEqualTo(egress);
      assertValid(view, "8080");
      // Other workloads of the namespace keep Istio's default passthrough.
      ProxyView other = web(mesh);
      assertThat(tcpCluster(listener(other, "0.0.0.0_8080").getDefaultFilterChain()))
          .isEqualTo(WellKnown.PASSTHROUGH_CLUSTER);
    }
  }
}
