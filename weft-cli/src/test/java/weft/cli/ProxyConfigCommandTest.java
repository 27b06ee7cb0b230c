package weft.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ConnectivityState;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.NameResolverRegistry;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.grpc.xds.XdsNameResolverProvider;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;
import weft.demo.GrpcBootstrap;

/**
 * {@code weft proxy-config} against a running control plane: a real grpc-java xDS client and a raw
 * ADS stream of an ingress gateway connect, and the command prints what each was sent.
 */
class ProxyConfigCommandTest {
  static final String KEY_FILE = "/etc/istio/ingress-certs/tls.key";
  static final String CONFIG = """
      apiVersion: v1
      kind: Service
      metadata: {name: reviews, namespace: default}
      spec:
        selector: {app: reviews}
        clusterIP: 10.96.0.20
        ports: [{name: grpc, port: 9080, targetPort: 9080}]
      ---
      apiVersion: discovery.k8s.io/v1
      kind: EndpointSlice
      metadata: {name: reviews-1, namespace: default, labels: {kubernetes.io/service-name: reviews}}
      addressType: IPv4
      ports: [{name: grpc, port: 9080}]
      endpoints:
      - addresses: ["10.1.0.11"]
        conditions: {ready: true}
      ---
      apiVersion: networking.istio.io/v1
      kind: Gateway
      metadata: {name: ingress, namespace: istio-system}
      spec:
        selector: {istio: ingressgateway}
        servers:
        - port: {number: 443, name: https, protocol: HTTPS}
          hosts: ["*"]
          tls: {mode: SIMPLE, serverCertificate: /etc/istio/ingress-certs/tls.crt, privateKey: %s}
      """.formatted(KEY_FILE);

