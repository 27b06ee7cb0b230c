package weft.bench;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code weft-bench/run sizing}: the figures a user sizes a deployment with, and how they grow.
 * It runs a matrix of {@link StreamRun}s one after another — services growing at a fixed number
 * of streams, then streams growing at a fixed number of services — and prints one markdown table
 * per axis. Each run prints its own full report as it goes; the tables come last, every figure in
 * them from the run on its row.
 *
 * <p>Streams are Envoy sidecars with no Sidecar resource (State of the World, or Delta with
 * {@code --delta}); {@code --watch W} makes them proxyless clients that each call W services.
 */
public final class SizingBench {
  private SizingBench() {}

  public static void main(String[] args) throws Exception {
    Set<String> valued = new HashSet<>(Scenario.VALUE_OPTIONS);
    valued.removeAll(Set.of("--services", "--streams"));
    valued.addAll(Set.of("--services-axis", "--streams-axis", "--fixed-services", "--fixed-streams"));
    Options o = Options.parse(args, Set.of("--delta"), valued);
    boolean proxyless = o.string("--watch", null) != null;
    if (proxyless && o.flag("--delta")) {
      throw new IllegalArgumentException("--delta is for Envoy sidecars; proxyless clients (--watch) speak"
          + " State of the World, as grpc-java does");
    }
    List<Integer> servicesAxis = o.integers("--services-axis", List.of(1_000, 3_000, 10_000));
    List<Integer> streamsAxis = o.integers("--streams-axis", List.of(100, 500, 2_000));
    int fixedStreams = o.integer("--fixed-streams", streamsAxis.get(0));
    int fixedServices = o.integer("--fixed-services", servicesAxis.get(0));
    Scenario.Clients clients = proxyless ? Scenario.Clients.PROXYLESS
        : o.flag("--delta") ? Scenario.Clients.ENVOY_DELTA : Scenario.Clients.ENVOY_SOTW;
    // Fewer changes than a single run's default: each row needs a stable median, not a long tail.
    Scenario base = new Scenario(clients, fixedServices, o.integer("--endpoints", 10), o.integer("--clusters", 1),
        fixedStreams, o.integer("--watch", 100), o.integer("--changes", 30), o.integer("--warmup", 10),
        o.integer("--connections", 0), o.integer("--sync-timeout", 600), o.string("--cp-heap", "2g"), false);

    List<Scenario> byServices = servicesAxis.stream().map(base::withServices).toList();
    List<Scenario> byStreams = streamsAxis.stream().map(base::withStreams).toList();
    // A size on both axes (the corner) runs once.
    Map<Scenario, SizingTable.Row> results = new LinkedHashMap<>();
    List<Scenario> all = new ArrayList<>(byServices);
    all.addAll(byStreams);
    int run = 0;
    int runs = new HashSet<>(all).size();
    for (Scenario sc : all) {
      if (results.containsKey(sc)) continue;
      System.out.printf("%n=== sizing run %d of %d: %,d services, %,d streams ===%n", ++run, runs, sc.services(),
          sc.streams());
      results.put(sc, runOne(sc));
    }

    System.out.printf("%n## Sizing%n%n%s%n%n", Machine.describe("-Xmx" + base.controlPlaneHeap() + ", in its own JVM"));
    System.out.printf("Each stream: %s. %d endpoints per service, %d file cluster(s); %d changes measured after %d"
        + " not counted. The last row of each table is how much each figure grew from the first row to the"
        + " last.%n%n", what(base), base.endpoints(), base.clusters(), base.changes(), base.warmup());
    System.out.printf("### Services grow, %,d streams%n%n", fixedStreams);
    System.out.println(SizingTable.markdown(SizingTable.Axis.SERVICES, byServices.stream().map(results::get).toList()));
    System.out.printf("### Streams grow, %,d services%n%n", fixedServices);
    System.out.println(SizingTable.markdown(SizingTable.Axis.STREAMS, byStreams.stream().map(results::get).toList()));
    System.exit(0);
  }

  /** One run; a run that fails (out of memory, a stream that never syncs) is a row that says so, and the matrix goes on. */
  private static SizingTable.Row runOne(Scenario sc) {
    try {
      return SizingTable.Row.of(StreamRun.run(sc));
    } catch (Exception | OutOfMemoryError e) {
      System.out.println("FAILED: " + e);
      String reason = String.valueOf(e.getMessage());
      return SizingTable.Row.failed(sc.services(), sc.streams(),
          reason.length() > 160 ? reason.substring(0, 160) + "…" : reason);
    }
  }

  private static String what(Scenario sc) {
    return switch (sc.clients()) {
      case PROXYLESS -> "a proxyless gRPC client calling " + sc.watch() + " services (fewer where the mesh is smaller)";
      case ENVOY_SOTW -> "an Envoy sidecar without a Sidecar resource (watches every service), State of the World";
      case ENVOY_DELTA -> "an Envoy sidecar without a Sidecar resource (watches every service), Delta xDS";
    };
  }
}
