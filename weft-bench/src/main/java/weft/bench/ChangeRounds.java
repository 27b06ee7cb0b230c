package weft.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The measurement both stream benchmarks share: change one service's endpoints on disk, one
 * change at a time, and time until each stream, and every stream, holds the new address. The first
 * {@code warmup} changes are made and not counted: the JIT compiles the push path during them.
 */
final class ChangeRounds {
  /** A stream that can report when a service it watches first lists an address. */
  interface Watcher {
    /** From now on, note the first time the watched service lists {@code address}. */
    void await(String address);

    /** When the awaited address arrived ({@link System#nanoTime()}), or 0 while it has not. */
    long arrivedNanos();
  }

  /** Makes change number {@code change} (writes the file). */
  interface Change {
    void make(int change) throws Exception;
  }

  /** Reads the control plane's CPU time in nanoseconds. */
  interface CpuClock {
    long nanos() throws Exception;
  }

  /**
   * @param perStream change → one stream has it, for every counted change and stream
   * @param allStreams change → the last stream has it, per counted change
   * @param cpu control-plane CPU per counted change (empty when not measured)
   * @param cpuWindows how long each of those CPU readings spanned (wall clock)
   * @param missed stream updates that did not arrive within the timeout
   */
  record Result(List<Long> perStream, List<Long> allStreams, List<Long> cpu, List<Long> cpuWindows, int missed) {
    void print(int warmup, int changes, int streams) {
      System.out.printf("(after %d warm-up changes) endpoint change on disk -> stream has it, over %d changes x %d streams:"
          + " p50 %.1f ms, p99 %.1f ms, max %.1f ms%n", warmup, changes, streams, Stats.pct(perStream, 50),
          Stats.pct(perStream, 99), Stats.pct(perStream, 100));
      System.out.printf("endpoint change on disk -> every stream has it: p50 %.1f ms, p99 %.1f ms%n",
          Stats.pct(allStreams, 50), Stats.pct(allStreams, 99));
      StringBuilder each = new StringBuilder("  each change, ms until every stream had it:");
      for (long n : allStreams) each.append(' ').append(n / 1_000_000);
      System.out.println(each);
      if (missed > 0) System.out.printf("WARNING: %d stream updates did not arrive in time%n", missed);
    }
  }

  private final int warmup;
  private final int changes;
  private final long timeoutNanos;
  private final long quietMillis;

  /**
   * @param timeout how long one change may take to reach every stream before it counts as missed
   * @param quietMillis pause after each change has arrived everywhere (and before the next)
   */
  ChangeRounds(int warmup, int changes, long timeout, TimeUnit unit, long quietMillis) {
    this.warmup = warmup;
    this.changes = changes;
    this.timeoutNanos = unit.toNanos(timeout);
    this.quietMillis = quietMillis;
  }

  /**
   * Runs warm-up plus counted changes. With a {@code cpu} clock, each counted change's CPU is read
   * from just before the file is written to the end of the quiet pause after every stream has it:
   * the work the change caused, including what the control plane does after the last send
   * (bookkeeping, garbage collection of what the push allocated).
   */
  Result run(List<? extends Watcher> streams, Change change, CpuClock cpu) throws Exception {
    List<Long> perStream = new ArrayList<>();
    List<Long> allStreams = new ArrayList<>();
    List<Long> cpuPerChange = new ArrayList<>();
    List<Long> cpuWindows = new ArrayList<>();
    int missed = 0;
    for (int c = 0; c < warmup + changes; c++) {
      String marker = MeshFiles.marker(c);
      streams.forEach(s -> s.await(marker));
      long cpuBefore = cpu == null ? 0 : cpu.nanos();
      long start = System.nanoTime();
      change.make(c);
      long deadline = start + timeoutNanos;
      while (System.nanoTime() < deadline && streams.stream().anyMatch(s -> s.arrivedNanos() == 0)) {
        Thread.sleep(1);
      }
      Thread.sleep(quietMillis);
      if (c < warmup) continue;
      if (cpu != null) {
        cpuPerChange.add(cpu.nanos() - cpuBefore);
        cpuWindows.add(System.nanoTime() - start);
      }
      long worst = 0;
      for (Watcher s : streams) {
        long arrived = s.arrivedNanos();
        if (arrived == 0) {
          missed++;
          continue;
        }
        perStream.add(arrived - start);
        worst = Math.max(worst, arrived - start);
      }
      allStreams.add(worst);
    }
    return new Result(perStream, allStreams, cpuPerChange, cpuWindows, missed);
  }
}
