package weft.registry.kube;

import java.time.Duration;

/**
 * How quickly a cluster source notices trouble and tries again. Tests shorten every value.
 *
 * @param poll how often a cluster's informers are checked; cheap (a few volatile reads)
 * @param lostAfter how long a watch may stay down before the cluster is marked stale
 * @param syncTimeout how long one attempt may take to list everything before it counts as failed
 * @param retryMin first delay before reconnecting; doubled per failed attempt
 * @param retryMax the longest delay between attempts
 * @param stateDebounce how long changes gather before the cluster's state file is rewritten
 */
record Timing(Duration poll, Duration lostAfter, Duration syncTimeout, Duration retryMin, Duration retryMax,
    Duration stateDebounce) {

  /**
   * fabric8 re-opens every watch each 5 to 10 minutes (a graceful close) and retries a dropped one
   * on its own from 1 s on, so a watch that is down for a moment is normal; 3 s down (two retries
   * missed) is an outage, which operators then see within a few seconds (the topology page polls
   * each second). Being marked stale changes no endpoint: the last known state keeps serving.
   * 2 minutes bounds a hung listing without cutting off a large cluster's first list. Retries stay
   * at most 30 s apart, like fabric8's own reconnect cap.
   */
  static final Timing DEFAULTS = new Timing(Duration.ofMillis(250), Duration.ofSeconds(3), Duration.ofMinutes(2),
      Duration.ofSeconds(1), Duration.ofSeconds(30), Duration.ofSeconds(2));
}
