package weft.xds.envoygen;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.xds.envoygen.EnvoyMesh.unpack;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.SubjectAltNameMatcher;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.Test;
import weft.model.MeshConfig;
import weft.registry.Locality;
import weft.xds.grpcgen.GrpcClusters;
import weft.xds.proxy.Proxy;
import weft.xds.security.TlsContexts;
import weft.xds.view.ProxyView;

/**
 * Istio's egress tasks, YAML in and xDS out: TLS origination (DestinationRule SIMPLE and MUTUAL),
 * ServiceEntries without addresses or with CIDR addresses, outboundTrafficPolicy, and the
 * egress-gateway pattern with {@code match.gateways}. Every generated Envoy resource is checked
 * against Envoy's proto validation rules.
 */
class EgressTest {
  /** The shape of Istio's "Egress TLS origination" task: port 80 HTTP is sent out as TLS to 443. */
  static final String CNN = """
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: edition-cnn-com, namespace: default}
      spec:
        hosts: [edition.cnn.com]
        ports:
        - {number: 80, name: http-port, protocol: HTTP, targetPort: 443}
        - {number: 443, name: https-port, protocol: HTTPS}
        resolution: DNS
      ---
      """;

  static final String CNN_80 = "outbound|80||edition.cnn.com";
  static final String CNN_443 = "outbound|443||edition.cnn.com";

  static String originate(String tls) {
    return """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: edition-cnn-com, namespace: default}
        spec:
          host: edition.cnn.com
          trafficPolicy:
            portLevelSettings:
            - port: {number: 80}
              tls: %s
        ---
        """.formatted(tls);
  }

  static ProxyView sidecar(EnvoyMesh mesh) {
    return mesh.sidecar("default", "10.1.2.1", Map.of("app", "sleep"));
  }

  static ProxyView proxyless(EnvoyMesh mesh) {
    return new ProxyView(mesh.registry.current(), new Proxy("sidecar~10.1.2.9~client.default~default.svc.cluster.local",
        "sidecar", "10.1.2.9", "client", "default", "cluster1", "network1", Map.of("app", "client"), "default",
        Locality.UNKNOWN, true, "default.svc.cluster.local"));
  }

  static Cluster cluster(ProxyView view, String name) {
    Any any = EnvoyClusters.all(view).get(name);
    assertThat(any).as(name + " in " + view.dropped()).isNotNull();
    return unpack(any, Cluster.class);
  }

  static UpstreamTlsContext tls(Cluster c) {
    assertThat(c.hasTransportSocket()).as(c.getName() + " has TLS").isTrue();
    assertThat(c.getTransportSocket().getName()).isEqualTo(TlsContexts.TRANSPORT_SOCKET);
    return unpack(c.getTransportSocket().getTypedConfig(), UpstreamTlsContext.class);
  }

  /** Every listener, cluster and named route of the view breaks none of Envoy's proto rules. */
  static void assertValid(ProxyView view, String... routes) {
    List<String> problems = new ArrayList<>();
    EnvoyListeners.all(view).forEach((n, l) -> ProtoRules.violations(l).forEach(v -> problems.add("LDS " + n + v)));
    EnvoyClusters.all(view).forEach((n, c) -> ProtoRules.violations(c).forEach(v -> problems.add("CDS " + n + v)));
    for (String r : routes) {
      Any rc = EnvoyRoutes.generate(view, r);
      assertThat(rc).as(r).isNotNull();
      ProtoRules.violations(rc).forEach(v -> problems.add("RDS " + r + v));
    }
    assertThat(problems).isEmpty();
  }

  @Test
  void simpleTlsOriginationVerifiesTheServerAgainstTheSystemRootsAndTheHostName() {
    try (EnvoyMesh mesh = new EnvoyMesh(CNN + originate("{mode: SIMPLE}"))) {
      ProxyView view = sidecar(mesh);
      Cluster c = cluster(view, CNN_80);
      assertThat(c.getType()).isEqualTo(Cluster.DiscoveryType.STRICT_DNS);
      // targetPort 443: the plain HTTP the app sends on 80 leaves as TLS to 443.
      assertThat(c.getLoadAssignment().getEndpoints(0).getLbEndpoints(0).getEndpoint().getAddress().getSocketAddress()
          .getPortValue()).isEqualTo(443);
      UpstreamTlsContext tls = tls(c);
      assertThat(tls.getSni()).isEqualTo("edition.cnn.com");
      CertificateValidationContext v = tls.getCommonTlsContext().getValidationContext();
      assertThat(v.getTrustedCa().getFilename()).isEqualTo(TlsContexts.SYSTEM_ROOTS_FILE);
      assertThat(v.getMatchTypedSubjectAltNamesList()).singleElement().satisfies(m -> {
        assertThat(m.getSanType()).isEqualTo(SubjectAltNameMatcher.SanType.DNS);
        assertThat(m.getMatcher().getExact()).isEqualTo("edition.cnn.com");
      });
      assertThat(tls.getCommonTlsContext().getTlsCertificatesList()).isEmpty();
      // Port 443 carries the application's own TLS: no second layer.
      assertThat(cluster(view, CNN_443).hasTransportSocket()).isFalse();
      assertValid(view, "80");
    }
  }

