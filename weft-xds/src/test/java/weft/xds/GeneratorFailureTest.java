package weft.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A generator that throws for a proxy sends nothing of its type: the proxy keeps everything it
 * has, the failure is counted in {@code weft_xds_internal_errors} and shown for the proxy, and
 * once the fault is gone the next change delivers. Each generator fails in turn, for Envoy-style
 * and proxyless clients over State of the World and Delta, on real streams.
 */
class GeneratorFailureTest {
  static final Duration LIVENESS = Duration.ofSeconds(60);
  static final String SUFFIX = ".default.svc.cluster.local";
  static final String REVIEWS = "outbound|9080||reviews" + SUFFIX;
  static final String RATINGS = "outbound|9080||ratings" + SUFFIX;
  static final String EXTRA = "outbound|9080||extra" + SUFFIX;
  static final String EXTRA2 = "outbound|9080||extra2" + SUFFIX;

  /** A service on two ports with a virtual IP, so that Envoy gets a TCP listener of its own for it. */
  static final String EXTRA2_YAML = """
      apiVersion: v1
      kind: Service
      metadata: {name: extra2, namespace: default}
      spec:
        clusterIP: 10.96.9.9
        ports: [{name: grpc, port: 9080}, {name: tcp-db, port: 3306}]
      ---
      apiVersion: discovery.k8s.io/v1
      kind: EndpointSlice
      metadata: {name: extra2-1, namespace: default, labels: {kubernetes.io/service-name: extra2}}
      addressType: IPv4
      ports: [{name: grpc, port: 9080}, {name: tcp-db, port: 3306}]
      endpoints:
      - addresses: ["10.4.0.1"]
      ---
      """;

  static Stream<Arguments> cases() {
    List<Arguments> out = new ArrayList<>();
    for (boolean proxyless : new boolean[] {false, true}) {
      for (String type : TypeUrls.PUSH_ORDER) {
        // SDS is generated again only when a Secret changes, which this scenario's service changes
        // are not; its generation runs in the same guard (Generators.generate).
        if (type.equals(TypeUrls.SECRET)) continue;
        for (HoldingClient.Wire wire : HoldingClient.Wire.values()) {
          out.add(Arguments.of(Generators.generatorName(type, proxyless), type, proxyless, wire));
        }
      }
    }
    return out.stream();
  }

  @ParameterizedTest(name = "{0} over {3}")
  @MethodSource("cases")
  void failingGeneratorCostsTheProxyNothingAndTheNextChangeDelivers(String generator, String type, boolean proxyless,
      HoldingClient.Wire wire) throws Exception {
    AtomicReference<String> failing = new AtomicReference<>();
    GeneratorProbe probe = g -> {
      if (g.equals(failing.get())) throw new IllegalStateException("injected failure in " + g);
    };
    String mesh0 = TestMesh.service("reviews", "default", 9080, "10.1.0.1", "10.1.0.2")
        + TestMesh.service("ratings", "default", 9080, "10.2.0.1");
    try (TestMesh mesh = new TestMesh(mesh0, new Generators(false, probe, true));
        HoldingClient client = new HoldingClient(mesh.port(), node(proxyless), wire)) {
      Map<String, List<String>> names = initialNames(proxyless);
      names.forEach(client::subscribe);
      await().atMost(LIVENESS).until(() -> synced(client, names));
      Map<String, Any> before = client.held(type);

      failing.set(generator);
      mesh.apply(TestMesh.service("extra", "default", 9080, "10.3.0.1"), false);
      await().atMost(LIVENESS).until(() -> internalErrors(mesh, type) >= 1);
      // The proxy also asks for the new service while the fault lasts: refused the same way.
      subscribeExtra(client, names, proxyless);
      await().atMost(LIVENESS).until(() -> mesh.ads.proxyStatus().toString()
          .contains("internal error while generating " + TypeUrls.shortName(type)));
      assertThat(client.held(type)).as("what the proxy holds of the failing type").isEqualTo(before);

      failing.set(null);
      mesh.apply(EXTRA2_YAML + TestMesh.service("reviews", "default", 9080, "10.1.0.1", "10.1.0.2", "10.1.0.3"),
          false);
      await().atMost(LIVENESS).until(() -> recovered(client.held(type), type, proxyless));
      assertThat(client.held(type).keySet()).containsAll(before.keySet());
      assertThat(client.removals()).as("responses that took something away").isEmpty();
      assertThat(internalErrors(mesh, type)).isGreaterThanOrEqualTo(1.0);
    }
  }

