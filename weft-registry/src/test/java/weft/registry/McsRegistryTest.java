package weft.registry;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import weft.model.ConfigProblem;
import weft.model.Resource;
import weft.model.ResourceId;
import weft.model.parse.ParsedFile;
import weft.model.parse.ResourceParser;

/** Multi-Cluster Services in the registry: which clusters' endpoints each name has, and export status. */
class McsRegistryTest {
  static final String CLUSTERSET = "reviews.default.svc.clusterset.local";
  static final String LOCAL = "reviews.default.svc.cluster.local";
  final Registry registry = new Registry();

  @BeforeEach
  void clusters() {
    registry.setMcs(new McsSettings(true, true, false, false));
    registry.addCluster(new ClusterSettings("c1", "", "istio-system"), true);
    registry.addCluster(new ClusterSettings("c2", "", "istio-system"), false);
    registry.addCluster(new ClusterSettings("c3", "", "istio-system"), false);
    for (String c : new String[] {"c1", "c2", "c3"}) {
      apply(c, RegistryTest.reviews("10.9" + c.charAt(1) + ".0.1", "v1", "10.0." + c.charAt(1) + ".1"));
    }
  }

  @AfterEach
  void close() {
    registry.close();
  }

  void apply(String cluster, String yaml) {
    ParsedFile parsed = ResourceParser.parse("t.yaml", yaml);
    assertThat(parsed.problems()).noneMatch(p -> p.severity() == ConfigProblem.Severity.ERROR);
    Map<ResourceId, Resource> changes = new HashMap<>();
    parsed.resources().forEach(r -> changes.put(r.id(), r));
    registry.update(cluster, changes, true);
    registry.flush();
  }

  void delete(String cluster, ResourceId id) {
    Map<ResourceId, Resource> changes = new HashMap<>();
    changes.put(id, null);
    registry.update(cluster, changes, false);
    registry.flush();
  }

  static String export(String created) {
    return """
        apiVersion: multicluster.x-k8s.io/v1alpha1
        kind: ServiceExport
        metadata: {name: reviews, namespace: default, creationTimestamp: "%s"}
        """.formatted(created);
  }

  static java.util.Set<String> clustersOf(ServiceView v) {
    java.util.Set<String> out = new java.util.TreeSet<>();
    v.endpoints().forEach(e -> out.add(e.clusterId()));
    return out;
  }

  @Test
  void theClustersetHostHasTheEndpointsOfExportingClustersOnly() {
    assertThat(registry.current().service(CLUSTERSET)).isNull();
    apply("c2", export("2026-01-01T00:00:00Z"));
    apply("c3", export("2026-01-02T00:00:00Z"));
    ServiceView set = registry.current().service(CLUSTERSET);
    assertThat(clustersOf(set)).containsExactly("c2", "c3");
    assertThat(set.service().mcs().clustersetHost()).isTrue();
    assertThat(set.service().addresses()).isEmpty(); // no ServiceImport: the push side allocates
    // The cluster.local host keeps every cluster's endpoints; who may see which is decided per proxy.
    ServiceView local = registry.current().service(LOCAL);
    assertThat(clustersOf(local)).containsExactly("c1", "c2", "c3");
    MeshService.Mcs mcs = local.service().mcs();
    assertThat(mcs.exportedBy()).containsExactly("c2", "c3");
    assertThat(mcs.reaches("c1", "c1")).isTrue();
    assertThat(mcs.reaches("c2", "c1")).isFalse();
    assertThat(mcs.reaches("c1", "c3")).isTrue();
    assertThat(registry.current().mcsExports()).extracting(McsExportStatus::clusterId).containsExactly("c2", "c3");
    assertThat(registry.current().mcsExports()).allMatch(s -> s.valid() && s.conflict() == null);

    delete("c3", new ResourceId("ServiceExport", "default", "reviews"));
    assertThat(clustersOf(registry.current().service(CLUSTERSET))).containsExactly("c2");
    delete("c2", new ResourceId("ServiceExport", "default", "reviews"));
    assertThat(registry.current().service(CLUSTERSET)).isNull();
    assertThat(registry.current().mcsExports()).isEmpty();
  }

  @Test
  void aServiceImportGivesTheVipOfItsCluster() {
    apply("c2", export(""));
    apply("c1", """
        apiVersion: multicluster.x-k8s.io/v1alpha1
        kind: ServiceImport
        metadata: {name: reviews, namespace: default}
        spec: {type: ClusterSetIP, ips: [242.1.0.1], ports: [{name: grpc, port: 9080}]}
        """);
    assertThat(registry.current().service(CLUSTERSET).service().addresses()).containsExactly(Map.entry("c1", "242.1.0.1"));
  }

  @Test
  void differentPortsAreAConflictResolvedByTheOldestExport() {
    apply("c3", export("2026-01-01T00:00:00Z"));
    apply("c2", export("2026-02-01T00:00:00Z"));
    apply("c2", """
        apiVersion: v1
        kind: Service
        metadata: {name: reviews, namespace: default}
        spec:
          selector: {app: reviews}
          clusterIP: 10.92.0.1
          ports: [{name: grpc, port: 9081, targetPort: 8080}]
        """);
    var statuses = registry.current().mcsExports();
    assertThat(statuses).filteredOn(s -> s.clusterId().equals("c2")).singleElement()
        .satisfies(s -> assertThat(s.conflict()).contains("cluster c2").contains("grpc:9081").contains("cluster c3"));
    assertThat(statuses).filteredOn(s -> s.clusterId().equals("c3")).singleElement()
        .satisfies(s -> assertThat(s.conflict()).isNull());
    assertThat(registry.current().service(CLUSTERSET).service().ports()).extracting(MeshService.Port::number)
        .containsExactly(9080);
    assertThat(registry.current().problems()).anySatisfy(p -> assertThat(p.describe())
        .contains("ServiceExport default/reviews").contains("differ"));
  }

  @Test
  void anExportWithoutItsServiceIsNotValidAndExportsNothing() {
    apply("c2", """
        apiVersion: multicluster.x-k8s.io/v1alpha1
        kind: ServiceExport
        metadata: {name: ghost, namespace: default}
        """);
    assertThat(registry.current().service("ghost.default.svc.clusterset.local")).isNull();
    assertThat(registry.current().mcsExports()).singleElement().satisfies(s -> {
      assertThat(s.invalidReason()).isEqualTo("ServiceNotFound");
      assertThat(s.message()).contains("no Service default/ghost in cluster c2");
    });
  }

  @Test
  void withClusterLocalTheClusterLocalHostReachesItsOwnClusterOnly() {
    registry.setMcs(new McsSettings(true, true, true, false));
    apply("c2", export(""));
    registry.flush();
    MeshService.Mcs mcs = registry.current().service(LOCAL).service().mcs();
    assertThat(mcs.ownClusterOnly()).isTrue();
    assertThat(mcs.reaches("c1", "c2")).isFalse();
    assertThat(mcs.reaches("c2", "c2")).isTrue();
    assertThat(registry.current().service(CLUSTERSET).service().mcs().reaches("c1", "c2")).isTrue();
  }

  @Test
  void withMcsOffNothingChanges() {
    registry.setMcs(McsSettings.OFF);
    apply("c2", export(""));
    registry.flush();
    assertThat(registry.current().service(CLUSTERSET)).isNull();
    assertThat(registry.current().service(LOCAL).service().mcs()).isNull();
    assertThat(registry.current().mcsExports()).isEmpty();
  }
}