  @Test
  void mutualTlsFromFilesPresentsTheClientCertificateAndChecksTheGivenCaCrlAndNames() {
    String tls = """
        {mode: MUTUAL, clientCertificate: /etc/certs/client.pem, privateKey: /etc/certs/client.key,
         caCertificates: /etc/certs/root.pem, caCrl: /etc/certs/root.crl, sni: cnn.internal,
         subjectAltNames: [edition.cnn.com, spiffe://cnn/front]}""";
    try (EnvoyMesh mesh = new EnvoyMesh(CNN + originate(tls))) {
      ProxyView view = sidecar(mesh);
      UpstreamTlsContext ctx = tls(cluster(view, CNN_80));
      assertThat(ctx.getSni()).isEqualTo("cnn.internal");
      assertThat(ctx.getCommonTlsContext().getTlsCertificatesList()).singleElement().satisfies(cert -> {
        assertThat(cert.getCertificateChain().getFilename()).isEqualTo("/etc/certs/client.pem");
        assertThat(cert.getPrivateKey().getFilename()).isEqualTo("/etc/certs/client.key");
      });
      CertificateValidationContext v = ctx.getCommonTlsContext().getValidationContext();
      assertThat(v.getTrustedCa().getFilename()).isEqualTo("/etc/certs/root.pem");
      assertThat(v.getCrl().getFilename()).isEqualTo("/etc/certs/root.crl");
      assertThat(v.getMatchTypedSubjectAltNamesList()).extracting(m -> m.getSanType() + " " + m.getMatcher().getExact())
          .containsExactly("DNS edition.cnn.com", "URI spiffe://cnn/front");
      assertValid(view, "80");
    }
  }

  @Test
  void insecureSkipVerifyDropsValidationForEnvoyAndLeavesTheClusterOutForProxylessClients() {
    try (EnvoyMesh mesh = new EnvoyMesh(CNN + originate("{mode: SIMPLE, insecureSkipVerify: true}"))) {
      ProxyView view = sidecar(mesh);
      UpstreamTlsContext ctx = tls(cluster(view, CNN_80));
      assertThat(ctx.getCommonTlsContext().hasValidationContext()).isFalse();
      assertThat(ctx.getSni()).isEqualTo("edition.cnn.com");
      assertValid(view, "80");
      ProxyView grpc = proxyless(mesh);
      assertThat(GrpcClusters.generate(grpc, CNN_80)).isNull();
      assertThat(grpc.dropped().get(CNN_80)).contains("insecureSkipVerify").contains("left out");
    }
  }

  @Test
  void credentialNameLeavesTheClusterOutForEnvoyThatProvedNoIdentityAndForProxylessClients() {
    // (Envoy on the secure port gets it by SDS: CredentialNameSdsTest.)
    try (EnvoyMesh mesh = new EnvoyMesh(CNN + originate("{mode: MUTUAL, credentialName: client-credential}"))) {
      ProxyView view = sidecar(mesh);
      assertThat(EnvoyClusters.all(view)).doesNotContainKey(CNN_80).containsKey(CNN_443);
      assertThat(view.dropped().get(CNN_80)).contains("credentialName client-credential");
      ProxyView grpc = proxyless(mesh);
      assertThat(GrpcClusters.generate(grpc, CNN_80)).isNull();
    }
  }

