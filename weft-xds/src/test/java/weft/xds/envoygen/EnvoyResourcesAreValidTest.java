package weft.xds.envoygen;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import weft.xds.grpcgen.EndpointCache;
import weft.xds.view.ProxyView;

/** Everything the generators emit for a busy mesh passes the validation rules in Envoy's API. */
class EnvoyResourcesAreValidTest {
  static final String BUSY = EnvoyGeneratorsTest.MESH + EnvoyGeneratorsTest.REVIEWS_RULES + """
      ---
      apiVersion: v1
      kind: Service
      metadata: {name: greeter, namespace: default}
      spec:
        clusterIP: 10.96.0.50
        ports: [{name: grpc-web, port: 8080, appProtocol: grpc-web}, {name: grpc, port: 50051}]
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: httpbin, namespace: default}
      spec:
        hosts: [httpbin.org]
        ports: [{number: 80, name: http, protocol: HTTP}, {number: 443, name: tls, protocol: TLS}]
        resolution: DNS
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: legacy, namespace: default}
      spec:
        hosts: [legacy.example.com]
        addresses: [240.0.0.1]
        ports: [{number: 5432, name: tcp, protocol: TCP}]
        resolution: NONE
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: ratings, namespace: default}
      spec:
        hosts: [ratings]
        tcp:
        - match: [{destinationSubnets: [10.96.0.0/16]}]
          route: [{destination: {host: ratings}, weight: 50}, {destination: {host: legacy.example.com, port: {number: 5432}}, weight: 50}]
        - route: [{destination: {host: ratings}}]
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: ratings, namespace: default}
      spec:
        host: ratings
        trafficPolicy:
          loadBalancer: {consistentHash: {useSourceIp: true}}
          connectionPool: {http: {maxRequestsPerConnection: 1}}
      ---
      """ + EnvoyGatewayTest.BOOKINFO_VS
      + EnvoyGatewayTest.gateway("default", "bookinfo-gateway", "ingressgateway", """
      - port: {number: 80, name: http, protocol: HTTP}
        hosts: ["*"]
        tls: {httpsRedirect: true}
      - port: {number: 443, name: https, protocol: HTTPS}
        hosts: ["default/*"]
        tls: {mode: MUTUAL, credentialName: bookinfo-cert}
      - port: {number: 8443, name: https-files, protocol: HTTPS}
        hosts: [files.example.com]
        tls: {mode: SIMPLE, serverCertificate: /etc/certs/cert.pem, privateKey: /etc/certs/key.pem}
      """) + EnvoyGatewayTest.gateway("istio-system", "cross-network-gateway", "ingressgateway", """
      - port: {number: 15443, name: tls, protocol: TLS}
        hosts: ["*.local"]
        tls: {mode: AUTO_PASSTHROUGH}
      """);

  @Test
  void sidecarAndRouterResourcesSatisfyEnvoysValidationRules() {
    try (EnvoyMesh mesh = new EnvoyMesh(BUSY)) {
      List<String> problems = new ArrayList<>();
      check(mesh.sidecar("default", "10.1.2.1", Map.of("app", "productpage")), List.of("9080", "80", "8080", "50051"),
          problems);
      check(mesh.router("istio-system", "10.1.9.1", EnvoyGatewayTest.INGRESS),
          List.of("http.80", "https.443.https.bookinfo-gateway.default", "https.8443.https-files.bookinfo-gateway.default"),
          problems);
      assertThat(problems).isEmpty();
    }
  }

  private static void check(ProxyView view, List<String> routes, List<String> problems) {
    EndpointCache cache = new EndpointCache();
    EnvoyListeners.all(view).forEach((name, l) -> record("LDS " + name, l, problems));
    EnvoyClusters.all(view).forEach((name, c) -> {
      record("CDS " + name, c, problems);
      if (name.startsWith("outbound|")) record("EDS " + name, EnvoyEndpoints.generate(view, name, cache, false), problems);
    });
    for (String r : routes) {
      Any rc = EnvoyRoutes.generate(view, r);
      assertThat(rc).as(r).isNotNull();
      record("RDS " + r, rc, problems);
    }
  }

  private static void record(String what, Any resource, List<String> problems) {
    for (String v : ProtoRules.violations(resource)) problems.add(what + v);
  }

  @Test
  void theRuleCheckCatchesABrokenResource() {
    Listener broken = Listener.newBuilder().setName("x")
        .addFilterChains(FilterChain.newBuilder().addFilters(Protos.filter(WellKnown.HCM,
            HttpConnectionManager.getDefaultInstance())))
        .build();
    assertThat(ProtoRules.violations(Any.pack(broken))).anyMatch(v -> v.contains("stat_prefix"));
  }
}
