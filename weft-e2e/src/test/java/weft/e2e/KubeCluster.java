package weft.e2e;

import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;
import java.io.IOException;
import java.net.URI;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;

/** One cluster's Kubernetes API: fabric8's CRUD-mode server, reached through a cuttable proxy. */
final class KubeCluster implements AutoCloseable {
  final String id;
  final KubernetesMockServer server;
  final NamespacedKubernetesClient client;
  final TcpProxy proxy;

  KubeCluster(String id) throws IOException {
    this.id = id;
    Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
    server = new KubernetesMockServer(new Context(), new MockWebServer(), responses,
        new KubernetesMixedDispatcher(responses), false);
    server.init();
    client = server.createClient();
    proxy = new TcpProxy(URI.create(client.getMasterUrl().toString()).getPort());
  }

  /** A kubeconfig with everything inline, reaching the API server through the proxy. */
  String kubeconfig(String token) {
    return """
        apiVersion: v1
        kind: Config
        clusters:
        - name: %s
          cluster: {server: "http://127.0.0.1:%d"}
        contexts:
        - name: %s
          context: {cluster: %s, user: reader}
        current-context: %s
        users:
        - name: reader
          user: {token: %s}
        """.formatted(id, proxy.port(), id, id, id, token);
  }

  /** An Istio-format remote Secret for this cluster, as weft create-remote-secret prints it. */
  String remoteSecret(String token) {
    String indented = kubeconfig(token).indent(4);
    return """
        apiVersion: v1
        kind: Secret
        metadata:
          name: istio-remote-secret-%s
          namespace: istio-system
          labels: {istio/multiCluster: "true"}
        stringData:
          %s: |
        %s""".formatted(id, id, indented);
  }

  /** A Service and one EndpointSlice with a ready endpoint per address (pods named after the cluster). */
  void service(String name, String namespace, int port, int targetPort, List<String> addresses) {
    client.services().inNamespace(namespace).resource(new ServiceBuilder()
        .withNewMetadata().withName(name).withNamespace(namespace).endMetadata()
        .withNewSpec().addToSelector("app", name).addNewPort().withName("grpc").withPort(port)
        .withNewTargetPort(targetPort).endPort().endSpec().build()).createOr(r -> r.update());
    endpoints(name, namespace, targetPort, addresses);
  }

  void endpoints(String name, String namespace, int targetPort, List<String> addresses) {
    EndpointSliceBuilder slice = new EndpointSliceBuilder()
        .withNewMetadata().withName(name + "-" + id).withNamespace(namespace)
        .addToLabels("kubernetes.io/service-name", name).endMetadata()
        .withAddressType("IPv4")
        .addNewPort().withName("grpc").withPort(targetPort).endPort();
    for (String a : addresses) {
      String pod = name + "-" + id + "-" + a.replace('.', '-');
      slice.addNewEndpoint().withAddresses(a).withNewConditions().withReady(true).endConditions()
          .withNewTargetRef().withKind("Pod").withName(pod).withNamespace(namespace).endTargetRef().endEndpoint();
      client.pods().inNamespace(namespace).resource(new PodBuilder().withNewMetadata().withName(pod)
          .withNamespace(namespace).addToLabels("app", name).endMetadata()
          .withNewSpec().withServiceAccountName(name).endSpec()
          .withNewStatus().withPodIP(a).withPhase("Running").endStatus().build()).createOr(r -> r.update());
    }
    client.discovery().v1().endpointSlices().inNamespace(namespace).resource(slice.build()).createOr(r -> r.update());
  }

  @Override
  public void close() throws Exception {
    proxy.close();
    client.close();
    server.destroy();
  }
}
