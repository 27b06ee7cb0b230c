package weft.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;
import weft.xds.TypeUrls;

/**
 * The seed's namespace tenancy: two teams in one mesh keep their Services, VirtualServices,
 * DestinationRules and endpoints to their own namespace ({@code exportTo: "."}); a shared service is
 * seen by both. Every resource a team's sidecar is sent (listeners, clusters, routes, endpoints) is
 * searched for anything of the other team: its namespace, hosts, a header its route matches, its
 * subset, its endpoint address.
 */
class NamespaceTenancyTest {
  final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closeables) c.close();
  }

  @Test
  void aTenantsSidecarIsSentNothingOfTheOtherTenantsUnexportedConfigOrEndpoints() throws Exception {
    Path dir = Files.createTempDirectory("weft-tenancy");
    Files.writeString(dir.resolve("team-a.yaml"), tenant("team-a", "a", "10.10.1.1"));
    Files.writeString(dir.resolve("team-b.yaml"), tenant("team-b", "b", "10.10.2.1"));
    Files.writeString(dir.resolve("shared.yaml"), service("shared", "shared", "10.10.3.1", null));
    ControlPlane cp = ControlPlane.start(ControlPlaneOptions.forConfigDir(dir).withPorts(0, 0));
    closeables.add(cp);

    Map<String, String> a = everything(cp, "team-a", "10.10.1.9");
    Map<String, String> b = everything(cp, "team-b", "10.10.2.9");
    assertThat(a.keySet()).contains("outbound|80||a.team-a.svc.cluster.local",
        "outbound|80||shared.shared.svc.cluster.local");
    assertThat(b.keySet()).contains("outbound|80||b.team-b.svc.cluster.local",
        "outbound|80||shared.shared.svc.cluster.local");
    assertThat(a.values().stream().filter(x -> x.contains("10.10.3.1"))).as("shared's endpoint reaches team-a")
        .isNotEmpty();
    for (Map.Entry<String, String> r : a.entrySet()) {
      assertThat(r.getValue()).as("team-a's " + r.getKey())
          .doesNotContain("team-b", "b.team-b", "x-only-b", "b-subset", "10.10.2.1");
    }
    for (Map.Entry<String, String> r : b.entrySet()) {
      assertThat(r.getValue()).as("team-b's " + r.getKey())
          .doesNotContain("team-a", "a.team-a", "x-only-a", "a-subset", "10.10.1.1");
    }
  }

  /**
   * Listeners and clusters (wildcard), the outbound route table of port 80 and every EDS cluster's
   * endpoints, as sent to a sidecar of {@code namespace}: name to the resource's bytes as text.
   */
  Map<String, String> everything(ControlPlane cp, String namespace, String ip) {
    AdsStream s = new AdsStream(cp.xdsPort(), AdsStream.node("app-1", namespace, ip, "cluster1", "", "", false));
    closeables.add(0, s);
    s.request(TypeUrls.CLUSTER);
    s.request(TypeUrls.LISTENER);
    await().atMost(Duration.ofSeconds(60)).until(() -> s.all(TypeUrls.CLUSTER).keySet().stream()
        .anyMatch(n -> n.endsWith("shared.shared.svc.cluster.local")) && !s.all(TypeUrls.LISTENER).isEmpty());
    List<String> eds = new ArrayList<>();
    for (Any c : s.all(TypeUrls.CLUSTER).values()) {
      Cluster cluster = unpack(c, Cluster.class);
      if (cluster.getType() == Cluster.DiscoveryType.EDS) eds.add(cluster.getName());
    }
    s.request(TypeUrls.ENDPOINT, eds.toArray(String[]::new));
    s.request(TypeUrls.ROUTE, "80");
    await().atMost(Duration.ofSeconds(60)).until(() -> s.all(TypeUrls.ENDPOINT).keySet().containsAll(eds)
        && s.all(TypeUrls.ROUTE).containsKey("80"));
    Map<String, String> out = new java.util.TreeMap<>();
    for (String type : List.of(TypeUrls.LISTENER, TypeUrls.CLUSTER, TypeUrls.ROUTE, TypeUrls.ENDPOINT)) {
      s.all(type).forEach((name, any) -> out.merge(name, any.getValue().toStringUtf8(), String::concat));
    }
    return out;
  }

  static <T extends com.google.protobuf.Message> T unpack(Any a, Class<T> type) {
    try {
      return a.unpack(type);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new AssertionError(e);
    }
  }

  /** A team's service, route and policy, all kept to its namespace. */
  static String tenant(String ns, String name, String ip) {
    return service(ns, name, ip, ".") + """
        ---
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: %2$s-routes, namespace: %1$s}
        spec:
          hosts: [%2$s.%1$s.svc.cluster.local, shared.shared.svc.cluster.local]
          exportTo: ["."]
          http:
          - match: [{headers: {x-only-%2$s: {exact: "yes"}}}]
            route: [{destination: {host: %2$s.%1$s.svc.cluster.local, subset: %2$s-subset}}]
          - route: [{destination: {host: shared.shared.svc.cluster.local}}]
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: %2$s-rule, namespace: %1$s}
        spec:
          host: %2$s.%1$s.svc.cluster.local
          exportTo: ["."]
          subsets: [{name: %2$s-subset, labels: {app: %2$s}}]
        """.formatted(ns, name);
  }

  static String service(String ns, String name, String ip, String exportTo) {
    return """
        apiVersion: v1
        kind: Service
        metadata:
          name: %2$s
          namespace: %1$s
          annotations: {%4$s}
        spec:
          selector: {app: %2$s}
          clusterIP: %5$s
          ports: [{name: http, port: 80, targetPort: 8080}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: %2$s-1, namespace: %1$s, labels: {kubernetes.io/service-name: %2$s}}
        addressType: IPv4
        ports: [{name: http, port: 8080}]
        endpoints:
        - addresses: ["%3$s"]
        """.formatted(ns, name, ip, exportTo == null ? "" : "networking.istio.io/exportTo: \"" + exportTo + "\"",
        ip.replace("10.10.", "10.96."));
  }
}
