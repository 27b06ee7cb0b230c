package weft.registry;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.model.Resource;
import weft.model.ResourceId;
import weft.model.parse.ParsedFile;
import weft.model.parse.ResourceParser;

class RegistryTest {
  final Registry registry = new Registry();
  final List<ChangeEvent> events = new ArrayList<>();

  RegistryTest() {
    registry.addListener((s, c) -> events.add(c));
  }

  @AfterEach
  void close() {
    registry.close();
  }

  void apply(String cluster, String yaml) {
    ParsedFile parsed = ResourceParser.parse("t.yaml", yaml);
    assertThat(parsed.problems()).noneMatch(p -> p.severity() == weft.model.ConfigProblem.Severity.ERROR);
    Map<ResourceId, Resource> changes = new HashMap<>();
    parsed.resources().forEach(r -> changes.put(r.id(), r));
    registry.update(cluster, changes, true);
    registry.flush();
  }

  static String reviews(String vip, String podLabel, String... ips) {
    StringBuilder y = new StringBuilder("""
        apiVersion: v1
        kind: Service
        metadata: {name: reviews, namespace: default}
        spec:
          selector: {app: reviews}
          clusterIP: %s
          ports: [{name: grpc, port: 9080, targetPort: 8080}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: reviews-1, namespace: default, labels: {kubernetes.io/service-name: reviews}}
        addressType: IPv4
        ports: [{name: grpc, port: 8080}]
        endpoints:
        """.formatted(vip));
    for (String ip : ips) {
      y.append("- addresses: [\"").append(ip).append("\"]\n  targetRef: {kind: Pod, name: p-")
          .append(ip.replace('.', '-')).append("}\n");
    }
    for (String ip : ips) {
      y.append("""
          ---
          apiVersion: v1
          kind: Pod
          metadata: {name: p-%s, namespace: default, labels: {app: reviews, version: %s}}
          spec: {serviceAccountName: reviews}
          status: {podIP: %s, phase: Running}
          """.formatted(ip.replace('.', '-'), podLabel, ip));
    }
    return y.toString();
  }

  @Test
  void sameHostInTwoClustersIsOneServiceWithPerClusterAddressesAndAllEndpoints() {
    registry.addCluster(new ClusterSettings("c1", "net1", "istio-system"), true);
    registry.addCluster(new ClusterSettings("c2", "net2", "istio-system"), false);
    apply("c1", reviews("10.96.0.1", "v1", "10.1.0.1"));
    apply("c2", reviews("10.97.0.1", "v1", "10.2.0.1", "10.2.0.2"));
    ServiceView view = registry.current().service("reviews.default.svc.cluster.local");
    assertThat(view.service().addresses()).containsEntry("c1", "10.96.0.1").containsEntry("c2", "10.97.0.1");
    assertThat(view.endpoints()).extracting(e -> e.clusterId() + "/" + e.address() + ":" + e.port() + "/" + e.network())
        .containsExactly("c1/10.1.0.1:8080/net1", "c2/10.2.0.1:8080/net2", "c2/10.2.0.2:8080/net2");
    assertThat(view.endpoints()).allMatch(e -> e.servicePort() == 9080 && e.serviceAccount().equals("reviews"));
  }

  @Test
  void endpointOnlyChangeIsReportedAsSuchAndAPortChangeAsAServiceChange() {
    registry.addCluster(new ClusterSettings("c1", "", "istio-system"), true);
    apply("c1", reviews("10.96.0.1", "v1", "10.1.0.1"));
    events.clear();
    apply("c1", reviews("10.96.0.1", "v1", "10.1.0.1", "10.1.0.2"));
    assertThat(events).hasSize(1);
    assertThat(events.get(0).endpointsOnly()).isTrue();
    assertThat(events.get(0).endpointHosts()).containsExactly("reviews.default.svc.cluster.local");
    events.clear();
    apply("c1", reviews("10.96.0.2", "v1", "10.1.0.1", "10.1.0.2"));
    assertThat(events.get(0).serviceHosts()).containsExactly("reviews.default.svc.cluster.local");
  }

  @Test
  void podLabelChangeRebuildsTheServicesThatSelectIt() {
    registry.addCluster(new ClusterSettings("c1", "", "istio-system"), true);
    apply("c1", reviews("10.96.0.1", "v1", "10.1.0.1"));
    apply("c1", reviews("10.96.0.1", "v2", "10.1.0.1"));
    assertThat(registry.current().service("reviews.default.svc.cluster.local").endpoints().get(0).labels())
        .containsEntry("version", "v2");
  }

  @Test
  void unchangedInputPublishesNothing() {
    registry.addCluster(new ClusterSettings("c1", "", "istio-system"), true);
    apply("c1", reviews("10.96.0.1", "v1", "10.1.0.1"));
    long version = registry.current().version();
    events.clear();
    ParsedFile parsed = ResourceParser.parse("t.yaml", reviews("10.96.0.1", "v1", "10.1.0.1"));
    Map<ResourceId, Resource> same = new HashMap<>();
    parsed.resources().forEach(r -> same.put(r.id(), r));
    registry.update("c1", same, false);
    registry.flush();
    assertThat(events).isEmpty();
    assertThat(registry.current().version()).isEqualTo(version);
  }

