package weft.model.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.model.parse.Yamls.errors;
import static weft.model.parse.Yamls.ids;
import static weft.model.parse.Yamls.only;
import static weft.model.parse.Yamls.parse;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import weft.model.EndpointSlice;
import weft.model.K8sService;
import weft.model.Namespace;
import weft.model.Node;
import weft.model.Pod;
import weft.model.ResourceId;

class KubernetesKindsTest {
  private static final String BOOKINFO = """
      apiVersion: v1
      kind: Service
      metadata:
        name: reviews
        namespace: bookinfo
        labels: {app: reviews, service: reviews}
        annotations: {networking.istio.io/exportTo: "."}
      spec:
        selector: {app: reviews}
        clusterIP: 10.96.12.7
        ports:
        - name: http
          port: 9080
          targetPort: 9080
        - name: grpc
          port: "9090"
          protocol: TCP
          appProtocol: grpc
          targetPort: grpc-port
        - name: metrics
          port: 15020
      ---
      apiVersion: discovery.k8s.io/v1
      kind: EndpointSlice
      metadata:
        name: reviews-abc12
        namespace: bookinfo
        labels:
          kubernetes.io/service-name: reviews
      addressType: IPv4
      ports:
      - name: http
        port: 9080
        protocol: TCP
      - name: ""
        port: 15020
      endpoints:
      - addresses: [10.1.0.4]
        conditions: {ready: true, serving: true, terminating: false}
        nodeName: node-a
        zone: us-east-1a
        targetRef: {kind: Pod, name: reviews-v1-5d9f8, namespace: bookinfo}
      - addresses: [10.1.0.5]
      ---
      apiVersion: v1
      kind: Pod
      metadata:
        name: reviews-v1-5d9f8
        namespace: bookinfo
        labels: {app: reviews, version: v1}
        annotations: {sidecar.istio.io/status: injected}
      spec:
        serviceAccountName: bookinfo-reviews
        nodeName: node-a
        containers:
        - name: reviews
          image: docker.io/istio/examples-bookinfo-reviews-v1:1.20
      status:
        phase: Running
        podIP: 10.1.0.4
        conditions:
        - type: Initialized
          status: "True"
        - type: Ready
          status: "True"
      """;

  @Test
  void readsServiceEndpointSliceAndPod() {
    ParsedFile f = parse(BOOKINFO);
    assertThat(errors(f)).isEmpty();
    assertThat(ids(f)).containsExactly(new ResourceId("Service", "bookinfo", "reviews"),
        new ResourceId("EndpointSlice", "bookinfo", "reviews-abc12"),
        new ResourceId("Pod", "bookinfo", "reviews-v1-5d9f8"));

    K8sService svc = (K8sService) f.resources().get(0);
    assertThat(svc.labels()).containsEntry("service", "reviews");
    assertThat(svc.annotations()).containsEntry("networking.istio.io/exportTo", ".");
    assertThat(svc.selector()).isEqualTo(Map.of("app", "reviews"));
    assertThat(svc.clusterIp()).isEqualTo("10.96.12.7");
    assertThat(svc.type()).isEqualTo("ClusterIP");
    assertThat(svc.ports()).containsExactly(
        new K8sService.Port("http", 9080, "TCP", null, "9080"),
        new K8sService.Port("grpc", 9090, "TCP", "grpc", "grpc-port"),
        new K8sService.Port("metrics", 15020, "TCP", null, null));

    EndpointSlice slice = (EndpointSlice) f.resources().get(1);
    assertThat(slice.serviceName()).isEqualTo("reviews");
    assertThat(slice.addressType()).isEqualTo("IPv4");
    assertThat(slice.ports()).containsExactly(new EndpointSlice.Port("http", 9080, "TCP"),
        new EndpointSlice.Port("", 15020, "TCP"));
    assertThat(slice.endpoints()).containsExactly(
        new EndpointSlice.Endpoint(List.of("10.1.0.4"), true, true, false, "node-a", "us-east-1a", "reviews-v1-5d9f8"),
        new EndpointSlice.Endpoint(List.of("10.1.0.5"), null, null, null, null, null, null));

    Pod pod = (Pod) f.resources().get(2);
    assertThat(pod).isEqualTo(new Pod(new ResourceId("Pod", "bookinfo", "reviews-v1-5d9f8"),
        Map.of("app", "reviews", "version", "v1"), Map.of("sidecar.istio.io/status", "injected"), "10.1.0.4",
        "bookinfo-reviews", "node-a", "Running", true));
  }

