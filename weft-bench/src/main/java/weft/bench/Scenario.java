package weft.bench;

import java.util.Set;

/**
 * What one stream benchmark run builds: the mesh on disk, the control plane's heap limit, the
 * clients and the changes. Sizes are checked here so that a run never starts with a mesh the
 * address scheme of {@link MeshFiles} cannot write.
 *
 * @param clients what each stream is
 * @param services services on disk, spread round-robin over {@code clusters} file clusters
 * @param endpoints endpoints per service
 * @param streams ADS streams, each one client
 * @param watch services each proxyless client calls (Envoy sidecars watch every service)
 * @param changes endpoint changes measured, after {@code warmup} ones that are not
 * @param connections TCP connections the streams share; 0 = one per stream, as real proxies have
 *     (fewer only where the file-descriptor limit forces it)
 * @param syncTimeoutSeconds every stream must have synced by then, or the run stops
 * @param controlPlaneHeap the control plane's {@code -Xmx}, e.g. {@code 2g}
 * @param trace print stream 0's exchange (Envoy sidecars only)
 */
record Scenario(Clients clients, int services, int endpoints, int clusters, int streams, int watch, int changes,
    int warmup, int connections, int syncTimeoutSeconds, String controlPlaneHeap, boolean trace) {

  /** The options every stream mode shares, valued; see {@link #from}. */
  static final Set<String> VALUE_OPTIONS = Set.of("--services", "--endpoints", "--streams",
      "--changes", "--warmup", "--clusters", "--watch", "--connections", "--sync-timeout", "--cp-heap");

  /** What a stream is. */
  enum Clients {
    /** A proxyless gRPC client calling {@code watch} services: LDS, RDS, CDS and EDS by name. */
    PROXYLESS,
    /** An Envoy sidecar with no Sidecar resource, State of the World: it watches every service. */
    ENVOY_SOTW,
    /** The same over Delta xDS. */
    ENVOY_DELTA
  }

  Scenario {
    if (services < 1 || services > MeshFiles.MAX_SERVICES || endpoints < 1 || endpoints > 250 || streams < 1
        || streams > 20_000 || changes < 1 || warmup < 0 || changes + warmup > 10_000 || clusters < 1
        || clusters > services || watch < 1 || connections < 0 || syncTimeoutSeconds < 1) {
      throw new IllegalArgumentException("sizes out of range: 1.." + MeshFiles.MAX_SERVICES + " services,"
          + " 1..250 endpoints, 1..20000 streams, 1..services clusters, changes + warm-up up to 10000,"
          + " a positive watch count and sync timeout");
    }
    if (!controlPlaneHeap.matches("\\d+[kmgKMG]?")) {
      throw new IllegalArgumentException("--cp-heap takes a JVM heap size such as 2g or 512m, not " + controlPlaneHeap);
    }
  }

  /** From the command line, with the first benchmark's defaults: 1,000 services × 10 endpoints, 1,000 streams. */
  static Scenario from(Options o, Clients clients) {
    return new Scenario(clients, o.integer("--services", 1000), o.integer("--endpoints", 10),
        o.integer("--clusters", 1), o.integer("--streams", 1000), o.integer("--watch", 10),
        o.integer("--changes", 100), o.integer("--warmup", 30), o.integer("--connections", 0),
        o.integer("--sync-timeout", 600), o.string("--cp-heap", "2g"), o.flag("--trace"));
  }

  Scenario withServices(int n) {
    return new Scenario(clients, n, endpoints, Math.min(clusters, n), streams, watch, changes, warmup, connections,
        syncTimeoutSeconds, controlPlaneHeap, trace);
  }

  Scenario withStreams(int n) {
    return new Scenario(clients, services, endpoints, clusters, n, watch, changes, warmup, connections,
        syncTimeoutSeconds, controlPlaneHeap, trace);
  }

  boolean envoy() {
    return clients != Clients.PROXYLESS;
  }

  /** Services each stream watches. */
  int watched() {
    return envoy() ? services : Math.min(watch, services);
  }

  /** One line saying what this run is. */
  String describe() {
    String what = switch (clients) {
      case PROXYLESS -> String.format("%d proxyless gRPC streams, each calling %d services (LDS, RDS, CDS, EDS"
          + " by name; one service shared by all)", streams, watched());
      case ENVOY_SOTW, ENVOY_DELTA -> String.format("%d Envoy sidecar streams over %s without a Sidecar resource"
          + " (CDS and LDS wildcard, EDS and RDS for everything named)", streams,
          clients == Clients.ENVOY_DELTA ? "Delta xDS" : "State of the World");
    };
    return String.format("%d services x %d endpoints in %d cluster(s), %s", services, endpoints, clusters, what);
  }
}
