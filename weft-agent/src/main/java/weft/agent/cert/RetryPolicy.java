package weft.agent.cert;

import java.time.Duration;
import java.util.Objects;
import java.util.function.DoubleSupplier;

/**
 * How long to wait before the next certificate request after {@code n} failures in a row:
 * {@code initial * multiplier^(n-1)}, at most {@code max}, spread by up to {@code jitter} either way
 * so that many workloads refused at once do not come back at once.
 */
public record RetryPolicy(Duration initial, Duration max, double multiplier, double jitter) {
  /**
   * Ours: a first retry after a second (a CA restarting is back quickly), then doubling up to two
   * minutes, which keeps a workload well inside the half of its certificate's life that is left
   * when rotation starts (12 hours with Istio's default 24-hour certificates).
   */
  public static final RetryPolicy DEFAULT = new RetryPolicy(Duration.ofSeconds(1), Duration.ofMinutes(2), 2.0, 0.2);

  public RetryPolicy {
    Objects.requireNonNull(initial, "initial");
    Objects.requireNonNull(max, "max");
    if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
      throw new IllegalArgumentException("need 0 < initial <= max, got " + initial + " and " + max);
    }
    if (multiplier < 1) {
      throw new IllegalArgumentException("multiplier must be at least 1, got " + multiplier);
    }
    if (jitter < 0 || jitter >= 1) {
      throw new IllegalArgumentException("jitter must be in [0, 1), got " + jitter);
    }
  }

  /** The same policy without randomness (tests). */
  public RetryPolicy withoutJitter() {
    return new RetryPolicy(initial, max, multiplier, 0);
  }

  /**
   * @param failures failures in a row, at least 1
   * @param random uniform in [0, 1)
   */
  public Duration delayAfter(int failures, DoubleSupplier random) {
    double millis = initial.toMillis() * Math.pow(multiplier, Math.max(0, failures - 1));
    millis = Math.min(millis, max.toMillis());
    if (jitter > 0) {
      millis *= 1 + jitter * (2 * random.getAsDouble() - 1);
    }
    return Duration.ofMillis(Math.max(1, Math.round(millis)));
  }
}