  /** The client proxies DNS, so that it is sent a name table too. */
  static Node node(boolean proxyless) {
    Struct.Builder md = Struct.newBuilder()
        .putFields("NAMESPACE", Value.newBuilder().setStringValue("default").build())
        .putFields("CLUSTER_ID", Value.newBuilder().setStringValue("cluster1").build())
        .putFields("DNS_CAPTURE", Value.newBuilder().setStringValue("true").build());
    if (proxyless) md.putFields("GENERATOR", Value.newBuilder().setStringValue("grpc").build());
    return Node.newBuilder().setId("sidecar~10.9.0.1~client-1.default~default.svc.cluster.local")
        .setMetadata(md).build();
  }

  static Map<String, List<String>> initialNames(boolean proxyless) {
    Map<String, List<String>> names = new java.util.LinkedHashMap<>();
    if (proxyless) {
      List<String> targets = List.of("reviews" + SUFFIX + ":9080", "ratings" + SUFFIX + ":9080");
      names.put(TypeUrls.LISTENER, targets);
      names.put(TypeUrls.ROUTE, targets);
      names.put(TypeUrls.CLUSTER, List.of(REVIEWS, RATINGS));
    } else {
      names.put(TypeUrls.LISTENER, List.of());
      names.put(TypeUrls.ROUTE, List.of("9080"));
      names.put(TypeUrls.CLUSTER, List.of());
    }
    names.put(TypeUrls.ENDPOINT, List.of(REVIEWS, RATINGS));
    names.put(TypeUrls.NAME_TABLE, List.of());
    return names;
  }

  static void subscribeExtra(HoldingClient client, Map<String, List<String>> names, boolean proxyless) {
    if (proxyless) {
      add(client, names, TypeUrls.LISTENER, "extra" + SUFFIX + ":9080");
      add(client, names, TypeUrls.ROUTE, "extra" + SUFFIX + ":9080");
      add(client, names, TypeUrls.CLUSTER, EXTRA);
    }
    add(client, names, TypeUrls.ENDPOINT, EXTRA);
  }

  private static void add(HoldingClient client, Map<String, List<String>> names, String type, String name) {
    List<String> now = new ArrayList<>(names.get(type));
    now.add(name);
    names.put(type, now);
    client.subscribe(type, now);
  }

  /** Every type arrived with what was asked for (for a wildcard, the two services' clusters and the HTTP port). */
  static boolean synced(HoldingClient client, Map<String, List<String>> names) {
    for (Map.Entry<String, List<String>> e : names.entrySet()) {
      List<String> want = !e.getValue().isEmpty() ? e.getValue()
          : e.getKey().equals(TypeUrls.CLUSTER) ? List.of(REVIEWS, RATINGS)
          : e.getKey().equals(TypeUrls.NAME_TABLE) ? List.of(weft.xds.nds.NameTables.RESOURCE_NAME)
          : List.of("0.0.0.0_9080");
      if (!client.held(e.getKey()).keySet().containsAll(want)) return false;
    }
    return true;
  }

  /** The second change reached the proxy in the type that failed before. */
  static boolean recovered(Map<String, Any> held, String type, boolean proxyless) throws InvalidProtocolBufferException {
    return switch (type) {
      case TypeUrls.CLUSTER -> held.containsKey(proxyless ? EXTRA : EXTRA2);
      case TypeUrls.LISTENER -> held.containsKey(proxyless ? "extra" + SUFFIX + ":9080" : "10.96.9.9_3306");
      case TypeUrls.ROUTE -> proxyless ? held.containsKey("extra" + SUFFIX + ":9080")
          : held.containsKey("9080") && held.get("9080").unpack(RouteConfiguration.class).getVirtualHostsList().stream()
              .map(VirtualHost::getName).anyMatch(Predicate.isEqual("extra2" + SUFFIX + ":9080"));
      case TypeUrls.ENDPOINT -> held.containsKey(EXTRA) && held.get(REVIEWS).unpack(ClusterLoadAssignment.class)
          .getEndpointsList().stream().flatMap(l -> l.getLbEndpointsList().stream())
          .anyMatch(e -> e.getEndpoint().getAddress().getSocketAddress().getAddress().equals("10.1.0.3"));
      case TypeUrls.NAME_TABLE -> held.containsKey(weft.xds.nds.NameTables.RESOURCE_NAME)
          && held.get(weft.xds.nds.NameTables.RESOURCE_NAME).unpack(weft.dns.nds.NameTable.class)
              .containsTable("extra2" + SUFFIX);
      default -> throw new AssertionError(type);
    };
  }

  static double internalErrors(TestMesh mesh, String type) {
    var counter = mesh.meters.find("weft_xds_internal_errors").tag("type", TypeUrls.shortName(type)).counter();
    return counter == null ? 0 : counter.count();
  }
}
