package weft.xds;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.model.ResourceId;
import weft.registry.Locality;
import weft.registry.MeshSnapshot;
import weft.xds.proxy.Proxy;

/**
 * Generated parts are shared between proxies only when everything they depend on is equal: a
 * proxy that differs from another in one attribute never receives the other's cached resources,
 * and whatever comes from the cache is byte-identical to what the proxy's own view generates
 * afresh, across snapshot changes.
 */
class SharedPartsTest {
  static final String SUFFIX = ".default.svc.cluster.local";
  static final String REVIEWS = "outbound|9080||reviews" + SUFFIX;

  TestMesh mesh;

  @AfterEach
  void stop() {
    if (mesh != null) mesh.close();
  }

  /** A service with a virtual IP per cluster, and one pod per zone and network. */
  static String reviews(String clusterIp, String ip, String network, String zone) {
    return """
        apiVersion: v1
        kind: Service
        metadata: {name: reviews, namespace: default}
        spec:
          clusterIP: %s
          ports: [{name: http, port: 9080}, {name: tcp-db, port: 3306}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: reviews-%s, namespace: default, labels: {kubernetes.io/service-name: reviews}}
        addressType: IPv4
        ports: [{name: http, port: 9080}, {name: tcp-db, port: 3306}]
        endpoints:
        - addresses: ["%s"]
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: reviews-%s
          namespace: default
          labels: {app: reviews, topology.istio.io/network: %s, topology.kubernetes.io/zone: %s,
                   security.istio.io/tlsMode: istio}
        status: {podIP: %s, phase: Running}
        ---
        """.formatted(clusterIp, ip.replace('.', '-'), ip, ip.replace('.', '-'), network, zone, ip);
  }

  /**
   * Rules that make every attribute matter: the zone picks the failover priority, a workload
   * selector picks a DestinationRule (the proxy's namespace beats the root one), source labels
   * and namespaces pick routes.
   */
  static final String RULES = """
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: reviews, namespace: istio-system}
      spec:
        host: reviews.default.svc.cluster.local
        trafficPolicy:
          outlierDetection: {consecutive5xxErrors: 1}
          loadBalancer:
            localityLbSetting:
              failoverPriority: [topology.kubernetes.io/zone]
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: reviews-canary-clients, namespace: default}
      spec:
        host: reviews
        workloadSelector: {matchLabels: {version: canary}}
        trafficPolicy:
          loadBalancer: {simple: RANDOM}
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: reviews, namespace: default}
      spec:
        hosts: [reviews]
        http:
        - match: [{sourceLabels: {app: productpage}}]
          route: [{destination: {host: reviews, port: {number: 9080}}}]
          timeout: 3s
        - route: [{destination: {host: reviews, port: {number: 9080}}}]
        tcp:
        - match: [{sourceLabels: {app: productpage}}]
          route: [{destination: {host: reviews, port: {number: 3306}}, weight: 50},
                  {destination: {host: ratings.default.svc.cluster.local, port: {number: 3306}}, weight: 50}]
      ---
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: {name: productpage-only, namespace: default}
      spec:
        selector: {matchLabels: {app: productpage}}
        action: DENY
        rules: [{from: [{source: {namespaces: [other]}}]}]
      ---
      """;

  /** Network-2's east-west gateway, as NetworksViewTest declares it, ended for concatenation. */
  static final String EASTWEST_GATEWAY = NetworksViewTest.EASTWEST_GATEWAY + "---\n";

  static Proxy proxy(String kind, boolean proxyless, String namespace, String clusterId, String network,
      Map<String, String> labels, String serviceAccount, Locality locality) {
    return new Proxy(kind + "~10.9.0.1~client." + namespace + "~" + namespace + ".svc.cluster.local", kind, "10.9.0.1",
        "client", namespace, clusterId, network, labels, serviceAccount, locality, proxyless,
        namespace + ".svc.cluster.local");
  }

