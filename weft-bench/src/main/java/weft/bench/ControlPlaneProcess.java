package weft.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code weft control-plane} in its own JVM, started from this classpath, so that its heap and CPU
 * time are measured alone, apart from the harness's clients. Only 127.0.0.1 is ever contacted.
 */
final class ControlPlaneProcess implements AutoCloseable {
  /** Start-up of the largest meshes the harness makes takes well under this on a 2-core machine. */
  private static final long READY_TIMEOUT_SECONDS = 180;

  /** A slow answer is a figure to report, not a reason to wait forever; far above any sane latency. */
  private static final Duration STATUS_TIMEOUT = Duration.ofSeconds(120);

  private final Process process;
  private final int xdsPort;
  private final int monitoringPort;
  private final HttpClient http = HttpClient.newHttpClient();
  private final long clockTicksPerSecond;
  /** The JVM's GC log: the peak heap is read from it (see {@link GcLog}). */
  private final Path gcLog;
  /** GC log lines already counted by {@link #heapPeakSinceLastReading()}; only the harness's main thread reads it. */
  private int gcLinesRead;

  private ControlPlaneProcess(Process process, int xdsPort, int monitoringPort, long clockTicksPerSecond,
      Path gcLog) {
    this.process = process;
    this.xdsPort = xdsPort;
    this.monitoringPort = monitoringPort;
    this.clockTicksPerSecond = clockTicksPerSecond;
    this.gcLog = gcLog;
  }