  @Test
  void headlessServiceAndDefaults() {
    K8sService svc = only(parse("""
        apiVersion: v1
        kind: Service
        metadata: {name: db}
        spec:
          clusterIP: None
          ports: [{port: 5432}]
        """), K8sService.class);
    assertThat(svc.id().namespace()).isEqualTo("default");
    assertThat(svc.clusterIp()).isNull();
    assertThat(svc.selector()).isEmpty();
    assertThat(svc.ports()).containsExactly(new K8sService.Port(null, 5432, "TCP", null, null));
  }

  @Test
  void unknownKubernetesFieldsAreNotChecked() {
    K8sService svc = only(parse("""
        apiVersion: v1
        kind: Service
        metadata: {name: lb, namespace: web, uid: 1234, resourceVersion: "7"}
        spec:
          type: LoadBalancer
          externalTrafficPolicy: Local
          sessionAffinity: ClientIP
          ipFamilies: [IPv4]
          ports: [{port: 80, nodePort: 30080}]
        status:
          loadBalancer: {ingress: [{ip: 1.2.3.4}]}
        """), K8sService.class);
    assertThat(svc.type()).isEqualTo("LoadBalancer");
  }

  @Test
  void podReadiness() {
    ParsedFile f = parse("""
        apiVersion: v1
        kind: Pod
        metadata: {name: not-ready}
        spec: {}
        status:
          phase: Running
          podIP: 10.0.0.9
          conditions: [{type: Ready, status: "False"}]
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: hand-written}
        status: {phase: Running, podIP: 10.0.0.10}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: pending}
        status: {phase: Pending}
        """);
    assertThat(errors(f)).isEmpty();
    assertThat(f.resources()).map(r -> ((Pod) r).ready()).containsExactly(false, true, false);
    Pod handWritten = (Pod) f.resources().get(1);
    assertThat(handWritten.serviceAccount()).isEqualTo("default");
    assertThat(handWritten.podIp()).isEqualTo("10.0.0.10");
    assertThat(((Pod) f.resources().get(2)).podIp()).isNull();
  }

  @Test
  void namespacesAndNodesAreClusterScoped() {
    ParsedFile f = parse("""
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: Namespace
          metadata:
            name: bookinfo
            labels: {istio-injection: enabled, topology.istio.io/network: network1}
        - apiVersion: v1
          kind: Node
          metadata:
            name: node-a
            namespace: ignored
            labels:
              topology.kubernetes.io/region: us-east-1
              topology.kubernetes.io/zone: us-east-1a
        """);
    assertThat(errors(f)).isEmpty();
    assertThat(f.resources()).containsExactly(
        new Namespace(new ResourceId("Namespace", "", "bookinfo"),
            Map.of("istio-injection", "enabled", "topology.istio.io/network", "network1")),
        new Node(new ResourceId("Node", "", "node-a"),
            Map.of("topology.kubernetes.io/region", "us-east-1", "topology.kubernetes.io/zone", "us-east-1a")));
  }

  @Test
  void endpointSlicePortWithoutNumberIsIgnoredWithAWarning() {
    ParsedFile f = parse("""
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: all-ports
          labels: {kubernetes.io/service-name: legacy}
        addressType: IPv4
        ports: [{}]
        endpoints: [{addresses: [10.0.0.1]}]
        """);
    EndpointSlice slice = only(f, EndpointSlice.class);
    assertThat(slice.ports()).isEmpty();
    assertThat(Yamls.warnings(f)).singleElement().extracting(p -> p.field()).isEqualTo("ports[0].port");
  }
}
