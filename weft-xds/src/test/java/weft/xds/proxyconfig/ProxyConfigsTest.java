package weft.xds.proxyconfig;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import weft.model.ProxyConfig;
import weft.model.parse.ParsedFile;
import weft.model.parse.ResourceParser;

/** ProxyConfig scopes merge as Istio merges them: mesh (root namespace), namespace, workload. */
class ProxyConfigsTest {
  static final String YAML = """
      apiVersion: networking.istio.io/v1beta1
      kind: ProxyConfig
      metadata: {name: mesh, namespace: istio-system}
      spec:
        concurrency: 0
        environmentVariables: {LOG_LEVEL: info, REGION: eu}
      ---
      apiVersion: networking.istio.io/v1beta1
      kind: ProxyConfig
      metadata: {name: shop, namespace: shop}
      spec:
        image: {imageType: distroless}
        environmentVariables: {LOG_LEVEL: debug}
      ---
      apiVersion: networking.istio.io/v1beta1
      kind: ProxyConfig
      metadata: {name: cart, namespace: shop}
      spec:
        selector: {matchLabels: {app: cart}}
        concurrency: 2
      ---
      apiVersion: networking.istio.io/v1beta1
      kind: ProxyConfig
      metadata: {name: elsewhere, namespace: other}
      spec:
        selector: {matchLabels: {app: cart}}
        concurrency: 8
      """;

  static List<ProxyConfig> all() {
    ParsedFile f = ResourceParser.parse("pc.yaml", YAML);
    assertThat(f.problems()).isEmpty();
    return f.resources().stream().map(ProxyConfig.class::cast)
        .sorted(java.util.Comparator.comparing(ProxyConfig::id)).toList();
  }

  @Test
  void aSelectedWorkloadTakesEachFieldFromTheMostSpecificScopeThatSetsIt() {
    EffectiveProxyConfig e = ProxyConfigs.effective(all(), "istio-system", "shop", Map.of("app", "cart"));
    assertThat(e.concurrency()).isEqualTo(2);
    assertThat(e.image()).isEqualTo("distroless");
    assertThat(e.environmentVariables()).containsExactly(Map.entry("LOG_LEVEL", "debug"), Map.entry("REGION", "eu"));
    assertThat(e.sources()).containsExactly("istio-system/mesh", "shop/shop", "shop/cart");
  }

  @Test
  void anotherWorkloadOfTheNamespaceGetsTheNamespaceAndMeshSettings() {
    EffectiveProxyConfig e = ProxyConfigs.effective(all(), "istio-system", "shop", Map.of("app", "web"));
    assertThat(e.concurrency()).isZero();
    assertThat(e.sources()).containsExactly("istio-system/mesh", "shop/shop");
  }

  @Test
  void aSelectorInAnotherNamespaceNeverApplies() {
    EffectiveProxyConfig e = ProxyConfigs.effective(all(), "istio-system", "default", Map.of("app", "cart"));
    assertThat(e.concurrency()).isZero();
    assertThat(e.image()).isNull();
    assertThat(e.sources()).containsExactly("istio-system/mesh");
  }

  @Test
  void withoutProxyConfigsNothingIsSet() {
    assertThat(ProxyConfigs.effective(List.of(), "istio-system", "shop", Map.of())).isEqualTo(EffectiveProxyConfig.NONE);
  }
}
