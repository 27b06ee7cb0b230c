package weft.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A mesh of N services × E endpoints written as one YAML file per service (as a sync tool would
 * write them), spread round-robin over C cluster folders: service {@code s} lives in cluster
 * {@code s % C + 1}. Folder 1 is the control plane's {@code --config-dir}, the others are
 * {@code --remote-config-dir clusterK=DIR}. Addresses are unique across clusters, so no two
 * clusters claim one address in the (single) network.
 */
final class MeshFiles implements AutoCloseable {
  /** Addresses are built from the service index; past this, {@link #endpointIp} would repeat. */
  static final int MAX_SERVICES = 60_000;

  private final Path root;
  private final List<Path> clusterDirs = new ArrayList<>();
  private final int endpoints;
  private final boolean clusterIps;

  /** @param clusterIps give each Service a cluster IP, as Kubernetes does (the first benchmark had none) */
  MeshFiles(int clusters, int endpoints, boolean clusterIps) throws IOException {
    this.root = Files.createTempDirectory("weft-bench");
    this.endpoints = endpoints;
    this.clusterIps = clusterIps;
    for (int c = 1; c <= clusters; c++) clusterDirs.add(Files.createDirectory(root.resolve("cluster" + c)));
  }

  static String clusterId(int cluster) {
    return "cluster" + cluster;
  }

  /** The 1-based cluster a service lives in. */
  int clusterOf(int service) {
    return service % clusterDirs.size() + 1;
  }

  /** Command-line arguments that give the control plane every cluster folder. */
  List<String> controlPlaneArgs() {
    List<String> args = new ArrayList<>(List.of("--config-dir", clusterDirs.get(0).toString(),
        "--cluster-id", clusterId(1)));
    for (int c = 2; c <= clusterDirs.size(); c++) {
      args.addAll(List.of("--remote-config-dir", clusterId(c) + "=" + clusterDirs.get(c - 1)));
    }
    return args;
  }

  static String hostname(int service) {
    return "svc-" + service + ".bench.svc.cluster.local";
  }

  /** The outbound cluster of a service's only port, as Istio names it. */
  static String outboundCluster(int service) {
    return "outbound|8080||" + hostname(service);
  }

  /** Endpoint {@code e} of service {@code s} before any change. */
  static String endpointIp(int s, int e) {
    return "10." + (s / 250) + "." + (s % 250) + "." + (e + 1);
  }

  /** The address change number {@code change} puts in place of a service's first endpoint. */
  static String marker(int change) {
    return "10.255." + (change / 250) + "." + (change % 250 + 1);
  }

  /** Writes service {@code s}; {@code change >= 0} swaps its first endpoint for {@link #marker}. */
  void writeService(int s, int change) throws IOException {
    String clusterIp = clusterIps ? "  clusterIP: 172.16." + (s / 250) + "." + (s % 250 + 1) + "\n" : "";
    StringBuilder y = new StringBuilder("""
        apiVersion: v1
        kind: Service
        metadata: {name: svc-%d, namespace: bench}
        spec:
        %s  ports: [{name: http, port: 8080}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: svc-%d-1, namespace: bench, labels: {kubernetes.io/service-name: svc-%d}}
        addressType: IPv4
        ports: [{name: http, port: 8080}]
        endpoints:
        """.formatted(s, clusterIp, s, s));
    for (int e = 0; e < endpoints; e++) {
      String ip = change >= 0 && e == 0 ? marker(change) : endpointIp(s, e);
      y.append("- addresses: [\"").append(ip).append("\"]\n  conditions: {ready: true}\n");
    }
    Path dir = clusterDirs.get(clusterOf(s) - 1);
    // Written aside and renamed, so the watcher never reads half a file.
    Path tmp = dir.resolve(".svc-" + s + ".tmp");
    Files.writeString(tmp, y.toString());
    Files.move(tmp, dir.resolve("svc-" + s + ".yaml"), StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
  }

  @Override
  public void close() throws IOException {
    try (var files = Files.walk(root)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
    }
  }
}