  @Test
  void proxylessClientsGetALogicalDnsClusterWithOneHostAndTheSystemRoots() {
    String entry = """
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: payments, namespace: default}
        spec:
          hosts: [payments.example.com]
          location: MESH_EXTERNAL
          ports: [{number: 443, name: grpc, protocol: GRPC}]
          resolution: DNS
          endpoints: [{address: pay-1.example.com}, {address: pay-2.example.com}]
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: payments, namespace: default}
        spec:
          host: payments.example.com
          trafficPolicy: {tls: {mode: SIMPLE, subjectAltNames: [payments.example.com]}}
        """;
    String name = "outbound|443||payments.example.com";
    try (EnvoyMesh mesh = new EnvoyMesh(entry)) {
      ProxyView grpc = proxyless(mesh);
      Cluster c = unpack(GrpcClusters.generate(grpc, name), Cluster.class);
      assertThat(c.getType()).isEqualTo(Cluster.DiscoveryType.LOGICAL_DNS);
      assertThat(c.getLoadAssignment().getEndpointsList()).singleElement()
          .satisfies(l -> assertThat(l.getLbEndpointsList()).singleElement().satisfies(e -> {
            assertThat(e.getEndpoint().getAddress().getSocketAddress().getAddress()).isEqualTo("pay-1.example.com");
            assertThat(e.getEndpoint().getAddress().getSocketAddress().getPortValue()).isEqualTo(443);
          }));
      assertThat(grpc.dropped().get(name)).contains("takes one host").contains("1 more endpoint(s) left out");
      UpstreamTlsContext ctx = unpack(c.getTransportSocket().getTypedConfig(), UpstreamTlsContext.class);
      assertThat(ctx.getSni()).isEqualTo("payments.example.com");
      assertThat(ctx.getCommonTlsContext().getValidationContext().hasSystemRootCerts()).isTrue();
      // Envoy resolves both hosts itself.
      ProxyView envoy = sidecar(mesh);
      assertThat(cluster(envoy, name).getType()).isEqualTo(Cluster.DiscoveryType.STRICT_DNS);
      assertValid(envoy);
    }
  }

  /** Istio's "Accessing external services" shape: TLS hosts without addresses, one TCP one. */
  static final String EXTERNAL = """
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: wikipedia, namespace: default}
      spec:
        hosts: ["*.wikipedia.org"]
        ports: [{number: 443, name: tls, protocol: TLS}]
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: google, namespace: default}
      spec:
        hosts: [www.google.com]
        ports: [{number: 443, name: https, protocol: HTTPS}]
        resolution: DNS
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: mongo-a, namespace: default}
      spec:
        hosts: [mongo-a.example.com]
        ports: [{number: 27017, name: mongo, protocol: TCP}]
        resolution: DNS
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: mongo-b, namespace: default}
      spec:
        hosts: [mongo-b.example.com]
        ports: [{number: 27017, name: mongo, protocol: TCP}]
        resolution: DNS
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: corp-db, namespace: default}
      spec:
        hosts: [db.corp.example]
        addresses: [10.20.0.0/16, 192.168.7.7]
        ports: [{number: 27017, name: tcp, protocol: TCP}]
        location: MESH_EXTERNAL
        resolution: NONE
      ---
      """;

  static Listener listener(ProxyView view, String name) {
    Any any = EnvoyListeners.all(view).get(name);
    assertThat(any).as(name + " in " + view.dropped()).isNotNull();
    return unpack(any, Listener.class);
  }

  static String tcpCluster(FilterChain chain) {
    return unpack(chain.getFilters(0).getTypedConfig(), TcpProxy.class).getCluster();
  }

  @Test
  void tlsEntriesWithoutAddressesShareTheWildcardListenerByServerName() {
    try (EnvoyMesh mesh = new EnvoyMesh(EXTERNAL)) {
      ProxyView view = sidecar(mesh);
      Listener l = listener(view, "0.0.0.0_443");
      assertThat(l.getListenerFiltersList()).extracting(f -> f.getName()).contains(WellKnown.TLS_INSPECTOR);
      assertThat(l.getFilterChainsList()).extracting(c -> c.getFilterChainMatch().getServerNames(0) + " -> "
          + tcpCluster(c)).containsExactlyInAnyOrder(
              "*.wikipedia.org -> outbound|443||*.wikipedia.org",
              "www.google.com -> outbound|443||www.google.com");
      assertThat(l.getFilterChainsList()).allSatisfy(c ->
          assertThat(c.getFilterChainMatch().getTransportProtocol()).isEqualTo("tls"));
      // Other names on 443 leave as they came (ALLOW_ANY).
      assertThat(tcpCluster(l.getDefaultFilterChain())).isEqualTo(WellKnown.PASSTHROUGH_CLUSTER);
      assertValid(view);
    }
  }

