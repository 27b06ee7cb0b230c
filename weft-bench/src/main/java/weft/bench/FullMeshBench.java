package weft.bench;

import java.util.HashSet;
import java.util.Set;

/**
 * Istio's default mesh: every proxy is an Envoy sidecar with no Sidecar resource, so it watches
 * every service. N services × E endpoints on disk (spread over C file clusters), S sidecar streams
 * ({@link SotwSidecar}, or {@link DeltaSidecar} with {@code --delta}) each fetching every cluster,
 * every endpoint assignment, every listener and route, then repeated endpoint changes of one
 * service. See {@link StreamRun} for what it measures.
 */
public final class FullMeshBench {
  private FullMeshBench() {}

  public static void main(String[] args) throws Exception {
    Set<String> valued = new HashSet<>(Scenario.VALUE_OPTIONS);
    valued.remove("--watch"); // a sidecar without a Sidecar resource watches everything
    Options o = Options.parse(args, Set.of("--delta", "--trace"), valued);
    StreamRun.run(Scenario.from(o, o.flag("--delta") ? Scenario.Clients.ENVOY_DELTA : Scenario.Clients.ENVOY_SOTW));
    // Stream callbacks run on gRPC's threads; nothing is left to wait for.
    System.exit(0);
  }
}
