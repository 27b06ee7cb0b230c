package weft.registry.leader;

import java.time.Instant;

/**
 * Whether this control plane instance may write back to an API server (status and the like).
 *
 * <p>Every instance computes everything the same way (allocations included); only writes are leader
 * work. A writer asks {@link #isLeader()} right before each write and stops when it turns false: with
 * a {@link LeaseLeadership} that happens before the lease could pass to another instance, so two
 * instances never write at once. {@link #addListener} tells of every change, for writers that keep
 * work queued while they do not lead (and write everything once they do).
 *
 * <p>In file mode ({@code --config-dir}) the one instance is the leader: {@link #sole}.
 */
public interface Leadership {
  /** True while this instance leads; cheap, exact at the moment of the call. */
  boolean isLeader();

  /**
   * Calls {@code listener} with the current state, then on every change, in order, on one thread
   * owned by the leadership (hand long work off). A listener that throws is logged and kept.
   */
  void addListener(Listener listener);

  /** Who leads, for {@code /debug/status}. */
  LeaderStatus status();

  /** Told of leadership changes. */
  @FunctionalInterface
  interface Listener {
    void leadershipChanged(boolean leader);
  }

  /**
   * What {@code /debug/status} shows.
   *
   * @param identity this instance's identity (host name and a unique suffix)
   * @param leader whether this instance leads now
   * @param holder the identity that holds the lease as last seen, or null when nobody does
   * @param holderSince when the holder took the lease (its acquire time), or null
   * @param lease where the lease lives ({@code namespace/name} on a cluster's API server), or null
   *     when this is the only instance (file mode)
   */
  record LeaderStatus(String identity, boolean leader, String holder, Instant holderSince, String lease) {}

  /** The only instance (file mode, {@code --config-dir}): leads from {@code since} until the end. */
  static Leadership sole(String identity, Instant since) {
    LeaderStatus status = new LeaderStatus(identity, true, identity, since, null);
    return new Leadership() {
      @Override
      public boolean isLeader() {
        return true;
      }

      @Override
      public void addListener(Listener listener) {
        listener.leadershipChanged(true);
      }

      @Override
      public LeaderStatus status() {
        return status;
      }
    };
  }
}
