package weft.registry.kube;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.CustomResourceDefinitionContext;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.HashMap;

/**
 * One test cluster: fabric8's CRUD-mode API server, a direct client to change it, and a proxy in
 * front of it that the control plane connects through (so the connection can be cut).
 */
final class MockCluster implements AutoCloseable {
  /** Short timings so that loss, retry and state saving happen within a test's patience. */
  static final Timing FAST = new Timing(Duration.ofMillis(50), Duration.ofMillis(300), Duration.ofSeconds(10),
      Duration.ofMillis(100), Duration.ofMillis(500), Duration.ofMillis(50));

  /** Held strongly: java.util.logging keeps loggers weakly, and the setting would be lost with it. */
  private static final java.util.logging.Logger MOCK_LOG = java.util.logging.Logger.getLogger("io.fabric8.mockwebserver");

  static {
    MOCK_LOG.setLevel(java.util.logging.Level.WARNING); // it logs every request at INFO
  }

  final KubernetesMockServer server;
  final NamespacedKubernetesClient admin;
  final TcpProxy proxy;

  MockCluster() throws IOException {
    server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
        new KubernetesCrudDispatcher(), false);
    server.init(InetAddress.getLoopbackAddress(), 0);
    for (WatchedKind k : WatchedKind.ISTIO_CONFIG) {
      if (!k.istio()) continue; // core kinds (Secret) need no CRD
      server.expectCustomResource(new CustomResourceDefinitionContext.Builder().withGroup(k.group())
          .withVersion(k.version()).withKind(k.kind()).withPlural(k.plural()).withScope("Namespaced")
          .withName(k.plural() + "." + k.group()).build());
    }
    admin = server.createClient();
    proxy = new TcpProxy(server.getPort());
  }

  /** A kubeconfig that reaches this cluster through {@code url} with an inline token. */
  static String kubeconfig(String url, String token) {
    return """
        apiVersion: v1
        kind: Config
        clusters:
        - name: remote
          cluster: {server: "%s"}
        contexts:
        - name: remote
          context: {cluster: remote, user: weft}
        current-context: remote
        users:
        - name: weft
          user: {token: "%s"}
        """.formatted(url, token);
  }

  String kubeconfig(String token) {
    return kubeconfig(proxy.url(), token);
  }

  /** Creates or replaces an object given as YAML. */
  void apply(String yaml) {
    HasMetadata object = admin.getKubernetesSerialization().unmarshal(yaml);
    if (object instanceof GenericKubernetesResource g) {
      var ops = admin.genericKubernetesResources(context(g)).inNamespace(g.getMetadata().getNamespace());
      if (ops.withName(g.getMetadata().getName()).get() == null) ops.resource(g).create(); else ops.resource(g).update();
      return;
    }
    var resource = admin.resource(object);
    if (resource.get() == null) resource.create(); else resource.update();
  }

  void delete(String apiVersion, String kind, String namespace, String name) {
    WatchedKind k = kind(kind);
    admin.genericKubernetesResources(new ResourceDefinitionContext.Builder().withGroup(k.group())
        .withVersion(k.version()).withKind(k.kind()).withPlural(k.plural()).withNamespaced(k.namespaced()).build())
        .inNamespace(namespace).withName(name).delete();
  }

  private static ResourceDefinitionContext context(GenericKubernetesResource g) {
    WatchedKind k = kind(g.getKind());
    return new ResourceDefinitionContext.Builder().withGroup(k.group()).withVersion(k.version()).withKind(k.kind())
        .withPlural(k.plural()).withNamespaced(k.namespaced()).build();
  }

  private static WatchedKind kind(String kind) {
    return WatchedKind.forCluster(true).stream().filter(k -> k.kind().equals(kind)).findFirst().orElseThrow();
  }

  static String service(String name, int port) {
    return """
        apiVersion: v1
        kind: Service
        metadata: {name: %s, namespace: default}
        spec:
          clusterIP: 10.0.0.%d
          selector: {app: %s}
          ports: [{name: grpc, port: %d, targetPort: 8080}]
        """.formatted(name, Math.abs(name.hashCode() % 200) + 1, name, port);
  }

  static String slice(String service, String... ips) {
    StringBuilder y = new StringBuilder("""
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: %s-1
          namespace: default
          labels: {kubernetes.io/service-name: %s}
        addressType: IPv4
        ports: [{name: grpc, port: 8080}]
        endpoints:
        """.formatted(service, service));
    for (String ip : ips) {
      y.append("- addresses: [\"").append(ip).append("\"]\n  conditions: {ready: true}\n");
    }
    if (ips.length == 0) y.append("  []\n");
    return y.toString();
  }

  static String pod(String name, String app, String ip) {
    return """
        apiVersion: v1
        kind: Pod
        metadata: {name: %s, namespace: default, labels: {app: %s}}
        spec: {serviceAccountName: %s, containers: [{name: app, image: app}]}
        status: {podIP: "%s", phase: Running, conditions: [{type: Ready, status: "True"}]}
        """.formatted(name, app, app, ip);
  }

  @Override
  public void close() throws IOException {
    proxy.close();
    admin.close();
    server.destroy();
  }
}