  static final Proxy BASE = proxy("sidecar", false, "default", "cluster1", "network-1", Map.of("app", "productpage"),
      "productpage", new Locality("region-1", "zone-1", ""));

  /** Each differs from {@link #BASE} in one attribute. */
  static Map<String, Proxy> variants() {
    Map<String, Proxy> out = new LinkedHashMap<>();
    Locality zone1 = BASE.locality();
    out.put("network", proxy("sidecar", false, "default", "cluster1", "network-2", BASE.labels(), "productpage", zone1));
    out.put("locality", proxy("sidecar", false, "default", "cluster1", "network-1", BASE.labels(), "productpage",
        new Locality("region-1", "zone-2", "")));
    out.put("namespace", proxy("sidecar", false, "other", "cluster1", "network-1", BASE.labels(), "productpage", zone1));
    out.put("labels", proxy("sidecar", false, "default", "cluster1", "network-1", Map.of("app", "details"),
        "productpage", zone1));
    out.put("service account", proxy("sidecar", false, "default", "cluster1", "network-1", BASE.labels(), "details",
        zone1));
    out.put("cluster id", proxy("sidecar", false, "default", "cluster2", "network-1", BASE.labels(), "productpage",
        zone1));
    out.put("proxy type: router", proxy("router", false, "default", "cluster1", "network-1", BASE.labels(),
        "productpage", zone1));
    out.put("proxy type: proxyless", proxy("sidecar", true, "default", "cluster1", "network-1", BASE.labels(),
        "productpage", zone1));
    out.put("requested network view", new Proxy(BASE.id(), BASE.kind(), BASE.ip(), BASE.podName(), BASE.namespace(),
        BASE.clusterId(), BASE.network(), BASE.labels(), BASE.serviceAccount(), BASE.locality(), false,
        BASE.dnsDomain(), false, List.of("network-1")));
    out.put("destination rule", proxy("sidecar", false, "default", "cluster1", "network-1",
        Map.of("app", "productpage", "version", "canary"), "productpage", zone1));
    return out;
  }

  /** Every resource of every type a proxy of this kind asks for, by type, with its bytes. */
  static Map<String, Map<String, String>> everything(Generators generators, MeshSnapshot snapshot, Proxy p) {
    Map<String, Map<String, String>> out = new TreeMap<>();
    var view = generators.view(snapshot, p);
    String target = "reviews" + SUFFIX + ":9080";
    out.put("CDS", bytes(generators.generateAll(TypeUrls.CLUSTER, view)));
    out.put("EDS", bytes(generators.generate(TypeUrls.ENDPOINT, view, List.of(REVIEWS))));
    // A full-mesh sidecar's request: every cluster, answered whole from the snapshot's cache.
    List<String> every = new ArrayList<>();
    for (String name : out.get("CDS").keySet()) if (name.startsWith("outbound|")) every.add(name);
    for (int i = 0; every.size() < Generators.MESH_WIDE_FROM + 8; i++) {
      every.add("outbound|9080||absent-" + i + ".default.svc.cluster.local");
    }
    out.put("EDS, every cluster", bytes(generators.generate(TypeUrls.ENDPOINT, view, every)));
    if (p.proxyless()) {
      out.put("LDS", bytes(generators.generate(TypeUrls.LISTENER, view, List.of(target))));
      out.put("RDS", bytes(generators.generate(TypeUrls.ROUTE, view, List.of(target))));
    } else {
      out.put("LDS", bytes(generators.generateAll(TypeUrls.LISTENER, view)));
      out.put("RDS", bytes(generators.generate(TypeUrls.ROUTE, view, List.of("9080", "http.9080"))));
    }
    out.put("dropped", new TreeMap<>(view.dropped()));
    return out;
  }

