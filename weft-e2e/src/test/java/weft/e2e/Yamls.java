package weft.e2e;

/** YAML for scenario tests, written the way users write it. */
final class Yamls {
  private Yamls() {}

  static String service(String name, String namespace, int port, int targetPort, String exportTo) {
    return """
        apiVersion: v1
        kind: Service
        metadata:
          name: %s
          namespace: %s
          annotations: {%s}
        spec:
          selector: {app: %s}
          clusterIP: 10.96.1.%d
          ports:
          - name: grpc
            port: %d
            targetPort: %d
        """.formatted(name, namespace,
        exportTo == null ? "" : "networking.istio.io/exportTo: \"" + exportTo + "\"", name,
        Math.abs(name.hashCode() % 250) + 1, port, targetPort);
  }

  /** One EndpointSlice; each workload is {name, ip, version}. */
  static String endpoints(String service, String namespace, int targetPort, String[]... workloads) {
    StringBuilder y = new StringBuilder("""
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: %s-slice
          namespace: %s
          labels: {kubernetes.io/service-name: %s}
        addressType: IPv4
        ports:
        - name: grpc
          port: %d
        endpoints:
        """.formatted(service, namespace, service, targetPort));
    for (String[] w : workloads) {
      y.append("""
          - addresses: ["%s"]
            conditions: {ready: true}
            targetRef: {kind: Pod, name: %s, namespace: %s}
          """.formatted(w[1], w[0], namespace));
    }
    for (String[] w : workloads) {
      y.append("""
          ---
          apiVersion: v1
          kind: Pod
          metadata:
            name: %s
            namespace: %s
            labels: {app: %s, version: %s}
          spec: {serviceAccountName: %s}
          status:
            podIP: %s
            phase: Running
            conditions: [{type: Ready, status: "True"}]
          """.formatted(w[0], namespace, service, w[2], service, w[1]));
    }
    return y.toString();
  }

  static String subsets(String host, String namespace) {
    return """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: %s, namespace: %s}
        spec:
          host: %s
          subsets:
          - name: v1
            labels: {version: v1}
          - name: v2
            labels: {version: v2}
        """.formatted(host, namespace, host);
  }

  /** A VirtualService for {@code name} in {@code default}, with the given {@code http:} list (indented two spaces). */
  static String virtualService(String name, String http) {
    return """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: %s, namespace: default}
        spec:
          hosts: [%s]
          http:
        """.formatted(name, name) + http;
  }

  /** Weighted split of {@code name} between subsets v1 and v2. */
  static String split(String name, int v1, int v2) {
    return virtualService(name, """
          - route:
            - destination: {host: %s, subset: v1}
              weight: %d
            - destination: {host: %s, subset: v2}
              weight: %d
        """.formatted(name, v1, name, v2));
  }
}
