package weft.bench;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import weft.model.EndpointSlice;
import weft.model.K8sService;
import weft.model.Resource;
import weft.model.ResourceId;
import weft.registry.ClusterSettings;
import weft.registry.Registry;

/**
 * The registry alone, no xDS: N services × E endpoints spread over C clusters, then one-host
 * endpoint updates (one EndpointSlice replaced, one address changed), measured on the registry's
 * own thread: CPU time and bytes allocated per update, plus wall time per update including the
 * hand-off to that thread. CPU time and allocation of one thread are not disturbed by other work
 * on the machine, so the ratio between sizes holds under load; wall time is shown for reference.
 *
 * <p>Without {@code --services} it runs at 1,000 and 10,000 services and prints the ratio, which
 * should be about 1: an update costs in proportion to the host it touches, not to the mesh.
 */
public final class RegistryBench {
  private static final String NAMESPACE = "bench";
  /** Updates measured per round; the best of the rounds is reported (the least disturbed by the JIT and GC). */
  private static final int UPDATES = 2_000;
  private static final int ROUNDS = 5;

  record Result(int services, int endpointsTotal, int clusters, long syncMillis, long heapMb, double cpuMicros,
      double wallMicros, double bytes) {}

  public static void main(String[] args) throws Exception {
    List<Integer> sizes = List.of(1_000, 10_000);
    int endpoints = 10;
    int clusters = 10;
    for (int i = 0; i + 1 < args.length; i += 2) {
      int v = Integer.parseInt(args[i + 1]);
      switch (args[i]) {
        case "--services" -> sizes = List.of(v);
        case "--endpoints" -> endpoints = v;
        case "--clusters" -> clusters = v;
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (endpoints < 1 || endpoints > 250 || clusters < 1 || clusters > 250 || sizes.get(0) < 1) {
      throw new IllegalArgumentException("sizes out of range: services >= 1, 1..250 endpoints, 1..250 clusters");
    }
    System.out.printf("machine: %d cores, %s, Java %s; registry alone, one-host endpoint updates, %d per round, "
        + "best of %d rounds%n", Runtime.getRuntime().availableProcessors(), System.getProperty("os.arch"),
        System.getProperty("java.version"), UPDATES, ROUNDS);
    List<Result> results = new ArrayList<>();
    for (int services : sizes) {
      Result r = run(services, endpoints, clusters);
      results.add(r);
      System.out.printf("%,d services x %d endpoints (%,d) in %d clusters: initial sync %,d ms, live heap %,d MB; "
          + "per update: registry CPU %.1f us, wall %.1f us, allocated %,.0f bytes%n", r.services(), endpoints,
          r.endpointsTotal(), r.clusters(), r.syncMillis(), r.heapMb(), r.cpuMicros(), r.wallMicros(), r.bytes());
    }
    if (results.size() == 2) {
      Result a = results.get(0);
      Result b = results.get(1);
      System.out.printf("ratio %,d / %,d services: registry CPU %.2f, wall %.2f, allocated %.2f%n", b.services(),
          a.services(), b.cpuMicros() / a.cpuMicros(), b.wallMicros() / a.wallMicros(), b.bytes() / a.bytes());
    }
    System.exit(0);
  }

  private static Result run(int services, int endpoints, int clusters) {
    try (Registry registry = new Registry()) {
      List<Map<ResourceId, Resource>> initial = new ArrayList<>();
      for (int c = 0; c < clusters; c++) {
        registry.addCluster(new ClusterSettings(cluster(c), "net" + c, "istio-system"), c == 0);
        initial.add(new HashMap<>());
      }
      for (int s = 0; s < services; s++) {
        K8sService svc = service(s);
        EndpointSlice slice = slice(s, endpoints, -1);
        initial.get(s % clusters).put(svc.id(), svc);
        initial.get(s % clusters).put(slice.id(), slice);
      }
      long t0 = System.nanoTime();
      for (int c = 0; c < clusters; c++) registry.update(cluster(c), initial.get(c), true);
      registry.flush();
      long syncMillis = Stats.ms(System.nanoTime() - t0);
      initial.clear();
      // The whole JVM's live heap after a full GC: the registry's state and one snapshot, plus the
      // harness's own few MB. An approximation (System.gc is a request), but a steady one.
      System.gc();
      long heapMb = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() >> 20;

      Thread registryThread = registryThread();
      var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
      Random random = new Random(42);
      int change = 0;
      double bestCpu = Double.MAX_VALUE;
      double bestWall = Double.MAX_VALUE;
      double bestBytes = Double.MAX_VALUE;
      // One round more than reported: the first warms the JIT up and is thrown away.
      for (int round = 0; round <= ROUNDS; round++) {
        List<EndpointSlice> updates = new ArrayList<>(UPDATES);
        for (int i = 0; i < UPDATES; i++) updates.add(slice(random.nextInt(services), endpoints, change++));
        long cpu0 = threads.getThreadCpuTime(registryThread.getId());
        long bytes0 = threads.getThreadAllocatedBytes(registryThread.getId());
        long wall0 = System.nanoTime();
        for (EndpointSlice s : updates) {
          int service = Integer.parseInt(s.serviceName().substring(4));
          registry.update(cluster(service % clusters), Map.of(s.id(), s), false);
        }
        registry.flush();
        long wall = System.nanoTime() - wall0;
        long cpu = threads.getThreadCpuTime(registryThread.getId()) - cpu0;
        long bytes = threads.getThreadAllocatedBytes(registryThread.getId()) - bytes0;
        if (round == 0) continue;
        bestCpu = Math.min(bestCpu, cpu / 1e3 / UPDATES);
        bestWall = Math.min(bestWall, wall / 1e3 / UPDATES);
        bestBytes = Math.min(bestBytes, (double) bytes / UPDATES);
      }
      int total = registry.current().services().values().stream().mapToInt(v -> v.endpoints().size()).sum();
      return new Result(services, total, clusters, syncMillis, heapMb, bestCpu, bestWall, bestBytes);
    }
  }

  private static String cluster(int c) {
    return "cluster" + (c + 1);
  }

  /** Registry threads of runs before this one (they may not have ended yet). */
  private static final java.util.Set<Thread> measured = new java.util.HashSet<>();

  /** The new registry's one thread, by the name it gives it. */
  private static Thread registryThread() {
    Thread t = Thread.getAllStackTraces().keySet().stream()
        .filter(x -> x.getName().equals("weft-registry") && x.isAlive() && !measured.contains(x)).findFirst()
        .orElseThrow(() -> new IllegalStateException("no weft-registry thread"));
    measured.add(t);
    return t;
  }

  private static K8sService service(int s) {
    return new K8sService(new ResourceId("Service", NAMESPACE, "svc-" + s), Map.of(), Map.of(), Map.of("app", "svc-" + s),
        "10.96." + (s / 250) + "." + (s % 250 + 1), "ClusterIP",
        List.of(new K8sService.Port("http", 8080, "TCP", null, null)), List.of());
  }

  /** Service {@code s}'s slice; {@code change} >= 0 replaces its first address with one that marks the change. */
  private static EndpointSlice slice(int s, int endpoints, int change) {
    List<EndpointSlice.Endpoint> list = new ArrayList<>();
    for (int e = 0; e < endpoints; e++) {
      list.add(new EndpointSlice.Endpoint(List.of(address(s, e, change)), true, true, false, null, null, null));
    }
    return new EndpointSlice(new ResourceId("EndpointSlice", NAMESPACE, "svc-" + s + "-1"), "svc-" + s, "IPv4",
        List.of(new EndpointSlice.Port("http", 8080, "TCP")), list);
  }

  /** A unique pod address per service and endpoint; a changed first endpoint gets an address of its own. */
  private static String address(int s, int e, int change) {
    if (change >= 0 && e == 0) return "10.254." + (change / 250 % 250) + "." + (change % 250 + 1);
    int n = s * 250 + e;
    return "10." + (n >> 16 & 0xff) + "." + (n >> 8 & 0xff) + "." + (n & 0xff);
  }
}
