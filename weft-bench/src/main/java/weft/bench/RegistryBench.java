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
 * hand-off to that thread.
 *
 * <p>Without {@code --services} it loads 1,000 and 10,000 services side by side and measures them
 * in alternating rounds, so both sizes see the same machine (other builds, the JIT, GC), and
 * prints the ratio of the medians, which should be about 1: an update costs in proportion to the
 * host it touches, not to the mesh. Allocation is the steadiest figure; CPU time of one thread
 * still varies with what else runs on the cores.
 */
public final class RegistryBench {
  private static final String NAMESPACE = "bench";
  /** Updates per round and rounds per size; the first round of each size warms the JIT up and is dropped. */
  private static final int UPDATES = 2_000;
  private static final int ROUNDS = 9;

  /** One loaded registry and what its rounds measured (per update: microseconds and bytes). */
  private static final class Loaded implements AutoCloseable {
    final Registry registry = new Registry();
    final int services;
    final int endpoints;
    final int clusters;
    final Random random = new Random(42);
    final List<Double> cpu = new ArrayList<>();
    final List<Double> wall = new ArrayList<>();
    final List<Double> bytes = new ArrayList<>();
    Thread thread;
    long syncMillis;
    long heapMb;
    int change;

    Loaded(int services, int endpoints, int clusters) {
      this.services = services;
      this.endpoints = endpoints;
      this.clusters = clusters;
    }

    @Override
    public void close() {
      registry.close();
    }
  }

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
    if (endpoints < 1 || endpoints > 250 || clusters < 1 || clusters > 250 || sizes.get(0) < 1
        || sizes.get(0) > 60_000) {
      throw new IllegalArgumentException("sizes out of range: 1..60000 services, 1..250 endpoints, 1..250 clusters");
    }
    System.out.printf("machine: %d cores, %s, Java %s, load average %.1f; registry alone, one-host endpoint "
        + "updates, %d per round, %d rounds per size (first dropped), medians%n",
        Runtime.getRuntime().availableProcessors(), System.getProperty("os.arch"), System.getProperty("java.version"),
        ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(), UPDATES, ROUNDS);
    List<Loaded> loaded = new ArrayList<>();
    try {
      for (int services : sizes) loaded.add(load(services, endpoints, clusters));
      for (int round = 0; round < ROUNDS; round++) {
        for (Loaded l : loaded) measureRound(l, round > 0);
      }
      for (Loaded l : loaded) {
        int total = l.registry.current().services().values().stream().mapToInt(v -> v.endpoints().size()).sum();
        System.out.printf("%,d services x %d endpoints (%,d) in %d clusters: initial sync %,d ms, live heap +%,d MB;"
            + " per update: registry CPU %.1f us, wall %.1f us, allocated %,.0f bytes%n", l.services, endpoints,
            total, clusters, l.syncMillis, l.heapMb, median(l.cpu), median(l.wall), median(l.bytes));
      }
      if (loaded.size() == 2) {
        Loaded a = loaded.get(0);
        Loaded b = loaded.get(1);
        System.out.printf("ratio %,d / %,d services: registry CPU %.2f, wall %.2f, allocated %.2f%n", b.services,
            a.services, median(b.cpu) / median(a.cpu), median(b.wall) / median(a.wall),
            median(b.bytes) / median(a.bytes));
      }
    } finally {
      loaded.forEach(Loaded::close);
    }
    System.exit(0);
  }

  private static Loaded load(int services, int endpoints, int clusters) {
    long heapBefore = liveHeapMb();
    Loaded l = new Loaded(services, endpoints, clusters);
    List<Map<ResourceId, Resource>> initial = new ArrayList<>();
    for (int c = 0; c < clusters; c++) {
      l.registry.addCluster(new ClusterSettings(cluster(c), "net" + c, "istio-system"), c == 0);
      initial.add(new HashMap<>());
    }
    for (int s = 0; s < services; s++) {
      K8sService svc = service(s);
      EndpointSlice slice = slice(s, endpoints, -1);
      initial.get(s % clusters).put(svc.id(), svc);
      initial.get(s % clusters).put(slice.id(), slice);
    }
    long t0 = System.nanoTime();
    for (int c = 0; c < clusters; c++) l.registry.update(cluster(c), initial.get(c), true);
    l.registry.flush();
    l.syncMillis = Stats.ms(System.nanoTime() - t0);
    initial.clear();
    l.heapMb = liveHeapMb() - heapBefore;
    l.thread = registryThread();
    return l;
  }

  /** One round of one-host updates on one registry; recorded when {@code keep}. */
  private static void measureRound(Loaded l, boolean keep) {
    var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    List<EndpointSlice> updates = new ArrayList<>(UPDATES);
    for (int i = 0; i < UPDATES; i++) updates.add(slice(l.random.nextInt(l.services), l.endpoints, l.change++));
    long cpu0 = threads.getThreadCpuTime(l.thread.getId());
    long bytes0 = threads.getThreadAllocatedBytes(l.thread.getId());
    long wall0 = System.nanoTime();
    for (EndpointSlice s : updates) {
      int service = Integer.parseInt(s.serviceName().substring(4));
      l.registry.update(cluster(service % l.clusters), Map.of(s.id(), s), false);
    }
    l.registry.flush();
    long wall = System.nanoTime() - wall0;
    long cpu = threads.getThreadCpuTime(l.thread.getId()) - cpu0;
    long bytes = threads.getThreadAllocatedBytes(l.thread.getId()) - bytes0;
    if (!keep) return;
    l.cpu.add(cpu / 1e3 / UPDATES);
    l.wall.add(wall / 1e3 / UPDATES);
    l.bytes.add((double) bytes / UPDATES);
  }

  /** The JVM's used heap after a full GC, in MB: an approximation (System.gc is a request), but a steady one. */
  private static long liveHeapMb() {
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() >> 20;
  }

  private static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(null);
    return sorted.isEmpty() ? Double.NaN : sorted.get(sorted.size() / 2);
  }

  private static String cluster(int c) {
    return "cluster" + (c + 1);
  }

  /** Registry threads already claimed by an earlier load (each registry has its own). */
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
