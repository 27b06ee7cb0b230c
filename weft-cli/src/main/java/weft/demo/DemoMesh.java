package weft.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The embedded default config the demo writes: one service, three endpoints in two versions. */
final class DemoMesh {
  static final String HOST = "echo.default.svc.cluster.local";
  static final int SERVICE_PORT = 9080;
  static final String[][] WORKLOADS = {
      {"echo-v1-a", "127.0.0.1", "v1"}, {"echo-v1-b", "127.0.0.2", "v1"}, {"echo-v2", "127.0.0.3", "v2"}};

  private DemoMesh() {}

  static void write(Path dir, int targetPort) throws IOException {
    StringBuilder y = new StringBuilder("""
        apiVersion: v1
        kind: Namespace
        metadata:
          name: default
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: echo
          namespace: default
        spec:
          selector:
            app: echo
          clusterIP: 10.96.0.10
          ports:
          - name: grpc
            port: %d
            targetPort: %d
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: echo-abc12
          namespace: default
          labels:
            kubernetes.io/service-name: echo
        addressType: IPv4
        ports:
        - name: grpc
          port: %d
        endpoints:
        """.formatted(SERVICE_PORT, targetPort, targetPort));
    for (String[] w : WORKLOADS) {
      y.append("""
          - addresses: ["%s"]
            conditions: {ready: true}
            targetRef: {kind: Pod, name: %s, namespace: default}
          """.formatted(w[1], w[0]));
    }
    for (String[] w : WORKLOADS) {
      y.append("""
          ---
          apiVersion: v1
          kind: Pod
          metadata:
            name: %s
            namespace: default
            labels: {app: echo, version: %s}
          spec:
            serviceAccountName: echo
          status:
            podIP: %s
            phase: Running
            conditions:
            - {type: Ready, status: "True"}
          """.formatted(w[0], w[2], w[1]));
    }
    Files.writeString(dir.resolve("echo.yaml"), y.toString());
    Files.writeString(dir.resolve("echo-destinationrule.yaml"), """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata:
          name: echo
          namespace: default
        spec:
          host: echo
          subsets:
          - name: v1
            labels: {version: v1}
          - name: v2
            labels: {version: v2}
        """);
  }

  /** Writes (or rewrites) the VirtualService that splits traffic between v1 and v2. */
  static void writeSplit(Path dir, int v1, int v2) throws IOException {
    Path tmp = dir.resolve(".echo-virtualservice.yaml.tmp");
    Files.writeString(tmp, """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: echo
          namespace: default
        spec:
          hosts: [echo]
          http:
          - route:
            - destination: {host: echo, subset: v1}
              weight: %d
            - destination: {host: echo, subset: v2}
              weight: %d
        """.formatted(v1, v2));
    // Rename so the watcher never sees a half-written file.
    Files.move(tmp, dir.resolve("echo-virtualservice.yaml"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }
}