  @Test
  void aTcpEntryWithoutAddressesTakesItsPortAndCidrAddressesAreMatchedByPrefix() {
    try (EnvoyMesh mesh = new EnvoyMesh(EXTERNAL)) {
      ProxyView view = sidecar(mesh);
      Listener l = listener(view, "0.0.0.0_27017");
      // corp-db's addresses, one a CIDR block: matched by destination prefix.
      assertThat(l.getFilterChainsList()).singleElement().satisfies(c -> {
        assertThat(c.getFilterChainMatch().getPrefixRangesList()).extracting(r -> r.getAddressPrefix() + "/"
            + r.getPrefixLen().getValue()).containsExactly("10.20.0.0/16", "192.168.7.7/32");
        assertThat(tcpCluster(c)).isEqualTo("outbound|27017||db.corp.example");
      });
      // The first TCP entry by hostname takes the rest of the port; the second is named, not silently lost.
      assertThat(tcpCluster(l.getDefaultFilterChain())).isEqualTo("outbound|27017||mongo-a.example.com");
      assertThat(view.dropped().get("mongo-b.example.com:27017")).contains("already goes to mongo-a.example.com");
      assertValid(view);
    }
  }

  @Test
  void registryOnlyFromTheMeshOrASidecarSendsUnknownDestinationsToTheBlackHole() {
    String sidecar = """
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: locked}
        spec:
          outboundTrafficPolicy: {mode: REGISTRY_ONLY}
        ---
        """;
    try (EnvoyMesh mesh = new EnvoyMesh(EnvoyGeneratorsTest.MESH + EXTERNAL + sidecar)) {
      ProxyView open = sidecar(mesh);
      ProxyView locked = mesh.sidecar("locked", "10.1.5.1", Map.of("app", "sleep"));
      assertThat(catchAll(open)).isEqualTo(WellKnown.PASSTHROUGH_CLUSTER);
      assertThat(catchAll(locked)).isEqualTo(WellKnown.BLACK_HOLE_CLUSTER);
      assertThat(tcpCluster(listener(locked, "0.0.0.0_443").getDefaultFilterChain()))
          .isEqualTo(WellKnown.BLACK_HOLE_CLUSTER);
      RouteConfiguration rc = unpack(EnvoyRoutes.generate(locked, "9080"), RouteConfiguration.class);
      VirtualHost last = rc.getVirtualHosts(rc.getVirtualHostsCount() - 1);
      assertThat(last.getName()).isEqualTo("block_all");
      assertThat(last.getRoutes(0).getDirectResponse().getStatus()).isEqualTo(502);
      assertValid(locked, "9080");

      MeshConfig d = MeshConfig.defaults();
      mesh.registry.setMeshConfig(new MeshConfig(d.rootNamespace(), d.trustDomain(), d.trustDomainAliases(),
          d.defaultServiceExportTo(), d.defaultVirtualServiceExportTo(), d.defaultDestinationRuleExportTo(),
          d.localityLbSetting(), d.serviceSettings(), d.meshId(), d.caCertificates(), MeshConfig.REGISTRY_ONLY));
      mesh.registry.flush();
      assertThat(catchAll(sidecar(mesh))).isEqualTo(WellKnown.BLACK_HOLE_CLUSTER);
    }
  }

  private static String catchAll(ProxyView view) {
    Listener vo = listener(view, WellKnown.VIRTUAL_OUTBOUND);
    return vo.getFilterChainsList().stream().filter(c -> c.getName().equals(WellKnown.OUTBOUND_CATCHALL_CHAIN))
        .map(EgressTest::tcpCluster).findFirst().orElseThrow();
  }

