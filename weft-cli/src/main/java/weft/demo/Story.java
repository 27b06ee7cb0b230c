package weft.demo;

import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/** The demo's steps: what each does to the mesh, and what the client should then see. */
final class Story {
  private Story() {}

  /** A change to the running mesh. */
  @FunctionalInterface
  interface Change {
    void apply() throws Exception;
  }

  /** What the client's answers (counts per endpoint) should look like once a step has taken hold. */
  record Expected(String description, Predicate<Map<String, Integer>> test) {
    boolean matches(Map<String, Integer> counts) {
      return test.test(counts);
    }

    /** Every answer from exactly these endpoints. */
    static Expected only(String... names) {
      List<String> want = List.of(names);
      return new Expected("only " + String.join(", ", names),
          counts -> !counts.isEmpty() && want.containsAll(counts.keySet()) && counts.keySet().containsAll(want));
    }

    /** Answers from each of these endpoints. */
    static Expected all(String... names) {
      List<String> want = List.of(names);
      return new Expected("answers from " + String.join(", ", names),
          counts -> counts.keySet().containsAll(want));
    }

    /**
     * {@code name}'s share of at least {@code minCalls} answers is within [{@code low}, {@code high}];
     * weighted picks are random, so the bounds are wide enough for a sample of that size.
     */
    static Expected share(String name, double low, double high, int minCalls) {
      return new Expected(String.format("%s between %.0f%% and %.0f%%", name, low * 100, high * 100), counts -> {
        int total = counts.values().stream().mapToInt(Integer::intValue).sum();
        double s = total == 0 ? 0 : counts.getOrDefault(name, 0) / (double) total;
        return total >= minCalls && s >= low && s <= high;
      });
    }
  }

  /** One step of the story. */
  record Step(String title, Change change, Expected expected) {}

  /**
   * The story on {@code mesh}. {@code minCalls} is how many answers a share is judged on: the demo
   * judges one second of calls, a test a larger sample.
   */
  static List<Step> steps(LiveMesh mesh, int minCalls) {
    return List.of(
        new Step("no routing rules: one service in two clusters and two networks, spread evenly over its 3 "
            + "endpoints (echo-west through network-2's gateway)", () -> { },
            Expected.all("echo-a", "echo-b", "echo-west")),
        new Step("VirtualService: v1 (cluster1) 80% / v2 (cluster2) 20%", () -> mesh.split(80, 20),
            Expected.share("echo-west", 0.05, 0.35, minCalls)),
        new Step("VirtualService changed live: v1 20% / v2 80%", () -> mesh.split(20, 80),
            Expected.share("echo-west", 0.65, 0.95, minCalls)),
        new Step("VirtualService removed, outlier detection on: locality failover keeps traffic in zone-a",
            mesh::localityFailover, Expected.only("echo-a")),
        new Step("echo-a stopped: traffic fails over to the next zone, us-east/zone-b",
            () -> mesh.stopWorkload("echo-a"), Expected.only("echo-b")),
        new Step("echo-b stopped: traffic fails over to the other region, cluster2 in us-west",
            () -> mesh.stopWorkload("echo-b"), Expected.only("echo-west")),
        new Step("echo-a and echo-b back (and ready again): traffic returns to zone-a", () -> {
          mesh.startWorkload("echo-a");
          mesh.startWorkload("echo-b");
        }, Expected.only("echo-a")));
  }
}
