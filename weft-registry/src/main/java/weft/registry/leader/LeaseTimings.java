package weft.registry.leader;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link LeaseLeadership} holds its lease.
 *
 * @param leaseDuration how long a lease lasts after its last renewal: another instance takes over at
 *     most this long (plus {@code retryPeriod}) after the leader's last renewal
 * @param renewDeadline how long a leader goes on leading without a successful renewal: it stops
 *     writing at once when this passes, so before its lease can expire for the others
 * @param retryPeriod the longest wait between two attempts to take or renew the lease
 */
public record LeaseTimings(Duration leaseDuration, Duration renewDeadline, Duration retryPeriod) {
  /**
   * Istio's (pilot/pkg/leaderelection): a 30 s lease, renewed within half of it and retried every
   * quarter of it.
   */
  public static final LeaseTimings ISTIO_DEFAULTS =
      new LeaseTimings(Duration.ofSeconds(30), Duration.ofSeconds(15), Duration.ofMillis(7500));

  /** Checks the durations against each other (as client-go does); the message names the flags. */
  public LeaseTimings {
    Objects.requireNonNull(leaseDuration, "leaseDuration");
    Objects.requireNonNull(renewDeadline, "renewDeadline");
    Objects.requireNonNull(retryPeriod, "retryPeriod");
    if (retryPeriod.toMillis() < 1) {
      throw new IllegalArgumentException("--leader-retry-period must be at least 1 ms; it is " + retryPeriod);
    }
    if (renewDeadline.compareTo(leaseDuration) >= 0) {
      throw new IllegalArgumentException("--leader-renew-deadline (" + seconds(renewDeadline) + ") must be shorter "
          + "than --leader-lease-duration (" + seconds(leaseDuration) + "): a leader must stop writing before its "
          + "lease can pass to another instance");
    }
    if (retryPeriod.compareTo(renewDeadline) >= 0) {
      throw new IllegalArgumentException("--leader-retry-period (" + seconds(retryPeriod) + ") must be shorter "
          + "than --leader-renew-deadline (" + seconds(renewDeadline) + "): a leader needs more than one attempt "
          + "to renew before it gives up");
    }
  }

  static String seconds(Duration d) {
    return java.math.BigDecimal.valueOf(d.toMillis(), 3).stripTrailingZeros().toPlainString() + " s";
  }
}
