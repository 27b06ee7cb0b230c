package weft.bench;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One run of a stream benchmark, the sequence every stream mode shares: write the mesh, start the
 * control plane in its own JVM, connect the clients, wait until all have synced, then change the
 * shared service's endpoints one change at a time. It prints each figure as it is measured and
 * returns them all, so that every figure of a report comes from this one run.
 */
final class StreamRun {
  /** A change that has not reached every stream by then is counted as missed. */
  private static final int CHANGE_TIMEOUT_SECONDS = 10;
  /** After each change reaches every stream: the control plane's follow-up work shows in its CPU. */
  private static final int QUIET_MILLIS = 200;
  /** {@code GET /debug/status} calls timed at the end, with every stream connected and synced. */
  private static final int STATUS_CALLS = 5;
  /** Long enough for the idle rate to be read to well under a millisecond per second. */
  private static final int IDLE_MILLIS = 2000;

  private final Scenario scenario;

  private StreamRun(Scenario scenario) {
    this.scenario = scenario;
  }

  /** Runs {@code scenario} and returns its figures; fails when a stream fails or does not sync in time. */
  static Figures run(Scenario scenario) throws Exception {
    return new StreamRun(scenario).run();
  }

  private Figures run() throws Exception {
    Scenario sc = scenario;
    System.out.println(Machine.describe("-Xmx" + sc.controlPlaneHeap() + ", in its own JVM"));
    System.out.println(sc.describe());
    EnvoySidecar.forgetSharedNames();
    // Services get cluster IPs, as Kubernetes gives them.
    try (MeshFiles mesh = new MeshFiles(sc.clusters(), sc.endpoints(), true)) {
      for (int s = 0; s < sc.services(); s++) mesh.writeService(s, -1);
      // The changed service lives in the last cluster, so with --clusters the change crosses clusters.
      int hot = sc.clusters() - 1;
      long t0 = System.nanoTime();
      try (ControlPlaneProcess cp = ControlPlaneProcess.start(mesh.controlPlaneArgs(), sc.controlPlaneHeap());
          Connections connections = new Connections(cp.xdsPort(), sc.streams(), sc.connections())) {
        long readyMillis = Stats.ms(System.nanoTime() - t0);
        System.out.printf("control plane (pid %d) ready after %d ms (start-up to /ready), %.1f CPU seconds%n",
            cp.pid(), readyMillis, cp.cpuNanos() / 1e9);
        long heapBefore = cp.liveHeapKb();
        GcLog.Peak startupPeak = cp.heapPeakSinceLastReading();

        List<Client> clients = new ArrayList<>();
        long connectStart = System.nanoTime();
        long cpCpuAtConnect = cp.cpuNanos();
        long harnessCpuAtConnect = harnessCpuNanos();
        for (int i = 0; i < sc.streams(); i++) clients.add(client(i, mesh, hot, connections));
        awaitSynced(clients, connectStart);
        long syncMillis = Stats.ms(System.nanoTime() - connectStart);
        System.out.printf("all %d streams synced (every type received and ACKed) in %.1f s over %d TCP connections;"
            + " CPU meanwhile: control plane %.1f s, harness %.1f s%n", sc.streams(), syncMillis / 1e3,
            connections.count(), (cp.cpuNanos() - cpCpuAtConnect) / 1e9,
            (harnessCpuNanos() - harnessCpuAtConnect) / 1e9);
        long heapWith = cp.liveHeapKb();
        GcLog.Peak syncPeak = cp.heapPeakSinceLastReading();
        System.out.printf("control-plane live heap after a full GC: %s before streams, %s with them:"
            + " %.1f KB per connected proxy%n", size(heapBefore), size(heapWith),
            (heapWith - heapBefore) / (double) sc.streams());

        // What the control plane burns with nothing to do (timers, keepalives, GC), for comparison.
        long idleStart = cp.cpuNanos();
        Thread.sleep(IDLE_MILLIS);
        double idleMsPerSecond = (cp.cpuNanos() - idleStart) / 1e6 / (IDLE_MILLIS / 1000.0);

        ChangeRounds rounds = new ChangeRounds(sc.warmup(), sc.changes(), CHANGE_TIMEOUT_SECONDS, TimeUnit.SECONDS,
            QUIET_MILLIS);
        ChangeRounds.Result r = rounds.run(clients, c -> mesh.writeService(hot, c), cp::cpuNanos);
        r.print(sc.warmup(), sc.changes(), sc.streams());
        System.out.printf("control-plane CPU per change (from the write to %d ms after every stream has it; "
            + "%d ms per reading): mean %.1f ms, p50 %.0f ms, p99 %.0f ms; idle: %.1f ms per second%n",
            QUIET_MILLIS, cp.cpuResolutionMillis(), Stats.meanMs(r.cpu()), Stats.pct(r.cpu(), 50),
            Stats.pct(r.cpu(), 99), idleMsPerSecond);
        // The windows are as long as the change takes to reach everyone; idle work over them is part of the reading.
        double windowMs = Stats.meanMs(r.cpuWindows());
        System.out.printf("  mean window %.0f ms, over which the idle rate alone would be %.1f ms%n", windowMs,
            idleMsPerSecond * windowMs / 1000);
        cp.printConvergenceQuantiles();

        long heapAfter = cp.liveHeapKb();
        GcLog.Peak changesPeak = cp.heapPeakSinceLastReading();
        GcLog.Peak peak = startupPeak.max(syncPeak).max(changesPeak);
        // The peak resident set is read now, before /debug/status's answers add to it.
        long peakResident = cp.peakResidentKb();
        System.out.printf("control-plane live heap after the changes: %s; peak heap in use (before any collection)"
            + " at start-up %s, while streams synced %s, during the changes %s; at most %s committed of -Xmx%s;"
            + " peak resident set %s%n", size(heapAfter), size(startupPeak.usedKb()), size(syncPeak.usedKb()),
            size(changesPeak.usedKb()), size(peak.committedKb()), sc.controlPlaneHeap(), size(peakResident));
        // Last, so that what answering costs (a large document per call) disturbs no other figure.
        ControlPlaneProcess.StatusTimes status = cp.timeStatus(STATUS_CALLS);
        GcLog.Peak statusPeak = cp.heapPeakSinceLastReading();
        System.out.printf("GET /debug/status with %d streams connected and synced: p50 %.1f ms, max %.1f ms over %d"
            + " calls, %d KB each; peak heap in use meanwhile %s%s%n", sc.streams(), Stats.pct(status.nanos(), 50),
            Stats.pct(status.nanos(), 100), status.nanos().size(), status.bytes() >> 10, size(statusPeak.usedKb()),
            status.failure() == null ? "" : "; " + status.failure());
        // Other work on the machine competes for the same cores: say how busy it was.
        System.out.println("load average at the end: " + Machine.loadAverage());
        for (Client c : clients) {
          if (c.error() != null) System.out.println("WARNING: a stream failed: " + c.error());
        }
        clients.forEach(Client::close);
        return new Figures(sc.services(), sc.streams(), readyMillis, syncMillis, heapBefore, heapWith, peak.usedKb(),
            Stats.pct(r.allStreams(), 50), Stats.pct(r.allStreams(), 99), Stats.meanMs(r.cpu()),
            Stats.pct(status.nanos(), 50), Stats.pct(status.nanos(), 100), r.missed());
      }
    }
  }

