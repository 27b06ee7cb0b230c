package weft.xds.envoygen;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import weft.xds.Generators;
import weft.xds.TypeUrls;
import weft.xds.proxy.Proxy;
import weft.xds.view.ProxyView;

/**
 * A ProxyConfig that selects a proxy is a finding on it, since no part of Weft applies a process's
 * concurrency, image or environment: never silently dropped, and absent for proxies it does not select.
 */
class ProxyConfigNoteTest {
  static final String YAML = """
      apiVersion: v1
      kind: Service
      metadata: {name: web, namespace: default}
      spec:
        clusterIP: 10.96.0.10
        ports: [{name: http, port: 80, targetPort: 8080}]
        selector: {app: web}
      ---
      apiVersion: networking.istio.io/v1beta1
      kind: ProxyConfig
      metadata: {name: web, namespace: default}
      spec:
        selector: {matchLabels: {app: web}}
        concurrency: 2
        environmentVariables: {ISTIO_META_DNS_CAPTURE: "true"}
      """;

  private static Map<String, String> notes(EnvoyMesh mesh, Proxy proxy) {
    ProxyView view = new ProxyView(mesh.registry.current(), proxy);
    new Generators().generate(TypeUrls.LISTENER, view,
        proxy.proxyless() ? List.of("web.default.svc.cluster.local:80") : List.of());
    return view.dropped();
  }

  @Test
  void aSelectedProxyIsToldWhatItsProxyConfigSetsAndThatNothingAppliesIt() {
    try (EnvoyMesh mesh = new EnvoyMesh(YAML)) {
      Proxy envoy = mesh.sidecar("default", "10.1.0.5", Map.of("app", "web")).proxy();
      assertThat(notes(mesh, envoy)).hasEntrySatisfying("ProxyConfig default/web", note -> assertThat(note)
          .contains("not applied").contains("concurrency 2").contains("ISTIO_META_DNS_CAPTURE")
          .contains("launcher"));
      Proxy proxyless = new Proxy("sidecar~10.1.2.9~web-2.default~default.svc.cluster.local", "sidecar", "10.1.2.9",
          "web-2", "default", "cluster1", "network1", Map.of("app", "web"), "default",
          weft.registry.Locality.UNKNOWN, true, "default.svc.cluster.local");
      assertThat(notes(mesh, proxyless)).hasEntrySatisfying("ProxyConfig default/web", note -> assertThat(note)
          .contains("proxyless"));
      Proxy other = mesh.sidecar("default", "10.1.0.6", Map.of("app", "db")).proxy();
      assertThat(notes(mesh, other)).doesNotContainKey("ProxyConfig default/web");
    }
  }
}
