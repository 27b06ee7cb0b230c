package weft.bench;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
    Path dir = Files.createTempDirectory("weft-bench");
    for (int s = 0; s < services; s++) writeService(dir, s, -1);
    int xds = freePort();
    int mon = freePort();
    Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
    List<String> command = new ArrayList<>(List.of(javaBin.toString(), "-Xmx2g"));
    // Extra JVM options for the control plane, e.g. a flight recording to see where time goes.
    String extra = System.getenv().getOrDefault("WEFT_BENCH_CP_JVM_OPTS", "");
    if (!extra.isBlank()) command.addAll(List.of(extra.trim().split("\\s+")));
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "weft.cli.Main", "control-plane",
        "--config-dir", dir.toString(), "--xds-port", String.valueOf(xds), "--monitoring-port", String.valueOf(mon)));
    Process cp = new ProcessBuilder(command)
        .redirectError(ProcessBuilder.Redirect.INHERIT).redirectOutput(ProcessBuilder.Redirect.INHERIT).start();
    List<ManagedChannel> channels = new ArrayList<>();
    try {
      long t0 = System.nanoTime();
      awaitReady(mon);
      System.out.printf("machine: %d cores, %s; %d services x %d endpoints, %d streams watching %d services each%n",
          Runtime.getRuntime().availableProcessors(), System.getProperty("os.arch"), services, endpoints, streams, watch);
      System.out.printf("control plane ready after %d ms%n", ms(System.nanoTime() - t0));
      long heapBefore = liveHeapKb(cp.pid());

      String hot = cluster(0);
      List<BenchStream> all = new ArrayList<>();
      long connectStart = System.nanoTime();
      for (int i = 0; i < streams; i++) {
        ManagedChannel ch;
        if (connections <= 0 || channels.size() < connections) {
          // Callbacks on the I/O thread: the harness's own cost must stay small beside the control plane's.
          ch = NettyChannelBuilder.forAddress("127.0.0.1", xds).usePlaintext().directExecutor().build();
          channels.add(ch);
        } else {
          ch = channels.get(i % connections);
        }
        List<String> clusters = new ArrayList<>();
        clusters.add(hot);
        for (int k = 1; k < watch; k++) clusters.add(cluster((i * 7 + k * 13) % services));
        BenchStream stream = new BenchStream(ch, i, clusters, hot);
        stream.subscribe();
        all.add(stream);
      }
      for (BenchStream s : all) {
        if (!s.synced.await(120, TimeUnit.SECONDS)) throw new IllegalStateException("a stream never synced: " + s.error);
      }
      System.out.printf("all %d streams synced (CDS+EDS) in %d ms%n", streams, ms(System.nanoTime() - connectStart));
      long heapAfter = liveHeapKb(cp.pid());
      System.out.printf("control-plane live heap: %d KB before streams, %d KB with them: %.1f KB per connected proxy%n",
          heapBefore, heapAfter, (heapAfter - heapBefore) / (double) streams);

      List<Long> perStream = new ArrayList<>();
      List<Long> allStreams = new ArrayList<>();
      int missed = 0;
      for (int c = 0; c < warmup + changes; c++) {
        String marker = "10.255." + (c / 250) + "." + (c % 250 + 1);
        all.forEach(s -> s.await(marker));
        long start = System.nanoTime();
        writeService(dir, 0, c);
        long deadline = start + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline && all.stream().anyMatch(s -> s.arrivedNanos.get() == 0)) {
          Thread.sleep(1);
        }
        long worst = 0;
        if (c < warmup) {
          Thread.sleep(50);
          continue;
        }
        for (BenchStream s : all) {
          long arrived = s.arrivedNanos.get();
          if (arrived == 0) {
            missed++;
            continue;
          }
          perStream.add(arrived - start);
          worst = Math.max(worst, arrived - start);
        }
        allStreams.add(worst);
        Thread.sleep(50);
      }
      System.out.printf("(after %d warm-up changes) endpoint change on disk -> stream has it, over %d changes x %d streams: p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
          warmup, changes, streams, pct(perStream, 50), pct(perStream, 99), pct(perStream, 100));
      System.out.printf("endpoint change on disk -> every stream has it: p50 %.1f ms, p99 %.1f ms%n",
          pct(allStreams, 50), pct(allStreams, 99));
      StringBuilder each = new StringBuilder("  each change, ms until every stream had it:");
      for (long n : allStreams) each.append(' ').append(n / 1_000_000);
      System.out.println(each);
      System.out.println("control plane's own view (snapshot published -> response sent), weft_xds_convergence_seconds:");
      for (String line : scrape(mon).split("\n")) {
        if (line.startsWith("weft_xds_convergence_seconds{quantile")) System.out.println("  " + line);
      }
      if (missed > 0) System.out.printf("WARNING: %d stream updates did not arrive within 5 s%n", missed);
      all.forEach(BenchStream::close);
    } finally {
      channels.forEach(ManagedChannel::shutdownNow);
      cp.destroy();
      cp.waitFor(10, TimeUnit.SECONDS);
      try (var files = Files.walk(dir)) {
        for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
      }
    }
  }

  private static String cluster(int s) {
    return "outbound|8080||svc-" + s + ".bench.svc.cluster.local";
  }

  /** One file per service, as a sync tool would write it; {@code change >= 0} swaps in a marker address. */
  private void writeService(Path dir, int s, int change) throws IOException {
    StringBuilder y = new StringBuilder("""
        apiVersion: v1
        kind: Service
        metadata: {name: svc-%d, namespace: bench}
        spec:
          ports: [{name: http, port: 8080}]
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata: {name: svc-%d-1, namespace: bench, labels: {kubernetes.io/service-name: svc-%d}}
        addressType: IPv4
        ports: [{name: http, port: 8080}]
        endpoints:
        """.formatted(s, s, s));
    for (int e = 0; e < endpoints; e++) {
      String ip = change >= 0 && e == 0 ? "10.255." + (change / 250) + "." + (change % 250 + 1)
          : "10." + (s / 250) + "." + (s % 250) + "." + (e + 1);
      y.append("- addresses: [\"").append(ip).append("\"]\n  conditions: {ready: true}\n");
    }
    Path tmp = dir.resolve(".svc-" + s + ".tmp");
    Files.writeString(tmp, y.toString());
    Files.move(tmp, dir.resolve("svc-" + s + ".yaml"), StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
  }

  private static String scrape(int port) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
        .build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  private static void awaitReady(int port) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (System.nanoTime() < deadline) {
      try {
        if (http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/ready")).build(),
            HttpResponse.BodyHandlers.discarding()).statusCode() == 200) return;
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("control plane not ready in 120 s");
  }

  /** Live heap of another JVM: force a full GC with jcmd, then read the heap's used size. */
  private static long liveHeapKb(long pid) throws Exception {
    jcmd(pid, "GC.run");
    Thread.sleep(500);
    jcmd(pid, "GC.run");
    String info = jcmd(pid, "GC.heap_info");
    Matcher m = Pattern.compile("used (\\d+)K").matcher(info);
    if (!m.find()) throw new IllegalStateException("cannot read heap use from: " + info);
    return Long.parseLong(m.group(1));
  }

  private static String jcmd(long pid, String command) throws Exception {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    Process p = new ProcessBuilder(jcmd.toString(), String.valueOf(pid), command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor(60, TimeUnit.SECONDS);
    return out;
  }

  private static double pct(List<Long> nanos, int p) {
    if (nanos.isEmpty()) return Double.NaN;
    long[] sorted = nanos.stream().mapToLong(Long::longValue).toArray();
    Arrays.sort(sorted);
    int i = Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1);
    return sorted[Math.max(0, i)] / 1e6;
  }

  private static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