  static Map<String, String> bytes(Generation g) {
    assertThat(g.failed()).as("generation failed: %s", g.failure()).isFalse();
    Map<String, String> out = new TreeMap<>();
    g.resources().forEach((name, r) -> {
      assertThat(r.hash()).as("hash of %s", name).isEqualTo(Generated.fnv1a(r.resource().getValue()));
      out.put(name, java.util.HexFormat.of().formatHex(r.resource().toByteArray()));
    });
    return out;
  }

  void start() throws Exception {
    mesh = new TestMesh(reviews("10.96.0.10", "10.1.0.1", "network-1", "zone-1")
        + reviews2("10.1.0.2", "network-1", "zone-2") + RULES);
    mesh.apply("cluster2", reviews("10.97.0.10", "10.2.0.1", "network-2", "zone-1") + EASTWEST_GATEWAY, true);
  }

  /** A second pod of reviews in cluster1, in another zone. */
  static String reviews2(String ip, String network, String zone) {
    return """
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: reviews-b, namespace: default, labels: {kubernetes.io/service-name: reviews}}
        addressType: IPv4
        ports: [{name: http, port: 9080}, {name: tcp-db, port: 3306}]
        endpoints:
        - addresses: ["%s"]
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: reviews-b
          namespace: default
          labels: {app: reviews, topology.istio.io/network: %s, topology.kubernetes.io/zone: %s,
                   security.istio.io/tlsMode: istio}
        status: {podIP: %s, phase: Running}
        ---
        """.formatted(ip, network, zone, ip);
  }

  @Test
  void aRequestedNetworkViewLeavesOutOtherNetworksInsteadOfReachingThemThroughTheirGateway() throws Exception {
    start();
    MeshSnapshot snapshot = mesh.registry.current();
    Generators generators = new Generators(false, GeneratorProbe.NONE, true);
    Proxy onlyNetwork1 = variants().get("requested network view");

    List<String> everyNetwork = addresses(generators, snapshot, BASE);
    var view = generators.view(snapshot, onlyNetwork1);
    List<String> network1 = addresses(generators, snapshot, onlyNetwork1);

    assertThat(everyNetwork).contains("10.1.0.1", "10.1.0.2").hasSizeGreaterThan(2); // and network-2's gateway
    assertThat(network1).containsExactlyInAnyOrder("10.1.0.1", "10.1.0.2");
    generators.generate(TypeUrls.ENDPOINT, view, List.of(REVIEWS));
    assertThat(view.dropped().get(REVIEWS)).contains("REQUESTED_NETWORK_VIEW [network-1]");
  }

  static List<String> addresses(Generators generators, MeshSnapshot snapshot, Proxy p) throws Exception {
    Generation g = generators.generate(TypeUrls.ENDPOINT, generators.view(snapshot, p), List.of(REVIEWS));
    var cla = g.resources().get(REVIEWS).resource()
        .unpack(io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment.class);
    List<String> out = new ArrayList<>();
    cla.getEndpointsList().forEach(l -> l.getLbEndpointsList().forEach(
        e -> out.add(e.getEndpoint().getAddress().getSocketAddress().getAddress())));
    return out;
  }

  @Test
  void proxiesThatDifferInOneAttributeNeverReceiveEachOthersCachedResources() throws Exception {
    start();
    MeshSnapshot snapshot = mesh.registry.current();
    Map<String, Map<String, String>> base = everything(new Generators(false, GeneratorProbe.NONE, false), snapshot, BASE);
    List<String> differing = new ArrayList<>();
    for (Map.Entry<String, Proxy> v : variants().entrySet()) {
      // One cache, warmed by the base proxy, then asked for the variant.
      Generators shared = new Generators(false, GeneratorProbe.NONE, true);
      assertThat(everything(shared, snapshot, BASE)).as("base proxy from the cache").isEqualTo(base);
      Map<String, Map<String, String>> fresh = everything(new Generators(false, GeneratorProbe.NONE, false),
          snapshot, v.getValue());
      assertThat(everything(shared, snapshot, v.getValue())).as("%s: from a cache warmed by the base proxy", v.getKey())
          .isEqualTo(fresh);
      if (!fresh.equals(base)) differing.add(v.getKey());
    }
    // The table proves something only where the attribute changes the output.
    assertThat(differing).containsExactly("network", "locality", "namespace", "labels", "cluster id",
        "proxy type: router", "proxy type: proxyless", "requested network view", "destination rule");
  }