  /** Istio's "Egress gateways" task (HTTP through the gateway, TLS originated there). */
  static final String EGRESS_GATEWAY = """
      apiVersion: v1
      kind: Service
      metadata: {name: istio-egressgateway, namespace: istio-system}
      spec:
        clusterIP: 10.96.0.99
        selector: {istio: egressgateway}
        ports: [{name: http2, port: 80}, {name: https, port: 443}]
      ---
      apiVersion: networking.istio.io/v1
      kind: Gateway
      metadata: {name: istio-egressgateway, namespace: default}
      spec:
        selector: {istio: egressgateway}
        servers:
        - port: {number: 80, name: http, protocol: HTTP}
          hosts: [edition.cnn.com]
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: egressgateway-for-cnn, namespace: default}
      spec:
        host: istio-egressgateway.istio-system.svc.cluster.local
        subsets: [{name: cnn}]
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: direct-cnn-through-egress-gateway, namespace: default}
      spec:
        hosts: [edition.cnn.com]
        gateways: [istio-egressgateway, mesh]
        http:
        - match:
          - gateways: [mesh]
            port: 80
          route:
          - destination:
              host: istio-egressgateway.istio-system.svc.cluster.local
              subset: cnn
              port: {number: 80}
        - match:
          - gateways: [istio-egressgateway]
            port: 80
          route:
          - destination:
              host: edition.cnn.com
              port: {number: 443}
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: originate-tls-for-edition-cnn-com, namespace: default}
      spec:
        host: edition.cnn.com
        trafficPolicy:
          portLevelSettings:
          - port: {number: 443}
            tls: {mode: SIMPLE}
      ---
      """;

  static List<String> clusters(RouteConfiguration rc, String vhostPrefix) {
    List<String> out = new ArrayList<>();
    for (VirtualHost vh : rc.getVirtualHostsList()) {
      if (!vh.getName().startsWith(vhostPrefix)) continue;
      for (Route r : vh.getRoutesList()) out.add(r.getRoute().getCluster());
    }
    return out;
  }

  @Test
  void matchGatewaysSendsTheMeshToTheEgressGatewayAndTheGatewayOutWithTls() {
    try (EnvoyMesh mesh = new EnvoyMesh(CNN + EGRESS_GATEWAY)) {
      ProxyView app = sidecar(mesh);
      RouteConfiguration sidecarRoutes = unpack(EnvoyRoutes.generate(app, "80"), RouteConfiguration.class);
      assertThat(clusters(sidecarRoutes, "edition.cnn.com"))
          .containsExactly("outbound|80|cnn|istio-egressgateway.istio-system.svc.cluster.local");
      assertValid(app, "80");

      ProxyView gateway = mesh.router("istio-system", "10.1.9.3", Map.of("istio", "egressgateway"));
      Listener l = listener(gateway, "0.0.0.0_80");
      HttpConnectionManager hcm = unpack(l.getFilterChains(0).getFilters(0).getTypedConfig(),
          HttpConnectionManager.class);
      String routeName = hcm.getRds().getRouteConfigName();
      RouteConfiguration gatewayRoutes = unpack(EnvoyRoutes.generate(gateway, routeName), RouteConfiguration.class);
      // The gateway's own route goes out, never back to itself.
      assertThat(clusters(gatewayRoutes, "")).containsExactly(CNN_443);
      UpstreamTlsContext ctx = tls(cluster(gateway, CNN_443));
      assertThat(ctx.getSni()).isEqualTo("edition.cnn.com");
      assertValid(gateway, routeName);
      SortedMap<String, Any> all = EnvoyClusters.all(gateway);
      assertThat(all).containsKey("outbound|80|cnn|istio-egressgateway.istio-system.svc.cluster.local");
    }
  }

  @Test
  void tlsPassthroughThroughAnEgressGatewaySeparatesTheMeshRouteFromTheGatewayRoute() {
    String passthrough = """
        apiVersion: v1
        kind: Service
        metadata: {name: istio-egressgateway, namespace: istio-system}
        spec:
          clusterIP: 10.96.0.99
          selector: {istio: egressgateway}
          ports: [{name: tls, port: 443}]
        ---
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: istio-egressgateway, namespace: default}
        spec:
          selector: {istio: egressgateway}
          servers:
          - port: {number: 443, name: tls, protocol: TLS}
            hosts: [edition.cnn.com]
            tls: {mode: PASSTHROUGH}
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: direct-cnn-through-egress-gateway, namespace: default}
        spec:
          hosts: [edition.cnn.com]
          gateways: [mesh, istio-egressgateway]
          tls:
          - match:
            - gateways: [mesh]
              port: 443
              sniHosts: [edition.cnn.com]
            route:
            - destination: {host: istio-egressgateway.istio-system.svc.cluster.local, port: {number: 443}}
          - match:
            - gateways: [istio-egressgateway]
              port: 443
              sniHosts: [edition.cnn.com]
            route:
            - destination: {host: edition.cnn.com, port: {number: 443}}
        ---
        """;
    try (EnvoyMesh mesh = new EnvoyMesh(CNN + passthrough)) {
      ProxyView app = sidecar(mesh);
      Listener l = listener(app, "0.0.0.0_443");
      assertThat(l.getFilterChainsList()).singleElement().satisfies(c -> {
        assertThat(c.getFilterChainMatch().getServerNamesList()).containsExactly("edition.cnn.com");
        assertThat(tcpCluster(c)).isEqualTo("outbound|443||istio-egressgateway.istio-system.svc.cluster.local");
      });
      assertValid(app);

      // At the gateway only the gateway's match holds: the bytes go on to the external host, not back to itself.
      ProxyView gateway = mesh.router("istio-system", "10.1.9.3", Map.of("istio", "egressgateway"));
      Listener g = listener(gateway, "0.0.0.0_443");
      assertThat(g.getFilterChainsList()).singleElement().satisfies(c -> {
        assertThat(c.getFilterChainMatch().getServerNamesList()).containsExactly("edition.cnn.com");
        assertThat(c.hasTransportSocket()).isFalse();
        assertThat(tcpCluster(c)).isEqualTo(CNN_443);
      });
      assertThat(cluster(gateway, CNN_443).hasTransportSocket()).isFalse();
      assertValid(gateway);
    }
  }