  @Test
  void exportToAnnotationDotMeansTheServicesOwnNamespace() {
    registry.addCluster(new ClusterSettings("c1", "", "istio-system"), true);
    apply("c1", """
        apiVersion: v1
        kind: Service
        metadata:
          name: secret
          namespace: vault
          annotations: {networking.istio.io/exportTo: "., monitoring"}
        spec:
          ports: [{port: 80}]
        """);
    MeshService s = registry.current().service("secret.vault.svc.cluster.local").service();
    assertThat(s.exportTo()).containsExactlyInAnyOrder("vault", "monitoring");
    assertThat(s.exportedTo("default")).isFalse();
  }

  @Test
  void terminatingAndUnreadyEndpointsAreNeverHealthy() {
    registry.addCluster(new ClusterSettings("c1", "", "istio-system"), true);
    apply("c1", """
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: default}
        spec:
          ports: [{name: http, port: 80}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}
        addressType: IPv4
        ports: [{name: http, port: 80}]
        endpoints:
        - addresses: ["10.0.0.1"]
        - addresses: ["10.0.0.2"]
          conditions: {ready: false}
        - addresses: ["10.0.0.3"]
          conditions: {ready: false, serving: true, terminating: true}
        """);
    assertThat(registry.current().service("web.default.svc.cluster.local").endpoints())
        .extracting(e -> e.address() + "=" + e.health())
        .containsExactly("10.0.0.1=HEALTHY", "10.0.0.2=UNHEALTHY", "10.0.0.3=DRAINING");
  }

  @Test
  void staleClusterKeepsServingAndResyncDeletesOnlyWhatIsReallyGone() {
    registry.addCluster(new ClusterSettings("c1", "", "istio-system"), true);
    registry.addCluster(new ClusterSettings("c2", "", "istio-system"), false);
    apply("c1", reviews("10.96.0.1", "v1", "10.1.0.1"));
    apply("c2", reviews("10.97.0.1", "v1", "10.2.0.1", "10.2.0.2"));
    registry.setStale("c2", "API server unreachable: connection refused");
    registry.flush();
    assertThat(registry.current().clusters().get("c2").stale()).isTrue();
    assertThat(registry.current().service("reviews.default.svc.cluster.local").endpoints()).hasSize(3);

    ParsedFile relisted = ResourceParser.parse("t.yaml", reviews("10.97.0.1", "v1", "10.2.0.2"));
    Map<ResourceId, Resource> full = new HashMap<>();
    relisted.resources().forEach(r -> full.put(r.id(), r));
    registry.resync("c2", full);
    registry.setStale("c2", null);
    registry.flush();
    assertThat(registry.current().clusters().get("c2").stale()).isFalse();
    assertThat(registry.current().service("reviews.default.svc.cluster.local").endpoints())
        .extracting(WorkloadEndpoint::address).containsExactly("10.1.0.1", "10.2.0.2");
  }

  @Test
  void removingAClusterWithdrawsItsEndpointsAndOnlyItsOwn() {
    registry.addCluster(new ClusterSettings("c1", "", "istio-system"), true);
    registry.addCluster(new ClusterSettings("c2", "", "istio-system"), false);
    apply("c1", reviews("10.96.0.1", "v1", "10.1.0.1"));
    apply("c2", reviews("10.97.0.1", "v1", "10.2.0.1"));
    registry.removeCluster("c2");
    registry.flush();
    assertThat(registry.current().clusters()).containsOnlyKeys("c1");
    assertThat(registry.current().service("reviews.default.svc.cluster.local").endpoints())
        .extracting(WorkloadEndpoint::clusterId).containsExactly("c1");
  }

  @Test
  void sameAddressInOneNetworkFromTwoClustersIsReportedAndInTwoNetworksIsNot() {
    registry.addCluster(new ClusterSettings("c1", "net1", "istio-system"), true);
    registry.addCluster(new ClusterSettings("c2", "net1", "istio-system"), false);
    registry.addCluster(new ClusterSettings("c3", "net3", "istio-system"), false);
    apply("c1", reviews("10.96.0.1", "v1", "10.1.0.1"));
    apply("c3", reviews("10.98.0.1", "v1", "10.1.0.1"));
    assertThat(registry.current().problems()).isEmpty();
    assertThat(registry.current().service("reviews.default.svc.cluster.local").endpoints()).hasSize(2);
    apply("c2", reviews("10.97.0.1", "v1", "10.1.0.1"));
    assertThat(registry.current().problems()).anySatisfy(p ->
        assertThat(p.message()).contains("10.1.0.1").contains("net1"));
  }
}
