package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.NameResolverRegistry;
import io.grpc.xds.XdsNameResolverProvider;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;
import weft.demo.GrpcBootstrap;
import weft.xds.TypeUrls;

/**
 * Every folder under {@code examples/} runs as its README says: the control plane starts on it
 * with the README's own command (ports made free), reports no configuration problem, and a
 * connected client is sent what the README promises.
 */
class ExamplesTest {
  static final Path ROOT = Path.of("").toAbsolutePath().getParent();
  static final Path EXAMPLES = ROOT.resolve("examples");
  static final String REVIEWS = "reviews.default.svc.cluster.local";
  static final String REVIEWS_CLUSTER = "outbound|9080||" + REVIEWS;

  final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) closeables.get(i).close();
  }

  @Test
  void everyExampleHasAReadmeWithItsCommandAndTheRepositoryReadmePointsToThem() throws IOException {
    Set<String> folders;
    try (var list = Files.list(EXAMPLES)) {
      folders = list.filter(Files::isDirectory).map(p -> p.getFileName().toString()).collect(Collectors.toSet());
    }
    assertThat(folders).as("each example has a test below")
        .containsExactlyInAnyOrder("single-cluster", "two-clusters", "two-networks", "mtls-authz", "locality-failover");
    for (String f : folders) {
      assertThat(Files.readString(EXAMPLES.resolve(f).resolve("README.md"))).as(f).contains("./weft control-plane");
    }
    assertThat(Files.readString(ROOT.resolve("README.md"))).contains("examples/");
  }

  @Test
  void singleClusterSplitsNinetyTenAndSendsJasonToV2() throws Exception {
    ControlPlane cp = start("single-cluster", "--config-dir");
    AdsStream client = stream(cp, AdsStream.node("frontend-1", "default", "10.1.0.50", "cluster1", "", "", true));
    client.request(TypeUrls.LISTENER, REVIEWS + ":9080");
    Listener listener = client.await(TypeUrls.LISTENER, REVIEWS + ":9080", Listener.class);
    String routeName = listener.getApiListener().getApiListener().unpack(HttpConnectionManager.class).getRds()
        .getRouteConfigName();
    client.request(TypeUrls.ROUTE, routeName);
    List<Route> routes = client.await(TypeUrls.ROUTE, routeName, RouteConfiguration.class).getVirtualHosts(0)
        .getRoutesList();

    assertThat(routes.get(0).getMatch().getHeaders(0).getName()).isEqualTo("end-user");
    assertThat(routes.get(0).getMatch().getHeaders(0).getStringMatch().getExact()).isEqualTo("jason");
    assertThat(routes.get(0).getRoute().getCluster()).isEqualTo("outbound|9080|v2|" + REVIEWS);
    Map<String, Integer> weights = new TreeMap<>();
    routes.get(1).getRoute().getWeightedClusters().getClustersList()
        .forEach(c -> weights.put(c.getName(), c.getWeight().getValue()));
    assertThat(weights).containsExactlyEntriesOf(new TreeMap<>(Map.of(
        "outbound|9080|v1|" + REVIEWS, 90, "outbound|9080|v2|" + REVIEWS, 10)));
    assertThat(routes.get(1).getRoute().getRetryPolicy().getNumRetries().getValue()).isEqualTo(2);
    assertThat(routes.get(1).getRoute().getRetryPolicy().getRetryOn()).isEqualTo("unavailable");
    assertThat(routes.get(1).getRoute().getMaxStreamDuration().getMaxStreamDuration().getSeconds()).isEqualTo(5);

    client.request(TypeUrls.ENDPOINT, "outbound|9080|v1|" + REVIEWS, "outbound|9080|v2|" + REVIEWS);
    assertThat(addresses(client.await(TypeUrls.ENDPOINT, "outbound|9080|v1|" + REVIEWS, ClusterLoadAssignment.class)))
        .containsExactlyInAnyOrder("10.1.0.11:9080", "10.1.0.12:9080");
    assertThat(addresses(client.await(TypeUrls.ENDPOINT, "outbound|9080|v2|" + REVIEWS, ClusterLoadAssignment.class)))
        .containsExactly("10.1.0.13:9080");
    grpcJavaAcceptsEverything(cp, REVIEWS, "");
  }

  @Test
  void twoClustersFromFoldersServeOneServiceOverBothAndTheOtherClustersOnlyService() throws Exception {
    ControlPlane cp = start("two-clusters", "--remote-config-dir");
    assertThat(cp.registry().current().clusters()).containsKeys("cluster1", "cluster2");
    assertCrossClusterEndpoints(cp);
    grpcJavaAcceptsEverything(cp, REVIEWS, "");
  }

  @Test
  void twoClustersThroughTheExamplesRemoteSecretOnceItsServerAndTokenAreFilledIn() throws Exception {
    KubeCluster cluster2 = new KubeCluster("cluster2");
    closeables.add(cluster2);
    // cluster2's API server holds what the example's cluster2 folder describes.
    try (var files = Files.list(EXAMPLES.resolve("two-clusters/cluster2"))) {
      for (Path f : files.sorted().toList()) {
        try (InputStream in = Files.newInputStream(f)) {
          for (var item : cluster2.client.load(in).items()) cluster2.client.resource(item).create();
        }
      }
    }
    String example = Files.readString(EXAMPLES.resolve("two-clusters/remote-secrets/cluster2.yaml"));
    String filled = example.replace("https://cluster2.example.com:6443", "http://127.0.0.1:" + cluster2.proxy.port())
        .replace("REPLACE-WITH-THE-READER-TOKEN", "reader-token");
    assertThat(filled).as("the example names a server and a token to replace").doesNotContain("example.com")
        .doesNotContain("REPLACE");
    Path secrets = tempDir("weft-example-secrets");
    Files.writeString(secrets.resolve("cluster2.yaml"), filled);
    ControlPlane cp = ControlPlane.start(ControlPlaneOptions.forConfigDir(EXAMPLES.resolve("two-clusters/cluster1"))
        .withPorts(0, 0).withRemoteSecrets(secrets, null, Duration.ofSeconds(20)));
    closeables.add(cp);
    await().atMost(Duration.ofSeconds(60)).until(() -> cp.registry().current().clusters().containsKey("cluster2")
        && cp.registry().current().service("ratings.default.svc.cluster.local") != null);
    assertThat(cp.registry().current().problems()).isEmpty();
    assertCrossClusterEndpoints(cp);
  }

  private void assertCrossClusterEndpoints(ControlPlane cp) {
    AdsStream client = stream(cp, AdsStream.node("frontend-1", "default", "10.1.0.50", "cluster1", "", "", true));
    String ratings = "outbound|9080||ratings.default.svc.cluster.local";
    client.request(TypeUrls.ENDPOINT, REVIEWS_CLUSTER, ratings);
    ClusterLoadAssignment reviews = client.await(TypeUrls.ENDPOINT, REVIEWS_CLUSTER, ClusterLoadAssignment.class);
    assertThat(addresses(reviews)).containsExactlyInAnyOrder("10.1.0.11:9080", "10.2.0.11:9080");
    assertThat(new java.util.HashSet<>(weights(reviews).values())).as("one endpoint per cluster, equal weights")
        .hasSize(1);
    assertThat(addresses(client.await(TypeUrls.ENDPOINT, ratings, ClusterLoadAssignment.class)))
        .containsExactly("10.2.0.21:9080");
  }

  @Test
  void twoNetworksGiveEachSidecarItsOwnEndpointAndTheOtherNetworksGateway() throws Exception {
    ControlPlane cp = start("two-networks", "--mesh-networks");
    AdsStream net1 = stream(cp, AdsStream.node("frontend-1", "default", "10.1.0.50", "cluster1", "network-1", "", false));
    net1.request(TypeUrls.ENDPOINT, REVIEWS_CLUSTER);
    assertThat(addresses(net1.await(TypeUrls.ENDPOINT, REVIEWS_CLUSTER, ClusterLoadAssignment.class)))
        .containsExactlyInAnyOrder("10.1.0.11:9080", "198.51.100.20:15443");
    AdsStream net2 = stream(cp, AdsStream.node("frontend-2", "default", "10.2.0.50", "cluster2", "network-2", "", false));
    net2.request(TypeUrls.ENDPOINT, REVIEWS_CLUSTER);
    assertThat(addresses(net2.await(TypeUrls.ENDPOINT, REVIEWS_CLUSTER, ClusterLoadAssignment.class)))
        .containsExactlyInAnyOrder("10.2.0.11:9080", "192.0.2.10:15443");
  }

  @Test
  void mtlsAndAuthorizationGiveTheServerRbacAndAClientCertificateDemandAndTheClientTheServersIdentity()
      throws Exception {
    ControlPlane cp = start("mtls-authz", "--ca-dir");
    assertThat(cp.securePort()).as("the CA is on").isPositive();
    String inbound = "xds.istio.io/grpc/lds/inbound/10.1.0.31:9080";
    AdsStream server = stream(cp, AdsStream.node("ratings-v1-a", "default", "10.1.0.31", "cluster1", "", "", true,
        Map.of("app", "ratings", "version", "v1", "security.istio.io/tlsMode", "istio")));
    server.request(TypeUrls.LISTENER, inbound);
    Listener listener = server.await(TypeUrls.LISTENER, inbound, Listener.class);
    var chain = listener.getFilterChains(0);
    assertThat(chain.getTransportSocket().getTypedConfig().unpack(DownstreamTlsContext.class)
        .getRequireClientCertificate().getValue()).as("STRICT: a client certificate is required").isTrue();
    List<HttpFilter> filters = chain.getFilters(0).getTypedConfig().unpack(HttpConnectionManager.class)
        .getHttpFiltersList();
    assertThat(filters).extracting(HttpFilter::getName)
        .containsSubsequence("envoy.filters.http.rbac.DENY", "envoy.filters.http.rbac");
    String allow = filters.stream().filter(f -> f.getName().equals("envoy.filters.http.rbac")).findFirst()
        .orElseThrow().getTypedConfig().unpack(io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.class)
        .toString();
    assertThat(allow).contains("spiffe://cluster.local/ns/default/sa/frontend").contains("/ratings.Ratings/Get");

    AdsStream client = stream(cp, AdsStream.node("frontend-1", "default", "10.1.0.50", "cluster1", "", "", true));
    String ratings = "outbound|9080||ratings.default.svc.cluster.local";
    client.request(TypeUrls.CLUSTER, ratings);
    UpstreamTlsContext tls = client.await(TypeUrls.CLUSTER, ratings, Cluster.class).getTransportSocket()
        .getTypedConfig().unpack(UpstreamTlsContext.class);
    assertThat(tls.getCommonTlsContext().getValidationContext().toString())
        .contains("spiffe://cluster.local/ns/default/sa/ratings");
  }

  @Test
  void localityFailoverOrdersZoneRegionAndFailoverRegionAndDistributeWeighsZones() throws Exception {
    ControlPlane cp = start("locality-failover", "--config-dir");
    AdsStream client = stream(cp, AdsStream.node("frontend-1", "default", "10.1.0.50", "cluster1", "",
        "us-east/zone-a", true));
    String ratings = "outbound|9080||ratings.default.svc.cluster.local";
    client.request(TypeUrls.ENDPOINT, REVIEWS_CLUSTER, ratings);

    ClusterLoadAssignment reviews = client.await(TypeUrls.ENDPOINT, REVIEWS_CLUSTER, ClusterLoadAssignment.class);
    Map<String, Integer> priorities = new TreeMap<>();
    for (LocalityLbEndpoints l : reviews.getEndpointsList()) {
      for (LbEndpoint e : l.getLbEndpointsList()) priorities.put(address(e), l.getPriority());
    }
    assertThat(priorities).containsExactlyEntriesOf(new TreeMap<>(Map.of(
        "10.1.0.11:9080", 0, "10.1.0.12:9080", 1, "10.2.0.11:9080", 2)));

    ClusterLoadAssignment distributed = client.await(TypeUrls.ENDPOINT, ratings, ClusterLoadAssignment.class);
    Map<String, Integer> byZone = new TreeMap<>();
    for (LocalityLbEndpoints l : distributed.getEndpointsList()) {
      assertThat(l.getPriority()).isZero();
      byZone.put(l.getLocality().getRegion() + "/" + l.getLocality().getZone(), l.getLoadBalancingWeight().getValue());
    }
    assertThat(byZone).containsEntry("us-east/zone-a", 80).containsEntry("us-east/zone-b", 20)
        .doesNotContainKey("us-west/zone-c");
    grpcJavaAcceptsEverything(cp, REVIEWS, "us-east/zone-a");
  }

  /**
   * Starts the control plane with the command of {@code example}'s README (the one naming
   * {@code flag}), on free ports, and checks that the configuration has no problem at all.
   */
  ControlPlane start(String example, String flag) throws Exception {
    List<String> args = readmeCommand(EXAMPLES.resolve(example).resolve("README.md"), flag);
    Path configDir = null;
    Path meshConfig = null;
    Path meshNetworks = null;
    Map<String, Path> remotes = new LinkedHashMap<>();
    ControlPlaneOptions.Ca ca = null;
    Path caDir = null;
    Path tokens = null;
    for (int i = 0; i < args.size(); i += 2) {
      String value = args.get(i + 1);
      switch (args.get(i)) {
        case "--config-dir" -> configDir = ROOT.resolve(value);
        case "--remote-config-dir" -> remotes.put(value.substring(0, value.indexOf('=')),
            ROOT.resolve(value.substring(value.indexOf('=') + 1)));
        case "--mesh-config" -> meshConfig = ROOT.resolve(value);
        case "--mesh-networks" -> meshNetworks = ROOT.resolve(value);
        // Made fresh, as a first run would: the README writes the token file and lets the CA make its root.
        case "--ca-dir" -> caDir = tempDir("weft-example-ca");
        case "--ca-tokens" -> {
          tokens = tempDir("weft-example-tokens").resolve(value);
          Files.writeString(tokens, "- {token: frontend-token, namespace: default, serviceAccount: frontend}\n"
              + "- {token: ratings-token, namespace: default, serviceAccount: ratings}\n");
        }
        default -> throw new AssertionError(example + "'s README uses " + args.get(i) + ", which this test does not map");
      }
    }
    if (caDir != null) ca = new ControlPlaneOptions.Ca(caDir, tokens, 0);
    ControlPlaneOptions defaults = ControlPlaneOptions.forConfigDir(configDir);
    ControlPlane cp = ControlPlane.start(new ControlPlaneOptions(configDir, null, defaults.clusterId(),
        defaults.network(), defaults.systemNamespace(), meshConfig, meshNetworks, null, null, 0, 0, false,
        Duration.ofSeconds(20), remotes, ca));
    closeables.add(cp);
    assertThat(cp.registry().current().problems()).as(example + " loads without errors or warnings").isEmpty();
    assertThat(cp.registry().current().services()).as(example + " has services").isNotEmpty();
    return cp;
  }

  /** The {@code ./weft control-plane} command in a README's code blocks that names {@code flag}, as arguments. */
  static List<String> readmeCommand(Path readme, String flag) throws IOException {
    Matcher blocks = Pattern.compile("```\\n(.*?)```", Pattern.DOTALL).matcher(Files.readString(readme));
    while (blocks.find()) {
      String joined = blocks.group(1).replace("\\\n", " ");
      for (String line : joined.split("\n")) {
        String command = line.replaceAll("#.*", "").trim();
        if (!command.startsWith("./weft control-plane ") || !command.contains(flag + " ")) continue;
        List<String> args = new ArrayList<>(List.of(command.substring("./weft control-plane ".length()).trim()
            .split("\\s+")));
        assertThat(args.size() % 2).as("flags with values in " + readme + ": " + command).isZero();
        return args;
      }
    }
    throw new AssertionError(readme + " has no ./weft control-plane command with " + flag);
  }

  AdsStream stream(ControlPlane cp, io.envoyproxy.envoy.config.core.v3.Node node) {
    AdsStream s = new AdsStream(cp.xdsPort(), node);
    closeables.add(s);
    return s;
  }

  /**
   * A real grpc-java xDS client of {@code host}:9080 resolves it: the control plane sees it ACK
   * listeners, routes, clusters and endpoints and NACK nothing.
   */
  void grpcJavaAcceptsEverything(ControlPlane cp, String host, String locality) {
    String pod = "grpc-java-" + Integer.toHexString(System.identityHashCode(cp));
    String scheme = "xds-example-" + pod;
    NameResolverRegistry.getDefaultRegistry().register(XdsNameResolverProvider.createForTest(scheme,
        GrpcBootstrap.of("localhost:" + cp.xdsPort(), pod, "default", "10.1.0.60", "cluster1", "",
            Map.of("app", "grpc-java"), locality)));
    ManagedChannel channel = Grpc.newChannelBuilder(scheme + ":///" + host + ":9080",
        InsecureChannelCredentials.create()).build();
    closeables.add(channel::shutdownNow);
    channel.getState(true);
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      Map<String, Object> status = cp.ads().proxyStatus().stream()
          .filter(p -> String.valueOf(p.get("id")).contains("~" + pod + ".")).findFirst()
          .orElseThrow(() -> new AssertionError("grpc-java client " + pod + " has not connected"));
      @SuppressWarnings("unchecked")
      Map<String, Map<String, Object>> xds = (Map<String, Map<String, Object>>) status.get("xds");
      assertThat(xds).containsKeys("LDS", "RDS", "CDS", "EDS");
      xds.forEach((type, s) -> {
        assertThat(s.get("acked")).as(type + " ACKed").isEqualTo(true);
        assertThat(s).as(type + " not NACKed").doesNotContainKey("lastNack");
      });
    });
  }

  Path tempDir(String prefix) throws IOException {
    Path dir = Files.createTempDirectory(prefix);
    closeables.add(() -> {
      try (var files = Files.walk(dir)) {
        for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
      }
    });
    return dir;
  }

  static List<String> addresses(ClusterLoadAssignment cla) {
    List<String> out = new ArrayList<>();
    for (LocalityLbEndpoints l : cla.getEndpointsList()) for (LbEndpoint e : l.getLbEndpointsList()) out.add(address(e));
    return out;
  }

  /** Each endpoint's effective weight: its locality's weight when set, else its own. */
  static Map<String, Integer> weights(ClusterLoadAssignment cla) {
    Map<String, Integer> out = new HashMap<>();
    for (LocalityLbEndpoints l : cla.getEndpointsList()) {
      for (LbEndpoint e : l.getLbEndpointsList()) {
        out.put(address(e), l.hasLoadBalancingWeight() ? l.getLoadBalancingWeight().getValue()
            : e.getLoadBalancingWeight().getValue());
      }
    }
    return out;
  }

  static String address(LbEndpoint e) {
    var a = e.getEndpoint().getAddress().getSocketAddress();
    return a.getAddress() + ":" + a.getPortValue();
  }

}
