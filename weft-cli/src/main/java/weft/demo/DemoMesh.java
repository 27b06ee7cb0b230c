package weft.demo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Set;

/**
 * The embedded default config the demo writes: one service, {@code echo}, in two clusters on two
 * networks. Cluster 1 (network-1) runs v1 in two zones of us-east; cluster 2 (network-2) runs v2 in
 * us-west behind an east-west gateway. Every workload takes mTLS.
 */
final class DemoMesh {
  static final String HOST = "echo.default.svc.cluster.local";
  static final int SERVICE_PORT = 9080;
  /** name, address, version, istio-locality label, cluster. */
  static final String[][] WORKLOADS = {
      {"echo-a", "127.0.0.1", "v1", "us-east.zone-a", "cluster1"},
      {"echo-b", "127.0.0.2", "v1", "us-east.zone-b", "cluster1"},
      {"echo-west", "127.0.0.3", "v2", "us-west.zone-c", "cluster2"}};

  private DemoMesh() {}

  static final String GATEWAY_ADDRESS = "127.0.0.4";

  /**
   * Writes each cluster's Service, one EndpointSlice and Pod per workload (each serves on its own
   * port), and network-2's east-west gateway Service.
   */
  static void write(Path cluster1, Path cluster2, Map<String, Integer> ports, int gatewayPort) throws IOException {
    writeWorkloads(cluster1, "cluster1", ports, Set.of());
    writeWorkloads(cluster2, "cluster2", ports, Set.of());
    Files.writeString(cluster2.resolve("eastwest-gateway.yaml"), """
        apiVersion: v1
        kind: Service
        metadata:
          name: istio-eastwestgateway
          namespace: istio-system
          labels: {topology.istio.io/network: network-2, networking.istio.io/gatewayPort: "%d", istio: eastwestgateway}
        spec:
          externalIPs: [%s]
          ports: [{name: tls, port: 15443}]
        """.formatted(gatewayPort, GATEWAY_ADDRESS));
    Files.writeString(cluster1.resolve("eastwest-gateway.yaml"), """
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: cross-network-gateway, namespace: istio-system}
        spec:
          selector: {istio: eastwestgateway}
          servers:
          - port: {number: 15443, name: tls, protocol: TLS}
            tls: {mode: AUTO_PASSTHROUGH}
            hosts: ["*.local"]
        """);
  }

  /**
   * Writes one cluster's Service, EndpointSlices and Pods; the workloads in {@code notReady} are
   * marked not ready, as Kubernetes marks a pod whose server has stopped (and ready again once it
   * serves). That is what lets clients come back to a restarted endpoint at once: without it they
   * only retry it on their own reconnect backoff, which grows with every failed attempt.
   */
  static void writeWorkloads(Path dir, String cluster, Map<String, Integer> ports, Set<String> notReady)
      throws IOException {
    String network = cluster.equals("cluster1") ? "network-1" : "network-2";
    StringBuilder y = new StringBuilder("""
        apiVersion: v1
        kind: Service
        metadata:
          name: echo
          namespace: default
        spec:
          selector: {app: echo}
          clusterIP: 10.96.0.10
          ports:
          - name: grpc
            port: %d
            targetPort: %d
        """.formatted(SERVICE_PORT, SERVICE_PORT));
    for (String[] w : WORKLOADS) {
      if (!w[4].equals(cluster)) continue;
      y.append("""
          ---
          apiVersion: discovery.k8s.io/v1
          kind: EndpointSlice
          metadata:
            name: %s
            namespace: default
            labels: {kubernetes.io/service-name: echo}
          addressType: IPv4
          ports: [{name: grpc, port: %d}]
          endpoints:
          - addresses: ["127.0.0.1"]
            conditions: {ready: %s}
            targetRef: {kind: Pod, name: %s, namespace: default}
          ---
          apiVersion: v1
          kind: Pod
          metadata:
            name: %s
            namespace: default
            labels: {app: echo, version: %s, istio-locality: %s, topology.istio.io/network: %s,
                     security.istio.io/tlsMode: istio}
          spec:
            serviceAccountName: echo
          status:
            podIP: 127.0.0.1
            phase: Running
            conditions:
            - {type: Ready, status: "%s"}
          """.formatted(w[0], ports.get(w[0]), !notReady.contains(w[0]), w[0], w[0], w[2], w[3], network,
              notReady.contains(w[0]) ? "False" : "True"));
    }
    writeAtomically(dir, "echo.yaml", y.toString());
  }

  /** Subsets by version, and optionally outlier detection (which turns on locality failover). */
  static void writeDestinationRule(Path dir, boolean outlierDetection) throws IOException {
    writeAtomically(dir, "echo-destinationrule.yaml", """
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata:
          name: echo
          namespace: default
        spec:
          host: echo
        %s  subsets:
          - name: v1
            labels: {version: v1}
          - name: v2
            labels: {version: v2}
        """.formatted(outlierDetection ? """
          trafficPolicy:
            outlierDetection: {consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 10s}
        """ : ""));
  }

  /** Writes (or rewrites) the VirtualService that splits traffic between v1 and v2. */
  static void writeSplit(Path dir, int v1, int v2) throws IOException {
    writeAtomically(dir, "echo-virtualservice.yaml", """
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
  }

  static void removeSplit(Path dir) throws IOException {
    Files.deleteIfExists(dir.resolve("echo-virtualservice.yaml"));
  }

  /** Rename so the watcher never sees a half-written file. */
  private static void writeAtomically(Path dir, String name, String content) throws IOException {
    Path tmp = dir.resolve("." + name + ".tmp");
    Files.writeString(tmp, content);
    Files.move(tmp, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
