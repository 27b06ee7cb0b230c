package weft.security.federation;

import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The federated peers' bundles: one entry per peer trust domain, fetched from its bundle endpoint and
 * refetched at its refresh hint (bounded to {@code [minRefresh, maxRefresh]}). A failed fetch keeps the
 * last good bundle in force and marks it stale; the next attempt comes after {@code minRefresh}.
 *
 * <p>Every change of state runs on {@code scheduler}, which must be single-threaded; readers see an
 * immutable map published through a volatile field. {@code onChange} runs on that thread whenever a
 * peer's roots change, so the control plane can rebuild its {@link weft.security.trust.TrustBundles}.
 */
public final class PeerBundles implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(PeerBundles.class.getName());
  /** Production bounds on a peer's refresh hint: no tighter than 30 s (load), no looser than 1 h (rotation). */
  public static final Duration MIN_REFRESH = Duration.ofSeconds(30);
  public static final Duration MAX_REFRESH = Duration.ofHours(1);
  // SPIRE's default refresh hint when a bundle gives none: five minutes.
  static final Duration DEFAULT_REFRESH = Duration.ofMinutes(5);

  /** What is known of one peer: its declaration, its last good bundle and when, and the last error. */
  public record PeerState(FederatedPeer peer, SpiffeBundle bundle, Instant fetchedAt, String lastError,
      Instant lastAttempt) {
    /** The last good bundle is in force but the last attempt to renew it failed (or none succeeded yet). */
    public boolean stale() {
      return lastError != null;
    }
  }

  private final BundleClient client;
  private final ScheduledExecutorService scheduler;
  private final Clock clock;
  private final Duration minRefresh;
  private final Duration maxRefresh;
  private final Runnable onChange;
  // Owned by the scheduler thread.
  private final Map<String, ScheduledFuture<?>> timers = new TreeMap<>();
  private volatile Map<String, PeerState> states = Map.of();
  // Owned by the scheduler thread: bundles kept from before a restart, each used once, when its trust
  // domain is first declared (then fetched as usual).
  private final Map<String, SpiffeBundle> kept = new TreeMap<>();

  public PeerBundles(BundleClient client, ScheduledExecutorService scheduler, Clock clock, Duration minRefresh,
      Duration maxRefresh, Runnable onChange) {
    this.client = Objects.requireNonNull(client, "client");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.clock = clock;
    this.minRefresh = minRefresh;
    this.maxRefresh = maxRefresh;
    this.onChange = onChange;
  }

  /**
   * Bundles kept from before a restart ({@link PeerBundleStore}): a peer declared again starts with
   * its kept bundle in force (stale until its first fetch) instead of nothing, and an https_spiffe
   * peer's first fetch is checked against it rather than the bootstrap bundle (SPIRE's rule). Call
   * before the first {@link #setPeers}.
   */
  public void seed(Map<String, SpiffeBundle> bundles) {
    Map<String, SpiffeBundle> copy = Map.copyOf(bundles);
    scheduler.execute(() -> kept.putAll(copy));
  }

  /**
   * The declared peers, as a whole: new ones are fetched at once, removed ones forgotten, unchanged
   * ones keep their bundle. A peer claiming {@code ourTrustDomain} (or one of its aliases) is refused:
   * another mesh's CA must never vouch for our identities.
   *
   * @return one message per refused peer
   */
  public List<String> setPeers(String ourTrustDomain, List<String> ourAliases, List<FederatedPeer> peers) {
    List<String> problems = new ArrayList<>();
    Map<String, FederatedPeer> accepted = new LinkedHashMap<>();
    for (FederatedPeer p : peers) {
      if (p.trustDomain().equals(ourTrustDomain) || ourAliases.contains(p.trustDomain())) {
        problems.add(p.source() + ": trustDomain " + p.trustDomain() + " is this mesh's own trust domain; a peer "
            + "cannot vouch for our identities. Name the peer's own trust domain");
      } else if (accepted.containsKey(p.trustDomain())) {
        problems.add(p.source() + ": trust domain " + p.trustDomain() + " is already federated by "
            + accepted.get(p.trustDomain()).source() + "; keep one declaration per trust domain");
      } else {
        accepted.put(p.trustDomain(), p);
      }
    }
    scheduler.execute(() -> apply(accepted));
    return problems;
  }

  private void apply(Map<String, FederatedPeer> peers) {
    Map<String, PeerState> next = new TreeMap<>();
    boolean changed = false;
    for (FederatedPeer p : peers.values()) {
      PeerState old = states.get(p.trustDomain());
      if (old != null && old.peer().equals(p)) {
        next.put(p.trustDomain(), old);
        continue;
      }
      // A new or changed declaration: https_spiffe's bootstrap bundle is in force until the first fetch.
      SpiffeBundle before = kept.remove(p.trustDomain());
      next.put(p.trustDomain(), before != null
          ? new PeerState(p, before, null, "not fetched yet since the start; the bundle kept from before is in force",
              null)
          : new PeerState(p, p.bootstrap(), null, "not fetched yet", null));
      changed = true;
      cancel(p.trustDomain());
      timers.put(p.trustDomain(), scheduler.schedule(() -> refresh(p.trustDomain()), 0, TimeUnit.MILLISECONDS));
    }
    for (String td : List.copyOf(timers.keySet())) {
      if (!peers.containsKey(td)) {
        cancel(td);
        changed = true;
      }
    }
    states = Map.copyOf(next);
    if (changed) onChange.run();
  }

  private void cancel(String td) {
    ScheduledFuture<?> f = timers.remove(td);
    if (f != null) f.cancel(false);
  }

  /** One fetch of one peer, then the next one scheduled. */
  private void refresh(String td) {
    PeerState old = states.get(td);
    if (old == null) return; // removed meanwhile
    FederatedPeer peer = old.peer();
    Instant now = clock.instant();
    PeerState next;
    Duration delay;
    try {
      SpiffeBundle trusted = old.bundle() != null ? old.bundle() : peer.bootstrap();
      SpiffeBundle fetched = client.fetch(peer, trusted, DEFAULT_REFRESH);
      next = new PeerState(peer, fetched, now, null, now);
      delay = clamp(fetched.refreshHint());
      if (old.bundle() == null || old.bundle().sequence() != fetched.sequence()
          || !sameRoots(old.bundle(), fetched)) {
        LOG.log(System.Logger.Level.INFO, "trust domain " + td + ": bundle sequence " + fetched.sequence() + " with "
            + fetched.x509Authorities().size() + " root(s) from " + peer.bundleEndpointUrl());
      }
    } catch (BundleException | RuntimeException e) {
      next = new PeerState(peer, old.bundle(), old.fetchedAt(), e.getMessage(), now);
      delay = minRefresh;
      LOG.log(System.Logger.Level.WARNING, "trust domain " + td + " (" + peer.source() + "): " + e.getMessage()
          + (old.bundle() != null ? "; the last bundle stays in force" : "; nothing is trusted for it yet"));
    }
    boolean rootsChanged = !sameRoots(old.bundle(), next.bundle());
    Map<String, PeerState> copy = new TreeMap<>(states);
    copy.put(td, next);
    states = Map.copyOf(copy);
    if (!scheduler.isShutdown()) {
      timers.put(td, scheduler.schedule(() -> refresh(td), delay.toMillis(), TimeUnit.MILLISECONDS));
    }
    if (rootsChanged) onChange.run();
  }

  private Duration clamp(Duration hint) {
    if (hint.compareTo(minRefresh) < 0) return minRefresh;
    return hint.compareTo(maxRefresh) > 0 ? maxRefresh : hint;
  }

  private static boolean sameRoots(SpiffeBundle a, SpiffeBundle b) {
    if (a == null || b == null) return a == b;
    return BundleSequence.fingerprint(a.x509Authorities()).equals(BundleSequence.fingerprint(b.x509Authorities()));
  }

  /** Each peer's state, by trust domain. */
  public Map<String, PeerState> states() {
    return states;
  }

  /** The roots in force per peer trust domain (the last good bundle, or https_spiffe's bootstrap). */
  public Map<String, List<X509Certificate>> roots() {
    Map<String, List<X509Certificate>> out = new TreeMap<>();
    states.forEach((td, s) -> {
      if (s.bundle() != null) out.put(td, s.bundle().x509Authorities());
    });
    return out;
  }

  @Override
  public void close() {
    scheduler.execute(() -> timers.values().forEach(f -> f.cancel(false)));
  }
}
