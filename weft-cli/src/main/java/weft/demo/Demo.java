package weft.demo;

import io.grpc.StatusRuntimeException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * {@code weft demo}: a control plane (with its CA) on a generated config of two clusters on two
 * networks, three xDS echo servers with mTLS, an east-west gateway for network-2, and a proxyless
 * gRPC client in network-1, us-east/zone-a, calling {@code xds:///echo.default.svc.cluster.local:9080}.
 * Each second it prints which endpoint answered while the demo shifts traffic live (the steps of
 * {@link Story}): across clusters and networks (network-2 only through its gateway), by
 * VirtualService weights, then by locality failover as endpoints stop and come back.
 */
public final class Demo {
  /**
   * A step lasts its share of the duration, and longer while the client has not shown the step's
   * traffic yet, up to this much more: on a busy machine the story is still told to its end.
   */
  private static final Duration STEP_PATIENCE = Duration.ofSeconds(60);
  /** How long Ctrl-C waits for the demo to stop what it started before deleting its files anyway. */
  private static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(10);
  /** Answers a one-second line must hold before a share of them counts. */
  private static final int MIN_CALLS_FOR_A_SHARE = 10;

  private final PrintStream out;
  private final long durationMillis;
  private final CountDownLatch finished = new CountDownLatch(1);
  private volatile DemoFolders folders;

  /** @throws IllegalArgumentException when {@code durationSeconds} is not positive */
  public Demo(PrintStream out, long durationSeconds) {
    if (durationSeconds <= 0) {
      throw new IllegalArgumentException("--duration must be a positive number of seconds, got " + durationSeconds);
    }
    this.out = out;
    this.durationMillis = TimeUnit.SECONDS.toMillis(durationSeconds);
  }

  /** What a shutdown hook (Ctrl-C) runs while {@code runner} is in {@link #run()}. */
  public Runnable stopper(Thread runner) {
    return stopper(runner, finished, () -> folders, SHUTDOWN_GRACE);
  }

  /**
   * Interrupts {@code runner}, gives it {@code grace} to close what it started, then deletes the
   * demo's files whatever it did: the JVM halts as soon as its shutdown hooks return, so the
   * deleting cannot be left to the demo thread alone.
   */
  static Runnable stopper(Thread runner, CountDownLatch finished, Supplier<DemoFolders> folders, Duration grace) {
    return () -> {
      runner.interrupt();
      try {
        finished.await(grace.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      DemoFolders f = folders.get();
      if (f != null) f.close();
    };
  }

  /** Runs the story, then stops; returns 0. Interrupting the thread (Ctrl-C) ends it early. */
  public int run() throws Exception {
    try {
      DemoFolders f = DemoFolders.create();
      folders = f;
      out.printf("files: %s (owner only, deleted when the demo ends)%n", f.root());
      out.println("starting: two clusters' API servers, a control plane with a CA, network-2's east-west"
          + " gateway, three echo servers and a client, each with its agent");
      try (f; LiveMesh mesh = LiveMesh.start(f, out)) {
        // The first call waits for listener → route → cluster → endpoints to arrive over xDS.
        out.println("client: first call, once its listener, route, cluster and endpoints arrive over xDS");
        long t0 = System.nanoTime();
        mesh.call(Duration.ofSeconds(60));
        out.printf("client: first answer after %d ms%n%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0));
        List<Story.Step> steps = Story.steps(mesh, MIN_CALLS_FOR_A_SHARE);
        long share = Math.max(1000, durationMillis / steps.size());
        for (Story.Step step : steps) {
          // Said before it happens, so the lines that follow read as its effect.
          out.printf("== %s%n", step.title());
          step.change().apply();
          show(mesh, step, share);
        }
        out.printf("connections through network-2's east-west gateway: %d%n", mesh.gateway().stats().total());
        out.println("demo finished");
        return 0;
      }
    } catch (InterruptedException e) {
      out.println("demo interrupted");
      return 0;
    } finally {
      finished.countDown();
    }
  }

  /** Prints a line a second until the step's share has passed and its traffic has shown. */
  private void show(LiveMesh mesh, Story.Step step, long shareMillis) throws InterruptedException {
    long start = System.nanoTime();
    boolean seen = false;
    while (true) {
      Map<String, Integer> counts = new TreeMap<>();
      int failed = oneSecond(mesh, counts);
      out.println("   " + line(counts, failed));
      seen |= step.expected().matches(counts);
      long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      if (seen && elapsed >= shareMillis) return;
      if (elapsed >= shareMillis + STEP_PATIENCE.toMillis()) {
        out.printf("   (not seen yet: %s; going on)%n", step.expected().description());
        return;
      }
    }
  }

  /** Calls as fast as it can for one second; returns how many calls failed. */
  private static int oneSecond(LiveMesh mesh, Map<String, Integer> counts) throws InterruptedException {
    int failed = 0;
    long stop = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
    while (System.nanoTime() < stop) {
      try {
        counts.merge(mesh.call(Duration.ofSeconds(5)), 1, Integer::sum);
      } catch (StatusRuntimeException e) {
        failed++;
      }
      if (Thread.currentThread().isInterrupted()) throw new InterruptedException();
    }
    return failed;
  }

  private static String line(Map<String, Integer> counts, int failed) {
    int total = counts.values().stream().mapToInt(Integer::intValue).sum();
    StringBuilder b = new StringBuilder();
    for (String[] w : DemoMesh.WORKLOADS) {
      int v = counts.getOrDefault(w[0], 0);
      b.append(String.format("%-9s %3d%%  ", w[0], total == 0 ? 0 : Math.round(100.0 * v / total)));
    }
    b.append(String.format("(%d calls", total));
    if (failed > 0) b.append(", ").append(failed).append(" failed");
    return b.append(')').toString();
  }
}