  Path dir;
  ControlPlane cp;
  final List<ManagedChannel> channels = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    dir = Files.createTempDirectory("weft-proxy-config");
    Files.writeString(dir.resolve("mesh.yaml"), CONFIG);
    cp = ControlPlane.start(ControlPlaneOptions.forConfigDir(dir).withPorts(0, 0));
    assertThat(cp.registry().current().problems()).isEmpty();
  }

  @AfterEach
  void stop() throws Exception {
    for (ManagedChannel c : channels) c.shutdownNow();
    cp.close();
    try (var files = Files.walk(dir)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }

  record Run(int exit, String out, String err) {}

  Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new Main()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--control-plane", "http://localhost:" + cp.monitoringPort()));
    int exit = cli.execute(all.toArray(String[]::new));
    return new Run(exit, out.toString(), err.toString());
  }

  /** A proxyless grpc-java client of reviews named {@code pod}; its channel starts resolving at once. */
  void grpcClient(String pod) {
    String scheme = "xds-proxy-config-" + pod;
    NameResolverRegistry.getDefaultRegistry().register(XdsNameResolverProvider.createForTest(scheme,
        GrpcBootstrap.of("localhost:" + cp.xdsPort(), pod, "default", "10.1.9.9", "cluster1", "", Map.of("app", pod))));
    ManagedChannel channel = Grpc.newChannelBuilder(scheme + ":///reviews.default.svc.cluster.local:9080",
        InsecureChannelCredentials.create()).build();
    channels.add(channel);
    ConnectivityState ignored = channel.getState(true);
  }

  @Test
  void allPrintsTheListenerRouteClusterAndEndpointsAGrpcJavaClientWasSent() throws Exception {
    grpcClient("frontend-1");
    // grpc-java asks for EDS last, once it holds the cluster: wait for the endpoints to be sent.
    await().atMost(Duration.ofSeconds(60)).until(() -> run("proxy-config", "endpoints", "frontend-1").out()
        .contains("10.1.0.11"));

    Run r = run("proxy-config", "all", "frontend-1.default", "-o", "json");

    assertThat(r.exit()).as(r.err()).isZero();
    JsonNode configs = new ObjectMapper().readTree(r.out()).path("configs");
    assertThat(configs).hasSize(5);
    assertThat(names(configs.get(0).path("dynamic_active_clusters"), "cluster", "name"))
        .contains("outbound|9080||reviews.default.svc.cluster.local");
    assertThat(names(configs.get(1).path("dynamic_endpoint_configs"), "endpoint_config", "cluster_name"))
        .containsExactly("outbound|9080||reviews.default.svc.cluster.local");
    assertThat(configs.get(2).path("dynamic_listeners").get(0).path("name").asText())
        .isEqualTo("reviews.default.svc.cluster.local:9080");
    assertThat(names(configs.get(3).path("dynamic_route_configs"), "route_config", "name")).hasSize(1);
    assertThat(configs.get(4).path("@type").asText()).endsWith("SecretsConfigDump");
    assertThat(r.out()).contains("10.1.0.11");
  }

  @Test
  void tablesLikeIstioctlAndWhyForTheConnectedClient() throws Exception {
    grpcClient("frontend-2");
    await().atMost(Duration.ofSeconds(60)).until(() -> run("proxy-config", "endpoints", "frontend-2").out()
        .contains("10.1.0.11"));

    Run clusters = run("proxy-config", "clusters", "frontend-2");
    assertThat(clusters.exit()).as(clusters.err()).isZero();
    assertThat(clusters.out().lines().toList().get(0)).matches("SERVICE FQDN +PORT +SUBSET +DIRECTION +TYPE +TLS +STATUS");
    assertThat(clusters.out().lines()).anyMatch(l -> l.matches(
        "reviews\\.default\\.svc\\.cluster\\.local +9080 +- +outbound +EDS +- +ACKED"));

    Run endpoints = run("proxy-config", "endpoints", "frontend-2");
    assertThat(endpoints.out().lines()).anyMatch(l -> l.matches(
        "10\\.1\\.0\\.11:9080 +HEALTHY +outbound\\|9080\\|\\|reviews\\.default\\.svc\\.cluster\\.local +- +0 +1"));

    Run listeners = run("proxy-config", "listeners", "frontend-2");
    assertThat(listeners.out().lines()).anyMatch(l -> l.startsWith("reviews.default.svc.cluster.local:9080 ")
        && l.contains("gRPC API listener") && l.contains("Route: reviews.default.svc.cluster.local:9080"));

    Run routes = run("proxy-config", "routes", "frontend-2");
    assertThat(routes.out().lines()).anyMatch(l -> l.startsWith("reviews.default.svc.cluster.local:9080 ")
        && l.endsWith("outbound|9080||reviews.default.svc.cluster.local"));

    Run all = run("proxy-config", "all", "frontend-2");
    assertThat(all.out().lines().filter(l -> l.startsWith("# ")))
        .containsExactly("# clusters", "# endpoints", "# listeners", "# routes", "# secrets");

    Run bad = run("proxy-config", "all", "frontend-2", "-o", "yaml");
    assertThat(bad.exit()).isEqualTo(2);

    // The connected proxy itself as the source of weft why.
    Run why = run("why", "frontend-2", "reviews:9080");
    assertThat(why.exit()).as(why.out() + why.err()).isZero();
    assertThat(why.out()).contains("source: sidecar~10.1.9.9~frontend-2.default~default.svc.cluster.local "
        + "(proxyless gRPC) in cluster cluster1", "ok   endpoints: priority 0 / weight 1: [10.1.0.11:9080 (cluster1)]");
    assertThat(why.out().lines().toList()).last().isEqualTo("reachable");
  }

  @Test
  void aRouteAConnectedProxylessClientCannotTakeIsAnAnalyzeFinding() throws Exception {
    Files.writeString(dir.resolve("reviews-vs.yaml"), """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, namespace: default}
        spec:
          hosts: [reviews]
          http:
          - match: [{queryParams: {debug: {exact: "1"}}}]
            route: [{destination: {host: reviews}}]
          - route: [{destination: {host: reviews}}]
        """);
    await().atMost(Duration.ofSeconds(60)).until(() -> cp.registry().current().config().virtualServices().size() == 1);
    grpcClient("frontend-3");
    await().atMost(Duration.ofSeconds(60)).until(() -> run("analyze").out().contains("[WEFT0101]"));

    Run lenient = run("analyze");
    assertThat(lenient.exit()).as(lenient.out() + lenient.err()).isZero();
    Run strict = run("analyze", "--failure-threshold", "WARNING");
    assertThat(strict.exit()).isEqualTo(AnalyzeCommand.EXIT_FOUND);
    assertThat(strict.out().lines()).anySatisfy(l -> assertThat(l).startsWith("Warning [WEFT0101] (")
        .contains("1 proxy(ies), 1 subject(s): query parameter matches are not available to gRPC clients; route "
            + "skipped (e.g. on sidecar~10.1.9.9~frontend-3.default~default.svc.cluster.local)"));
  }

  @Test
  void aGatewaysPrivateKeyNeverAppearsNotEvenItsPath() throws Exception {
    ConcurrentHashMap<String, DiscoveryResponse> received = new ConcurrentHashMap<>();
    ManagedChannel channel = NettyChannelBuilder.forAddress("localhost", cp.xdsPort()).usePlaintext().build();
    channels.add(channel);
    Node router = Node.newBuilder().setId("router~10.0.0.50~ingress-1.istio-system~istio-system.svc.cluster.local")
        .setMetadata(Struct.newBuilder()
            .putFields("NAMESPACE", Value.newBuilder().setStringValue("istio-system").build())
            .putFields("LABELS", Value.newBuilder().setStructValue(Struct.newBuilder()
                .putFields("istio", Value.newBuilder().setStringValue("ingressgateway").build())).build()))
        .build();
    StreamObserver<DiscoveryRequest> requests = AggregatedDiscoveryServiceGrpc.newStub(channel)
        .streamAggregatedResources(new StreamObserver<>() {
          @Override
          public void onNext(DiscoveryResponse r) {
            received.put(r.getTypeUrl(), r);
          }

          @Override
          public void onError(Throwable t) {}

          @Override
          public void onCompleted() {}
        });
    requests.onNext(DiscoveryRequest.newBuilder().setNode(router)
        .setTypeUrl("type.googleapis.com/envoy.config.listener.v3.Listener").build());
    await().atMost(Duration.ofSeconds(60)).until(() -> !received.isEmpty());
    assertThat(received.values().iterator().next().toString()).as("the gateway was sent its key's path")
        .contains(KEY_FILE);

    Run r = run("proxy-config", "listeners", "ingress-1", "-o", "json");

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("0.0.0.0_443").contains("tls.crt").contains("[redacted]")
        .doesNotContain(KEY_FILE).doesNotContain("tls.key");
    requests.onCompleted();
  }

  @Test
  void anUnknownProxyAndAnAmbiguousOneAreOneLineErrorsThatSayWhatToDo() {
    grpcClient("reviews-a");
    grpcClient("reviews-b");
    await().atMost(Duration.ofSeconds(60)).until(() -> cp.ads().proxyIds().size() == 2);

    Run unknown = run("proxy-config", "all", "ratings-1");
    assertThat(unknown.exit()).isEqualTo(1);
    assertThat(unknown.out()).isEmpty();
    assertThat(unknown.err()).startsWith("weft proxy-config: no connected proxy matches \"ratings-1\"")
        .contains("weft proxy-status");

    Run ambiguous = run("proxy-config", "all", "reviews");
    assertThat(ambiguous.exit()).isEqualTo(1);
    assertThat(ambiguous.err()).contains("2 connected proxies match \"reviews\"")
        .contains("sidecar~10.1.9.9~reviews-a.default~default.svc.cluster.local")
        .contains("sidecar~10.1.9.9~reviews-b.default~default.svc.cluster.local");

    Run badType = run("proxy-config", "bootstrap", "reviews-a");
    assertThat(badType.exit()).isEqualTo(2);
    assertThat(badType.err()).contains("unknown type \"bootstrap\"");
  }

  @Test
  void theHttpEndpointRejectsBadQueriesWithJsonErrors() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    String base = "http://localhost:" + cp.monitoringPort() + "/debug/config_dump";
    for (Map.Entry<String, Integer> c : Map.of("", 400, "?proxy=" + "x".repeat(3000), 400, "?proxy=x&types=nope", 400,
        "?proxy=nobody", 404).entrySet()) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + c.getKey())).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(c.getKey()).isEqualTo(c.getValue());
      assertThat(new ObjectMapper().readTree(r.body()).path("error").asText()).as(c.getKey()).isNotEmpty();
    }
  }

  static List<String> names(JsonNode items, String resource, String field) {
    List<String> out = new ArrayList<>();
    for (JsonNode i : items) out.add(i.path(resource).path(field).asText());
    return out;
  }
}