  @Test
  void proxiesWithEqualKeysShareOneGenerationOfEachPart() throws Exception {
    start();
    MeshSnapshot snapshot = mesh.registry.current();
    Generators generators = new Generators();
    Proxy other = proxy("sidecar", false, "default", "cluster1", "network-1", Map.of("app", "productpage",
        "pod-template-hash", "abc"), "details", BASE.locality());
    var a = generators.view(snapshot, BASE);
    var b = generators.view(snapshot, other);
    for (String type : List.of(TypeUrls.CLUSTER, TypeUrls.LISTENER)) {
      var ga = generators.generateAll(type, a).resources();
      var gb = generators.generateAll(type, b).resources();
      assertThat(gb.get(type.equals(TypeUrls.CLUSTER) ? REVIEWS : "10.96.0.10_3306"))
          .as("one Generated instance for both proxies").isSameAs(ga.get(type.equals(TypeUrls.CLUSTER)
              ? REVIEWS : "10.96.0.10_3306"));
    }
    assertThat(generators.generate(TypeUrls.ENDPOINT, b, List.of(REVIEWS)).resources().get(REVIEWS))
        .isSameAs(generators.generate(TypeUrls.ENDPOINT, a, List.of(REVIEWS)).resources().get(REVIEWS));
    assertThat(generators.generate(TypeUrls.ROUTE, b, List.of("9080")).resources().get("9080"))
        .isSameAs(generators.generate(TypeUrls.ROUTE, a, List.of("9080")).resources().get("9080"));
  }

  @Test
  void cachedOutputIsByteIdenticalToFreshOutputAcrossSnapshotChanges() throws Exception {
    start();
    Generators cached = new Generators(false, GeneratorProbe.NONE, true);
    Generators fresh = new Generators(false, GeneratorProbe.NONE, false);
    mesh.registry.addListener(cached::onSnapshot);
    mesh.registry.addListener(fresh::onSnapshot);
    List<Proxy> proxies = new ArrayList<>(variants().values());
    proxies.add(BASE);
    List<Runnable> changes = List.of(
        () -> { },
        // endpoints of one host
        () -> mesh.apply(reviews2("10.1.0.3", "network-1", "zone-2"), false),
        // a new service
        () -> mesh.apply(TestMesh.service("ratings", "default", 3306, "10.5.0.1"), false),
        // a rule's content
        () -> mesh.apply(RULES.replace("simple: RANDOM", "simple: ROUND_ROBIN").replace("timeout: 3s", "timeout: 5s"),
            false),
        // endpoints in the other cluster
        () -> mesh.apply("cluster2", reviews("10.97.0.10", "10.2.0.2", "network-2", "zone-2"), false),
        // a rule removed
        () -> mesh.delete(new ResourceId("DestinationRule", "default", "reviews-canary-clients")),
        // a service removed
        () -> mesh.delete(new ResourceId("Service", "default", "ratings")));
    for (int i = 0; i < changes.size(); i++) {
      changes.get(i).run();
      MeshSnapshot snapshot = mesh.registry.current();
      for (Proxy p : proxies) {
        // Twice from the cache: once filling it, once reading it.
        Map<String, Map<String, String>> expected = everything(fresh, snapshot, p);
        assertThat(everything(cached, snapshot, p)).as("change %d, proxy %s", i, p).isEqualTo(expected);
        assertThat(everything(cached, snapshot, p)).as("change %d, proxy %s again", i, p).isEqualTo(expected);
      }
    }
  }
}