  /**
   * Starts the control plane with {@code args} (everything but the ports) and a maximum heap of
   * {@code maxHeap} (a JVM size such as {@code 2g}), and returns once {@code /ready} answers 200.
   * {@code WEFT_BENCH_CP_JVM_OPTS} adds JVM options, e.g. a flight recording to see where time goes.
   */
  static ControlPlaneProcess start(List<String> args, String maxHeap) throws Exception {
    int xds = freePort();
    int mon = freePort();
    Path gcLog = Files.createTempFile("weft-bench-gc", ".log");
    Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
    List<String> command = new ArrayList<>(List.of(javaBin.toString(), "-Xmx" + maxHeap,
        "-Xlog:gc:file=" + gcLog));
    String extra = System.getenv().getOrDefault("WEFT_BENCH_CP_JVM_OPTS", "");
    if (!extra.isBlank()) command.addAll(List.of(extra.trim().split("\\s+")));
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), "weft.cli.Main", "control-plane"));
    command.addAll(args);
    command.addAll(List.of("--xds-port", String.valueOf(xds), "--monitoring-port", String.valueOf(mon)));
    Process p = new ProcessBuilder(command)
        .redirectError(ProcessBuilder.Redirect.INHERIT).redirectOutput(ProcessBuilder.Redirect.INHERIT).start();
    ControlPlaneProcess cp = new ControlPlaneProcess(p, xds, mon, clockTicks(), gcLog);
    try {
      cp.awaitReady();
    } catch (Exception e) {
      cp.close();
      throw e;
    }
    return cp;
  }

  int xdsPort() {
    return xdsPort;
  }

  long pid() {
    return process.pid();
  }

  private void awaitReady() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(READY_TIMEOUT_SECONDS);
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) throw new IllegalStateException("control plane exited with " + process.exitValue());
      try {
        if (http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + monitoringPort + "/ready")).build(),
            HttpResponse.BodyHandlers.discarding()).statusCode() == 200) return;
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("control plane not ready in " + READY_TIMEOUT_SECONDS + " s");
  }

  /**
   * The peak heap use since the last call (or since start): the largest heap in use before any
   * collection logged in between (collections forced by {@link #liveHeapKb()} included), or the
   * heap in use now if that is more (when nothing was collected in between).
   */
  GcLog.Peak heapPeakSinceLastReading() throws Exception {
    long now = usedHeapKb();
    List<String> lines = Files.readAllLines(gcLog);
    List<String> fresh = lines.subList(Math.min(gcLinesRead, lines.size()), lines.size());
    gcLinesRead = lines.size();
    return GcLog.peak(fresh).max(new GcLog.Peak(now, 0));
  }

  /** The process's peak resident set (VmHWM) in KB, heap and everything else; 0 off Linux. */
  long peakResidentKb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid()), "status"))) {
        if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("\\D", ""));
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or the process is gone: no figure
    }
    return 0;
  }

  /**
   * How long {@code GET /debug/status} takes, {@code calls} times one after another on one
   * keep-alive connection, each timed to the last byte of the body.
   *
   * @param nanos one duration per call that answered 200
   * @param bytes the size of the last answer
   * @param failure null, or why a call did not answer (the calls stop there)
   */
  record StatusTimes(List<Long> nanos, long bytes, String failure) {}

  StatusTimes timeStatus(int calls) throws InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + monitoringPort + "/debug/status"))
        .timeout(STATUS_TIMEOUT).build();
    List<Long> nanos = new ArrayList<>();
    long bytes = 0;
    for (int i = 0; i < calls; i++) {
      long start = System.nanoTime();
      try {
        HttpResponse<byte[]> r = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        long took = System.nanoTime() - start;
        if (r.statusCode() != 200) return new StatusTimes(nanos, bytes, "answered " + r.statusCode());
        nanos.add(took);
        bytes = r.body().length;
      } catch (IOException e) {
        return new StatusTimes(nanos, bytes, "no answer within " + STATUS_TIMEOUT.toSeconds() + " s: " + e);
      }
    }
    return new StatusTimes(nanos, bytes, null);
  }

  /** The control plane's Prometheus text. */
  String metrics() throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + monitoringPort + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  /** Prints the control plane's own view (snapshot published → response sent). */
  void printConvergenceQuantiles() throws Exception {
    System.out.println("control plane's own view (snapshot published -> response sent), weft_xds_convergence_seconds:");
    for (String line : metrics().split("\n")) {
      if (line.startsWith("weft_xds_convergence_seconds{quantile")) System.out.println("  " + line);
    }
  }

  /** Live heap: force a full GC with jcmd (twice, so objects freed by finalisation go too), then read the used size. */
  long liveHeapKb() throws Exception {
    jcmd("GC.run");
    Thread.sleep(500);
    jcmd("GC.run");
    return usedHeapKb();
  }

  /** The heap in use now, garbage included (no collection is forced). */
  private long usedHeapKb() throws Exception {
    String info = jcmd("GC.heap_info");
    Matcher m = Pattern.compile("used (\\d+)K").matcher(info);
    if (!m.find()) throw new IllegalStateException("cannot read heap use from: " + info);
    return Long.parseLong(m.group(1));
  }

  private String jcmd(String command) throws Exception {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    Process p = new ProcessBuilder(jcmd.toString(), String.valueOf(pid()), command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor(60, TimeUnit.SECONDS);
    return out;
  }

  /**
   * CPU time the control-plane process has used so far, user plus system, in nanoseconds.
   *
   * <p>Read from {@code /proc/PID/stat} (fields 14 and 15, utime and stime) rather than asked of
   * the JVM: reading it costs the control plane nothing, so the figure is not disturbed by its
   * own measurement, and it counts every thread, including ones that have already exited (the
   * kernel folds their time into the process). Its unit is the clock tick ({@code getconf
   * CLK_TCK}, 100 per second on Linux), so a single reading is exact only to 10 ms; sums and
   * means over many changes are exact to well under that, since each reading's rounding is
   * independent of the work measured.
   */
  long cpuNanos() throws IOException {
    String stat = Files.readString(Path.of("/proc", String.valueOf(pid()), "stat"));
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its ')'.
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
    long ticks = Long.parseLong(fields[14 - 3]) + Long.parseLong(fields[15 - 3]);
    return ticks * 1_000_000_000L / clockTicksPerSecond;
  }

  /** The granularity of {@link #cpuNanos()}, in milliseconds. */
  long cpuResolutionMillis() {
    return 1000 / clockTicksPerSecond;
  }

  private static long clockTicks() {
    try {
      Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      p.waitFor(10, TimeUnit.SECONDS);
      return Long.parseLong(out);
    } catch (IOException | InterruptedException | NumberFormatException e) {
      return 100; // Linux's USER_HZ on every common architecture
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(10, TimeUnit.SECONDS);
    }
    try {
      Files.deleteIfExists(gcLog);
    } catch (IOException e) {
      // a temporary file left behind is harmless
    }
  }
}
