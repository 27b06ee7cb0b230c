package weft.bench;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Convergence and memory at scale: N services × E endpoints on disk, S ADS streams, and repeated
 * endpoint changes of one service that every stream watches.
 *
 * <p>The control plane runs in its own JVM (started from this classpath) so that its heap is
 * measured alone: live heap after a full GC, before and after the streams connect.
 */
public final class ConvergenceBench {
  private int services = 1000;
  private int endpoints = 10;
  private int streams = 1000;
  private int changes = 100;
  private int watch = 10;
  /** Changes made first and not counted: the JIT compiles the push path during these. */
  private int warmup = 30;
  /** TCP connections the streams share; by default every stream has its own, as real proxies do. */
  private int connections = 0;

  public static void main(String[] args) throws Exception {
    ConvergenceBench b = new ConvergenceBench();
    for (int i = 0; i + 1 < args.length; i += 2) {
      int v = Integer.parseInt(args[i + 1]);
      switch (args[i]) {
        case "--services" -> b.services = v;
        case "--endpoints" -> b.endpoints = v;
        case "--streams" -> b.streams = v;
        case "--changes" -> b.changes = v;
        case "--watch" -> b.watch = v;
        case "--warmup" -> b.warmup = v;
        case "--connections" -> b.connections = v;
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    b.run();
  }

  private void run() throws Exception {
    List<ManagedChannel> channels = new ArrayList<>();
    try (MeshFiles mesh = new MeshFiles(1, endpoints, false)) {
      for (int s = 0; s < services; s++) mesh.writeService(s, -1);
      long t0 = System.nanoTime();
      try (ControlPlaneProcess cp = ControlPlaneProcess.start(mesh.controlPlaneArgs())) {
        System.out.printf("machine: %d cores, %s; %d services x %d endpoints, %d streams watching %d services each%n",
            Runtime.getRuntime().availableProcessors(), System.getProperty("os.arch"), services, endpoints, streams,
            watch);
        System.out.printf("control plane ready after %d ms%n", Stats.ms(System.nanoTime() - t0));
        long heapBefore = cp.liveHeapKb();

        String hot = MeshFiles.outboundCluster(0);
        List<BenchStream> all = new ArrayList<>();
        long connectStart = System.nanoTime();
        for (int i = 0; i < streams; i++) {
          ManagedChannel ch;
          if (connections <= 0 || channels.size() < connections) {
            // Callbacks on the I/O thread: the harness's own cost must stay small beside the control plane's.
            ch = NettyChannelBuilder.forAddress("127.0.0.1", cp.xdsPort()).usePlaintext().directExecutor().build();
            channels.add(ch);
          } else {
            ch = channels.get(i % connections);
          }
          List<String> clusters = new ArrayList<>();
          clusters.add(hot);
          for (int k = 1; k < watch; k++) clusters.add(MeshFiles.outboundCluster((i * 7 + k * 13) % services));
          BenchStream stream = new BenchStream(ch, i, clusters, hot);
          stream.subscribe();
          all.add(stream);
        }
        for (BenchStream s : all) {
          if (!s.synced.await(120, TimeUnit.SECONDS)) throw new IllegalStateException("a stream never synced: " + s.error);
        }
        System.out.printf("all %d streams synced (CDS+EDS) in %d ms%n", streams, Stats.ms(System.nanoTime() - connectStart));
        long heapAfter = cp.liveHeapKb();
        System.out.printf("control-plane live heap: %d KB before streams, %d KB with them: %.1f KB per connected proxy%n",
            heapBefore, heapAfter, (heapAfter - heapBefore) / (double) streams);

        ChangeRounds rounds = new ChangeRounds(warmup, changes, 5, TimeUnit.SECONDS, 50);
        rounds.run(all, c -> mesh.writeService(0, c), null).print(warmup, changes, streams);
        cp.printConvergenceQuantiles();
        all.forEach(BenchStream::close);
      } finally {
        channels.forEach(ManagedChannel::shutdownNow);
      }
    }
  }
}