  private Client client(int i, MeshFiles mesh, int hot, Connections connections) {
    Scenario sc = scenario;
    if (!sc.envoy()) {
      List<String> hosts = watchedServices(i, sc.watched(), sc.services(), hot).stream()
          .map(MeshFiles::hostname).toList();
      // Clients are spread over the clusters, as the workloads of a multicluster mesh are.
      BenchStream stream = new BenchStream(connections.forStream(i), i,
          MeshFiles.clusterId(i % sc.clusters() + 1), hosts, MeshFiles.hostname(hot));
      stream.subscribe();
      return stream;
    }
    // Each sidecar is a pod of one service, so it has inbound listeners and clusters as in a real mesh.
    int own = i % sc.services();
    int e = sc.endpoints() == 1 ? 0 : sc.endpoints() - 1 - (i / sc.services()) % (sc.endpoints() - 1);
    var node = EnvoyNode.sidecar(i, "svc-" + own, MeshFiles.endpointIp(own, e),
        MeshFiles.clusterId(mesh.clusterOf(own)));
    EnvoySidecar sidecar = sc.clients() == Scenario.Clients.ENVOY_DELTA
        ? new DeltaSidecar(connections.forStream(i), node, MeshFiles.outboundCluster(hot))
        : new SotwSidecar(connections.forStream(i), node, MeshFiles.outboundCluster(hot));
    sidecar.trace = sc.trace() && i == 0;
    sidecar.start();
    return sidecar;
  }

  /**
   * The services client {@code i} calls: the hot one, then a run of consecutive services from a
   * place that differs per client, so clients overlap in part as real callers do; all distinct.
   */
  static Set<Integer> watchedServices(int i, int count, int services, int hot) {
    Set<Integer> out = new LinkedHashSet<>();
    out.add(hot);
    // 7919 is prime: consecutive clients start far apart.
    int start = (int) ((long) i * 7919 % services);
    for (int k = 0; out.size() < Math.min(count, services); k++) out.add((start + k) % services);
    return out;
  }

  private void awaitSynced(List<Client> clients, long connectStart) throws InterruptedException {
    long deadline = connectStart + TimeUnit.SECONDS.toNanos(scenario.syncTimeoutSeconds());
    for (int i = 0; i < clients.size(); i++) {
      Client c = clients.get(i);
      if (!c.awaitSynced(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        throw new IllegalStateException("stream " + i + " did not sync within " + scenario.syncTimeoutSeconds()
            + " s (" + c.missing() + "): " + (c.error() == null ? "no error seen" : c.error()));
      }
      if (c.error() != null) throw new IllegalStateException("stream " + i + " failed: " + c.error(), c.error());
    }
  }

  /** KB as MB above 10 MB, so that large and small figures both read at a glance. */
  static String size(long kb) {
    return kb >= 10 * 1024 ? String.format("%,d MB", kb >> 10) : String.format("%,d KB", kb);
  }

  /**
   * CPU time of this harness's whole process: with the clients on the control plane's cores, the
   * wall time of a sync is the sum of both sides' work, so each side's share is reported.
   */
  private static long harnessCpuNanos() {
    var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    return os instanceof com.sun.management.OperatingSystemMXBean unix ? unix.getProcessCpuTime() : 0;
  }
}
