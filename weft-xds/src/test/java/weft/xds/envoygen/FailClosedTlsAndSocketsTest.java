package weft.xds.envoygen;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.xds.envoygen.EnvoyMesh.unpack;

import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;
import weft.registry.Locality;
import weft.xds.grpcgen.EndpointCache;
import weft.xds.grpcgen.GrpcClusters;
import weft.xds.grpcgen.GrpcEndpoints;
import weft.xds.proxy.Proxy;
import weft.xds.view.ProxyView;

/**
 * DestinationRule TLS settings a client cannot honour leave their clusters out for it (never plaintext), and
 * {@code unix://} endpoints reach Envoy as pipes while proxyless clients are told why they lack them.
 */
class FailClosedTlsAndSocketsTest {
  static final String REVIEWS = "reviews.default.svc.cluster.local";
  static final String BASE = "outbound|9080||" + REVIEWS;
  static final String V1 = "outbound|9080|v1|" + REVIEWS;
  static final String V2 = "outbound|9080|v2|" + REVIEWS;
  static final String RATINGS = "outbound|3306||ratings.default.svc.cluster.local";

  static String rule(String trafficPolicy, String v2Policy) {
    return """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews, namespace: default}
        spec:
          host: reviews
        %s
          subsets:
          - name: v1
            labels: {version: v1}
          - name: v2
            labels: {version: v2}
        %s
        """.formatted(trafficPolicy.indent(2).stripTrailing(), v2Policy.indent(4).stripTrailing());
  }

  static ProxyView sidecar(EnvoyMesh mesh) {
    return mesh.sidecar("default", "10.1.2.1", Map.of("app", "productpage"));
  }

  static ProxyView proxyless(EnvoyMesh mesh) {
    return new ProxyView(mesh.registry.current(), new Proxy("sidecar~10.1.2.9~client.default~default.svc.cluster.local",
        "sidecar", "10.1.2.9", "client", "default", "cluster1", "network1", Map.of("app", "client"), "default",
        Locality.UNKNOWN, true, "default.svc.cluster.local"));
  }

  @Test
  void credentialNameOnTheWholeRuleLeavesEveryReviewsClusterOutOfEnvoyCdsAndSaysWhere() {
    String dr = rule("trafficPolicy:\n  tls: {mode: SIMPLE, credentialName: reviews-ca}", "");
    try (EnvoyMesh mesh = new EnvoyMesh(EnvoyGeneratorsTest.MESH + dr)) {
      ProxyView view = sidecar(mesh);
      SortedMap<String, com.google.protobuf.Any> clusters = EnvoyClusters.all(view);
      assertThat(clusters).doesNotContainKeys(BASE, V1, V2).containsKey(RATINGS);
      assertThat(view.dropped().get(BASE)).contains("DestinationRule default/reviews")
          .contains("spec.trafficPolicy.tls.mode SIMPLE").contains("credentialName reviews-ca")
          .contains("proved its identity on the secure port");
      assertThat(view.dropped()).containsKeys(V1, V2);
      // Routes still name the cluster: Envoy answers 503 for it rather than sending plaintext.
      RouteConfiguration rc = unpack(EnvoyRoutes.generate(view, "9080"), RouteConfiguration.class);
      assertThat(rc.getVirtualHostsList()).flatExtracting(v -> v.getRoutesList())
          .extracting(r -> r.getRoute().getCluster()).contains(BASE);
      ProxyView grpc = proxyless(mesh);
      assertThat(GrpcClusters.generate(grpc, BASE)).isNull();
      assertThat(grpc.dropped().get(BASE)).contains("credentialName reviews-ca");
    }
  }