  @Test
  void anIstioMutualEgressGatewayTerminatesTheMeshMtlsAndRoutesOut() {
    String yaml = """
        apiVersion: v1
        kind: Service
        metadata: {name: istio-egressgateway, namespace: istio-system}
        spec:
          clusterIP: 10.96.0.99
          selector: {istio: egressgateway}
          ports: [{name: http2, port: 80}, {name: https, port: 443}]
        ---
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: istio-egressgateway, namespace: default}
        spec:
          selector: {istio: egressgateway}
          servers:
          - port: {number: 443, name: https, protocol: HTTPS}
            hosts: [edition.cnn.com]
            tls: {mode: ISTIO_MUTUAL}
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: egressgateway-for-cnn, namespace: default}
        spec:
          host: istio-egressgateway.istio-system.svc.cluster.local
          subsets:
          - name: cnn
            trafficPolicy:
              portLevelSettings:
              - port: {number: 443}
                tls: {mode: ISTIO_MUTUAL, sni: edition.cnn.com}
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: direct-cnn-through-egress-gateway, namespace: default}
        spec:
          hosts: [edition.cnn.com]
          gateways: [istio-egressgateway, mesh]
          http:
          - match: [{gateways: [mesh], port: 80}]
            route:
            - destination: {host: istio-egressgateway.istio-system.svc.cluster.local, subset: cnn, port: {number: 443}}
          - match: [{gateways: [istio-egressgateway], port: 443}]
            route:
            - destination: {host: edition.cnn.com, port: {number: 80}}
        ---
        """;
    try (EnvoyMesh mesh = new EnvoyMesh(CNN + yaml)) {
      ProxyView app = sidecar(mesh);
      String toGateway = "outbound|443|cnn|istio-egressgateway.istio-system.svc.cluster.local";
      RouteConfiguration sidecarRoutes = unpack(EnvoyRoutes.generate(app, "80"), RouteConfiguration.class);
      assertThat(clusters(sidecarRoutes, "edition.cnn.com")).containsExactly(toGateway);
      assertThat(tls(cluster(app, toGateway)).getSni()).isEqualTo("edition.cnn.com");
      assertValid(app, "80");

      ProxyView gateway = mesh.router("istio-system", "10.1.9.3", Map.of("istio", "egressgateway"));
      Listener l = listener(gateway, "0.0.0.0_443");
      FilterChain chain = l.getFilterChains(0);
      var downstream = unpack(chain.getTransportSocket().getTypedConfig(),
          io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext.class);
      assertThat(downstream.getRequireClientCertificate().getValue()).isTrue();
      assertThat(downstream.getCommonTlsContext().getTlsCertificateSdsSecretConfigs(0).getName())
          .isEqualTo(TlsContexts.CERTIFICATE);
      String routeName = unpack(chain.getFilters(0).getTypedConfig(), HttpConnectionManager.class).getRds()
          .getRouteConfigName();
      RouteConfiguration gatewayRoutes = unpack(EnvoyRoutes.generate(gateway, routeName), RouteConfiguration.class);
      assertThat(clusters(gatewayRoutes, "")).containsExactly(CNN_80);
      assertValid(gateway, routeName);
    }
  }
}
