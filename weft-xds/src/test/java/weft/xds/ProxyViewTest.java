package weft.xds;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.model.MeshConfig;
import weft.registry.Locality;
import weft.xds.proxy.Proxy;
import weft.xds.view.ProxyView;

/** Tenancy rules that decide what a proxy sees: exportTo, Sidecar egress, mesh defaults. */
class ProxyViewTest {
  static final String SERVICES = TestMesh.service("reviews", "default", 9080, "10.1.0.1")
      + TestMesh.service("ratings", "shop", 9080, "10.2.0.1")
      + TestMesh.service("billing", "finance", 9080, "10.3.0.1");

  TestMesh mesh;

  @AfterEach
  void stop() {
    if (mesh != null) mesh.close();
  }

  ProxyView view(String namespace, Map<String, String> labels) {
    Proxy p = new Proxy("sidecar~10.0.0.9~c." + namespace + "~" + namespace + ".svc.cluster.local", "sidecar",
        "10.0.0.9", "c", namespace, "cluster1", "", labels, "", Locality.UNKNOWN, true, "");
    return new ProxyView(mesh.registry.current(), p);
  }

  @Test
  void sidecarEgressHostsLimitWhatAWorkloadSees() throws Exception {
    mesh = new TestMesh(SERVICES + """
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: default}
        spec:
          egress:
          - hosts: ["./*", "shop/ratings.shop.svc.cluster.local"]
        ---
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: locked, namespace: default}
        spec:
          workloadSelector: {labels: {app: locked}}
          egress:
          - hosts: ["./*"]
        """);
    ProxyView ordinary = view("default", Map.of("app", "web"));
    assertThat(ordinary.service("reviews.default.svc.cluster.local")).isNotNull();
    assertThat(ordinary.service("ratings.shop.svc.cluster.local")).isNotNull();
    assertThat(ordinary.service("billing.finance.svc.cluster.local")).isNull();
    assertThat(ordinary.dropped().get("billing.finance.svc.cluster.local")).contains("egress hosts of Sidecar default/default");
    ProxyView locked = view("default", Map.of("app", "locked"));
    assertThat(locked.service("ratings.shop.svc.cluster.local")).isNull();
    assertThat(view("shop", Map.of()).service("billing.finance.svc.cluster.local")).as("other namespaces unaffected").isNotNull();
  }

  @Test
  void tildeEntriesExcludeHostsThatOtherEntriesImport() throws Exception {
    mesh = new TestMesh(SERVICES + """
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: default}
        spec:
          egress:
          - hosts: ["*/*", "~finance/*", "~/ratings.shop.svc.cluster.local"]
        """);
    ProxyView v = view("default", Map.of());
    assertThat(v.service("reviews.default.svc.cluster.local")).isNotNull();
    assertThat(v.service("billing.finance.svc.cluster.local")).as("~finance/* excludes the namespace").isNull();
    assertThat(v.service("ratings.shop.svc.cluster.local")).as("~/host excludes it in every namespace").isNull();
  }

  @Test
  void aPartialWildcardEgressHostCoversHostsEndingWithItsSuffix() throws Exception {
    mesh = new TestMesh(SERVICES + """
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: default}
        spec:
          egress:
          - hosts: ["*/*ings.shop.svc.cluster.local"]
        """);
    ProxyView v = view("default", Map.of());
    assertThat(v.service("ratings.shop.svc.cluster.local")).isNotNull();
    assertThat(v.service("reviews.default.svc.cluster.local")).isNull();
  }

  @Test
  void rootNamespaceSidecarAppliesWhereANamespaceHasNone() throws Exception {
    mesh = new TestMesh(SERVICES + """
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: default, namespace: istio-system}
        spec:
          egress:
          - hosts: ["./*"]
        """);
    assertThat(view("shop", Map.of()).service("ratings.shop.svc.cluster.local")).isNull();
    assertThat(view("shop", Map.of()).service("reviews.default.svc.cluster.local")).isNull();
  }

  @Test
  void virtualServiceAndDestinationRuleExportToHideThemFromOtherNamespaces() throws Exception {
    mesh = new TestMesh(SERVICES + """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews, namespace: default}
        spec:
          hosts: [reviews]
          exportTo: ["."]
          http:
          - route:
            - destination: {host: reviews}
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: reviews, namespace: default}
        spec:
          host: reviews
          exportTo: ["."]
          trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}
        """);
    String host = "reviews.default.svc.cluster.local";
    assertThat(view("default", Map.of()).virtualService(host)).isNotNull();
    assertThat(view("default", Map.of()).destinationRule(host)).isNotNull();
    assertThat(view("shop", Map.of()).virtualService(host)).isNull();
    assertThat(view("shop", Map.of()).destinationRule(host)).isNull();
  }

  @Test
  void meshDefaultServiceExportToAppliesToServicesWithoutTheirOwn() throws Exception {
    mesh = new TestMesh(SERVICES);
    MeshConfig d = MeshConfig.defaults();
    mesh.registry.setMeshConfig(new MeshConfig(d.rootNamespace(), d.trustDomain(), List.of(), List.of("."),
        List.of("*"), List.of("*"), null, List.of(), "", List.of()));
    mesh.registry.flush();
    assertThat(view("default", Map.of()).service("ratings.shop.svc.cluster.local")).isNull();
    assertThat(view("shop", Map.of()).service("ratings.shop.svc.cluster.local")).isNotNull();
  }

  @Test
  void proxyNamespaceDestinationRuleWinsOverTheServiceNamespaceOne() throws Exception {
    mesh = new TestMesh(SERVICES + """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: ratings, namespace: shop}
        spec:
          host: ratings.shop.svc.cluster.local
          trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}}
        ---
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: ratings-from-default, namespace: default}
        spec:
          host: ratings.shop.svc.cluster.local
          trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}
        """);
    assertThat(view("default", Map.of()).destinationRule("ratings.shop.svc.cluster.local").id().name())
        .isEqualTo("ratings-from-default");
    assertThat(view("shop", Map.of()).destinationRule("ratings.shop.svc.cluster.local").id().name())
        .isEqualTo("ratings");
  }
}
