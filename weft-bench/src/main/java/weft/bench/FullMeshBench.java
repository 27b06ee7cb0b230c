package weft.bench;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Istio's default mesh: every proxy is an Envoy sidecar with no Sidecar resource, so it watches
 * every service. N services × E endpoints on disk (spread over C file clusters), S sidecar streams
 * ({@link SotwSidecar}, or {@link DeltaSidecar} with {@code --delta}) each fetching every cluster,
 * every endpoint assignment, every listener and route, then repeated endpoint changes of one
 * service.
 *
 * <p>Reports: time until every stream is synced, the control plane's live heap per connected proxy,
 * change → one stream / every stream has it (p50, p99), and the control plane's CPU per change.
 */
public final class FullMeshBench {
  private int services = 1000;
  private int endpoints = 10;
  private int streams = 1000;
  private int changes = 100;
  private int warmup = 30;
  private int clusters = 1;
  private boolean delta;
  private boolean trace;
  /** Everything must have synced by then, or the run stops. */
  private int syncTimeoutSeconds = 600;
  /** A change that has not reached every stream by then is counted as missed. */
  private static final int CHANGE_TIMEOUT_SECONDS = 10;
  /** After each change reaches every stream: the control plane's follow-up work shows in its CPU. */
  private static final int QUIET_MILLIS = 200;

