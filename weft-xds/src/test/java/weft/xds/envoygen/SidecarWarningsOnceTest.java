package weft.xds.envoygen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import weft.model.ConfigProblem;
import weft.model.ResourceId;
import weft.registry.ClusterSettings;
import weft.registry.Locality;
import weft.registry.Registry;
import weft.registry.file.FileClusterSource;
import weft.xds.proxy.Proxy;
import weft.xds.view.ProxyView;

/**
 * What the Sidecar's fields cannot do for some proxies is said once per field, against the resource,
 * in the snapshot's problems (what {@code weft status}, the config problems page and the
 * {@code weft_config_warnings} gauge count): not once per proxy that uses it, nor once per push.
 */
class SidecarWarningsOnceTest {
  @TempDir
  Path dir;

  @Test
  void eachNotFullyHonouredFieldIsOneWarningWhateverTheProxiesAndPushes() throws Exception {
    Files.writeString(dir.resolve("mesh.yaml"), SidecarResourceTest.SERVICES + """
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: shop-default, namespace: shop}
        spec:
          egress:
          - port: {number: 8080, protocol: HTTP, name: http}
            bind: 127.0.0.5
            hosts: ["./*"]
          - hosts: ["other/*"]
          ingress:
          - port: {number: 9080, protocol: HTTP, name: http}
            defaultEndpoint: 127.0.0.1:8080
            tls: {mode: SIMPLE, serverCertificate: /etc/cert.pem, privateKey: /etc/key.pem}
          inboundConnectionPool: {tcp: {maxConnections: 5}}
          outboundTrafficPolicy: {mode: REGISTRY_ONLY}
        """);
    ResourceId sidecar = new ResourceId("Sidecar", "shop", "shop-default");
    try (Registry registry = new Registry()) {
      registry.addCluster(new ClusterSettings("cluster1", "network1", "istio-system"), true);
      FileClusterSource source = new FileClusterSource(dir, "cluster1", registry);
      try {
        source.start();
        registry.flush();
        await().atMost(Duration.ofSeconds(60)).until(() -> registry.current().problems().stream()
            .anyMatch(p -> sidecar.equals(p.resource())));
        List<String> before = fields(registry, sidecar);
        assertThat(before).containsExactlyInAnyOrder("spec.egress[0].port", "spec.egress[0].bind",
            "spec.ingress[0].tls", "spec.ingress", "spec.inboundConnectionPool", "spec.outboundTrafficPolicy");

        // Three proxies of the namespace, Envoy and proxyless, each generated for twice, with a push between.
        for (int round = 0; round < 2; round++) {
          for (int i = 1; i <= 3; i++) {
            ProxyView view = new ProxyView(registry.current(), new Proxy("sidecar~10.1.9." + i + "~c" + i
                + ".shop~shop.svc.cluster.local", "sidecar", "10.1.9." + i, "c" + i, "shop", "cluster1", "network1",
                Map.of("app", "c" + i), "default", Locality.UNKNOWN, i == 3, "shop.svc.cluster.local"));
            EnvoyListeners.all(view);
            EnvoyClusters.all(view);
            EnvoyRoutes.generate(view, "8080");
          }
          Files.writeString(dir.resolve("other.yaml"), """
              apiVersion: v1
              kind: Service
              metadata: {name: extra%d, namespace: other}
              spec: {clusterIP: 10.96.3.%d, ports: [{name: http, port: 80}]}
              """.formatted(round, round + 1));
          int r = round;
          await().atMost(Duration.ofSeconds(60)).until(() ->
              registry.current().service("extra" + r + ".other.svc.cluster.local") != null);
        }
        assertThat(fields(registry, sidecar)).containsExactlyInAnyOrderElementsOf(before);
        assertThat(registry.current().problems().stream().filter(p -> sidecar.equals(p.resource()))
            .map(ConfigProblem::message))
            .allSatisfy(m -> assertThat(m).doesNotContain("Istio does not").doesNotContain("not supported by Istio"));
      } finally {
        source.close();
      }
    }
  }

  private static List<String> fields(Registry registry, ResourceId id) {
    return registry.current().problems().stream()
        .filter(p -> id.equals(p.resource()) && p.severity() == ConfigProblem.Severity.WARNING)
        .map(ConfigProblem::field).toList();
  }
}
