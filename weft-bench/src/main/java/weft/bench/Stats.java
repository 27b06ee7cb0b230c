package weft.bench;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Percentiles and units for the harness's reports. */
final class Stats {
  private Stats() {}

  /** The p-th percentile (nearest rank) of durations in nanoseconds, in milliseconds; NaN when empty. */
  static double pct(List<Long> nanos, int p) {
    if (nanos.isEmpty()) return Double.NaN;
    long[] sorted = nanos.stream().mapToLong(Long::longValue).toArray();
    Arrays.sort(sorted);
    int i = Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1);
    return sorted[Math.max(0, i)] / 1e6;
  }

  /** The mean of durations in nanoseconds, in milliseconds; NaN when empty. */
  static double meanMs(List<Long> nanos) {
    return nanos.stream().mapToLong(Long::longValue).average().orElse(Double.NaN) / 1e6;
  }

  static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }
}