  public static void main(String[] args) throws Exception {
    FullMeshBench b = new FullMeshBench();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--delta") || args[i].equals("--trace")) {
        if (args[i].equals("--delta")) b.delta = true;
        if (args[i].equals("--trace")) b.trace = true;
        continue;
      }
      if (i + 1 >= args.length) throw new IllegalArgumentException(args[i] + " needs a value");
      int v = Integer.parseInt(args[++i]);
      switch (args[i - 1]) {
        case "--services" -> b.services = v;
        case "--endpoints" -> b.endpoints = v;
        case "--streams" -> b.streams = v;
        case "--changes" -> b.changes = v;
        case "--warmup" -> b.warmup = v;
        case "--clusters" -> b.clusters = v;
        case "--sync-timeout" -> b.syncTimeoutSeconds = v;
        default -> throw new IllegalArgumentException("unknown option " + args[i - 1]);
      }
    }
    if (b.services < 1 || b.services > MeshFiles.MAX_SERVICES || b.endpoints < 1 || b.endpoints > 250
        || b.streams < 1 || b.streams > 20_000 || b.changes < 1 || b.changes + b.warmup > 10_000 || b.warmup < 0
        || b.clusters < 1 || b.clusters > b.services) {
      throw new IllegalArgumentException("sizes out of range: 1..60000 services, 1..250 endpoints, 1..20000 streams,"
          + " changes + warm-up up to 10000, 1..services clusters");
    }
    b.run();
    // Stream callbacks run on gRPC's threads; nothing is left to wait for.
    System.exit(0);
  }

  private void run() throws Exception {
    List<ManagedChannel> channels = new ArrayList<>();
    try (MeshFiles mesh = new MeshFiles(clusters, endpoints, true)) {
      for (int s = 0; s < services; s++) mesh.writeService(s, -1);
      // The changed service lives in the last cluster, so with --clusters the change crosses clusters.
      int hot = clusters - 1;
      long t0 = System.nanoTime();
      try (ControlPlaneProcess cp = ControlPlaneProcess.start(mesh.controlPlaneArgs())) {
        System.out.printf("machine: %d cores, %s, %s, load average %s; control plane in its own JVM (pid %d)%n",
            Runtime.getRuntime().availableProcessors(), System.getProperty("os.arch"), memory(), loadAverage(),
            cp.pid());
        System.out.printf("full mesh (%s): %d services x %d endpoints in %d cluster(s), %d Envoy sidecar streams"
            + " without a Sidecar resource (CDS and LDS wildcard, EDS and RDS for everything named)%n",
            delta ? "Delta xDS" : "State of the World", services, endpoints, clusters, streams);
        System.out.printf("control plane ready after %d ms%n", Stats.ms(System.nanoTime() - t0));
        long heapBefore = cp.liveHeapKb();

        List<EnvoySidecar> all = new ArrayList<>();
        long connectStart = System.nanoTime();
        for (int i = 0; i < streams; i++) {
          // Each sidecar is a pod of one service, so it has inbound listeners and clusters as in a real mesh.
          int own = i % services;
          int e = endpoints == 1 ? 0 : endpoints - 1 - (i / services) % (endpoints - 1);
          var node = EnvoyNode.sidecar(i, "svc-" + own, MeshFiles.endpointIp(own, e),
              MeshFiles.clusterId(mesh.clusterOf(own)));
          // One connection per stream, as real proxies have; callbacks on the I/O thread keep the harness cheap.
          ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", cp.xdsPort()).usePlaintext()
              .directExecutor().maxInboundMessageSize(64 * 1024 * 1024).build();
          channels.add(ch);
          EnvoySidecar sidecar = delta ? new DeltaSidecar(ch, node, MeshFiles.outboundCluster(hot))
              : new SotwSidecar(ch, node, MeshFiles.outboundCluster(hot));
          sidecar.trace = trace && i == 0;
          sidecar.start();
          all.add(sidecar);
        }
        long syncDeadline = connectStart + TimeUnit.SECONDS.toNanos(syncTimeoutSeconds);
        for (EnvoySidecar s : all) {
          long left = syncDeadline - System.nanoTime();
          if (!s.synced.await(Math.max(0, left), TimeUnit.NANOSECONDS)) {
            throw new IllegalStateException("a stream did not sync within " + syncTimeoutSeconds + " s: "
                + (s.error == null ? "no error seen" : s.error));
          }
          if (s.error != null) throw new IllegalStateException("a stream failed: " + s.error, s.error);
        }
        System.out.printf("all %d streams synced (CDS, EDS, LDS, RDS, each ACKed) in %.1f s%n", streams,
            (System.nanoTime() - connectStart) / 1e9);
        long heapAfter = cp.liveHeapKb();
        System.out.printf("control-plane live heap: %d KB before streams, %d KB with them: %.1f KB per connected proxy%n",
            heapBefore, heapAfter, (heapAfter - heapBefore) / (double) streams);

        // What the control plane burns with nothing to do (timers, keepalives, GC), for comparison.
        long idleStart = cp.cpuNanos();
        Thread.sleep(2000);
        double idleMsPerSecond = (cp.cpuNanos() - idleStart) / 1e6 / 2;

        ChangeRounds rounds = new ChangeRounds(warmup, changes, CHANGE_TIMEOUT_SECONDS, TimeUnit.SECONDS, QUIET_MILLIS);
        ChangeRounds.Result r = rounds.run(all, c -> mesh.writeService(hot, c), cp::cpuNanos);
        r.print(warmup, changes, streams);
        System.out.printf("control-plane CPU per change (from the write to %d ms after every stream has it; "
            + "%d ms per reading): mean %.1f ms, p50 %.0f ms, p99 %.0f ms; idle: %.1f ms per second%n",
            QUIET_MILLIS, cp.cpuResolutionMillis(), Stats.meanMs(r.cpu()), Stats.pct(r.cpu(), 50),
            Stats.pct(r.cpu(), 99), idleMsPerSecond);
        // The windows are as long as the change takes to reach everyone; idle work over them is part of the reading.
        double windowMs = Stats.meanMs(r.cpuWindows());
        System.out.printf("  mean window %.0f ms, over which the idle rate alone would be %.1f ms%n", windowMs,
            idleMsPerSecond * windowMs / 1000);
        cp.printConvergenceQuantiles();
        // Other work on the machine competes for the same cores: say how busy it was.
        System.out.println("load average at the end: " + loadAverage());
        for (EnvoySidecar s : all) {
          if (s.error != null) System.out.println("WARNING: a stream failed: " + s.error);
        }
        all.forEach(EnvoySidecar::close);
      } finally {
        channels.forEach(ManagedChannel::shutdownNow);
      }
    }
  }

  /** The 1, 5 and 15 minute load averages, or "unknown" off Linux. */
  private static String loadAverage() {
    try {
      String[] f = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).split(" ");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (java.io.IOException | RuntimeException e) {
      return "unknown";
    }
  }

  private static String memory() {
    try {
      for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          long kb = Long.parseLong(line.replaceAll("\\D", ""));
          return String.format("%.0f GiB", kb / 1024.0 / 1024.0);
        }
      }
    } catch (java.io.IOException | RuntimeException e) {
      // not Linux: leave it out
    }
    return "memory unknown";
  }
}