  @Test
  void mutualFromFilesOnOneSubsetIsOriginatedByEnvoyAndLeftOutOnlyForProxylessClients() {
    String dr = rule("", "trafficPolicy:\n  tls: {mode: MUTUAL, clientCertificate: /etc/c.pem, privateKey: /etc/k.pem}");
    try (EnvoyMesh mesh = new EnvoyMesh(EnvoyGeneratorsTest.MESH + dr)) {
      ProxyView view = sidecar(mesh);
      assertThat(EnvoyClusters.all(view)).containsKeys(BASE, V1, V2);
      ProxyView grpc = proxyless(mesh);
      assertThat(GrpcClusters.generate(grpc, V2)).isNull();
      assertThat(GrpcClusters.generate(grpc, V1)).isNotNull();
      assertThat(grpc.dropped().get(V2)).contains("spec.subsets[1].trafficPolicy.tls.mode MUTUAL")
          .contains("client certificate files").contains("proxyless gRPC clients cannot honour");
    }
  }

  @Test
  void aPortLevelSkipVerifySettingIsNamedByItsIndexForProxylessClients() {
    String dr = rule("trafficPolicy:\n  portLevelSettings:\n  - port: {number: 9080}\n    tls: {mode: SIMPLE, "
        + "insecureSkipVerify: true}", "");
    try (EnvoyMesh mesh = new EnvoyMesh(EnvoyGeneratorsTest.MESH + dr)) {
      assertThat(EnvoyClusters.all(sidecar(mesh))).containsKeys(BASE, V1, V2);
      ProxyView grpc = proxyless(mesh);
      assertThat(GrpcClusters.generate(grpc, BASE)).isNull();
      assertThat(grpc.dropped().get(BASE)).contains("spec.trafficPolicy.portLevelSettings[0].tls.mode SIMPLE")
          .contains("insecureSkipVerify");
    }
  }

  @Test
  void istioMutualAndDisableStillServe() {
    for (String mode : List.of("ISTIO_MUTUAL", "DISABLE")) {
      try (EnvoyMesh mesh = new EnvoyMesh(EnvoyGeneratorsTest.MESH + rule("trafficPolicy:\n  tls: {mode: " + mode
          + "}", ""))) {
        assertThat(EnvoyClusters.all(sidecar(mesh))).as(mode).containsKeys(BASE, V1, V2);
      }
    }
  }

  static final String SOCKETS = """
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: local-db, namespace: default}
      spec:
        hosts: [db.local]
        location: MESH_INTERNAL
        ports: [{number: 5432, name: tcp-db, protocol: TCP}]
        resolution: STATIC
        endpoints:
        - address: unix:///var/run/db.sock
        - address: 10.1.3.1
      ---
      """;

  @Test
  void unixEndpointsGoToEnvoyAsPipesAndAreLeftOutForProxylessClientsWithAReason() {
    String cluster = "outbound|5432||db.local";
    try (EnvoyMesh mesh = new EnvoyMesh(SOCKETS)) {
      ClusterLoadAssignment envoy = unpack(EnvoyEndpoints.generate(sidecar(mesh), cluster, new EndpointCache(), false),
          ClusterLoadAssignment.class);
      List<LbEndpoint> endpoints = envoy.getEndpointsList().stream().flatMap(l -> l.getLbEndpointsList().stream())
          .toList();
      assertThat(endpoints).extracting(e -> e.getEndpoint().getAddress().hasPipe()
          ? "pipe:" + e.getEndpoint().getAddress().getPipe().getPath()
          : e.getEndpoint().getAddress().getSocketAddress().getAddress())
          .containsExactlyInAnyOrder("pipe:/var/run/db.sock", "10.1.3.1");

      ProxyView grpc = proxyless(mesh);
      ClusterLoadAssignment proxyless = unpack(GrpcEndpoints.generate(grpc, cluster, new EndpointCache(), false),
          ClusterLoadAssignment.class);
      assertThat(proxyless.getEndpointsList().stream().flatMap(l -> l.getLbEndpointsList().stream()))
          .extracting(e -> e.getEndpoint().getAddress().getSocketAddress().getAddress()).containsExactly("10.1.3.1");
      assertThat(grpc.dropped().get(cluster)).contains("1 unix:// endpoint(s) left out")
          .contains("proxyless gRPC client takes only IP addresses");
    }
  }
}
