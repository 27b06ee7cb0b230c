package weft.registry.leader;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderCallbacks;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectionConfig;
import io.fabric8.kubernetes.client.extended.leaderelection.LeaderElectorBuilder;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaderElectionRecord;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.LeaseLock;
import io.fabric8.kubernetes.client.extended.leaderelection.resourcelock.Lock;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Leadership held through a Kubernetes Lease ({@code coordination.k8s.io/v1}) with fabric8's
 * {@code LeaderElector} and {@code LeaseLock}, as Istio's control planes elect theirs.
 *
 * <p>fabric8 decides who holds the lease; this class decides when this instance may write, more
 * strictly than fabric8 tells it: a leader leads only until {@code renewDeadline} after the renew
 * time of its last successful renewal. fabric8 checks its own deadline only between attempts, and
 * an attempt against an API server that does not answer can take longer, so {@link #isLeader()}
 * reads the clock itself, and listeners hear of the end at the deadline. As {@code renewDeadline} is
 * shorter than {@code leaseDuration}, the leader has stopped before another instance can take the
 * lease (on one clock; clock skew between hosts eats into the difference).
 *
 * <p>fabric8 waits a random 1 to 2.2 times its retry period between attempts to take the lease; it is
 * given {@code retryPeriod / 2.2}, so the longest wait is {@code retryPeriod} and a new leader takes
 * over within {@code leaseDuration + retryPeriod} of the last renewal. A closed leader gives the lease
 * up (fabric8's release rewrites it to end one second later; the others read the duration from the
 * lease), so the next instance takes it within a second and a retry period. After a lost lease a new
 * election starts; fabric8's elector runs once.
 *
 * <p>Threads: fabric8's attempts run on the {@code weft-leader-election} thread; listeners, the
 * deadline and restarts on {@code weft-leadership}. The fields fabric8 and the clock decide
 * {@link #isLeader()} by are volatile.
 */
public final class LeaseLeadership implements Leadership, AutoCloseable {
  private static final System.Logger LOG = System.getLogger(LeaseLeadership.class.getName());
  /** fabric8 (LeaderElector.JITTER_FACTOR) waits up to this many times its retry period more. */
  private static final double FABRIC8_JITTER = 1.2;

  private final String identity;
  private final String namespace;
  private final String name;
  private final LeaseTimings timings;
  private final KubernetesClient client;
  private final ExecutorService electorThread = Executors.newSingleThreadExecutor(daemon("weft-leader-election"));
  private final ScheduledExecutorService events = Executors.newSingleThreadScheduledExecutor(daemon("weft-leadership"));
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  private final Lock lock;

  /** fabric8 has made this instance leader and not yet taken it back. */
  private volatile boolean leading;
  /** {@link System#nanoTime()} at the renew time of this instance's last successful write of the lease. */
  private volatile long renewedAtNanos;
  private volatile boolean closed;
  private volatile String holder;
  private volatile Instant holderSince;

  // Touched only on the events thread.
  private boolean told;
  private ScheduledFuture<?> deadline;
  private CompletableFuture<?> election;

  private LeaseLeadership(Config config, String namespace, String name, String identity, LeaseTimings timings) {
    this.identity = identity;
    this.namespace = namespace;
    this.name = name;
    this.timings = timings;
    // Its own client: an attempt must end well within the renew deadline (fabric8 would otherwise
    // retry a failed request for about 20 s), and nothing else waits behind it.
    long timeout = Math.max(1, timings.renewDeadline().toMillis() / 2);
    Config own = new ConfigBuilder(config).withAutoConfigure(false).withRequestTimeout((int) Math.min(timeout,
        Integer.MAX_VALUE)).withConnectionTimeout((int) Math.min(timeout, Integer.MAX_VALUE))
        .withRequestRetryBackoffLimit(0).build();
    this.client = new KubernetesClientBuilder().withConfig(own).build();
    this.lock = new TrackingLock(new LeaseLock(namespace, name, identity));
  }

  /**
   * Starts contending for the Lease {@code namespace/name} on the API server {@code config} reaches
   * (a configuration checked by {@code KubeConfigs}; it is copied, with short timeouts). Returns at
   * once; {@link #isLeader()} is false until the lease is held.
   */
  public static LeaseLeadership start(Config config, String namespace, String name, String identity,
      LeaseTimings timings) {
    LeaseLeadership leadership = new LeaseLeadership(config, namespace, name, identity, timings);
    leadership.events.execute(leadership::elect);
    return leadership;
  }

  /**
   * This host's name (a pod's name in Kubernetes) and a random suffix, so that two instances on
   * one host, or a restarted one, never share an identity.
   */
  public static String defaultIdentity() {
    String host = System.getenv("POD_NAME");
    if (host == null || host.isBlank()) host = System.getenv("HOSTNAME");
    if (host == null || host.isBlank()) {
      try {
        host = InetAddress.getLocalHost().getHostName();
      } catch (java.io.IOException e) {
        host = "weft";
      }
    }
    // The environment is not trusted to be a name: keep what a Kubernetes name may hold.
    String clean = host.replaceAll("[^A-Za-z0-9.-]", "-");
    if (clean.length() > 52) clean = clean.substring(0, 52);
    byte[] random = new byte[5];
    new SecureRandom().nextBytes(random);
    StringBuilder suffix = new StringBuilder();
    for (byte b : random) suffix.append(String.format("%02x", b));
    return clean + "-" + suffix;
  }

  @Override
  public boolean isLeader() {
    return leading && !closed && System.nanoTime() - renewedAtNanos < timings.renewDeadline().toNanos();
  }

  @Override
  public void addListener(Listener listener) {
    events.execute(() -> {
      listeners.add(listener);
      notify(listener, told);
    });
  }

  @Override
  public LeaderStatus status() {
    return new LeaderStatus(identity, isLeader(), holder, holderSince, namespace + "/" + name);
  }

  public String identity() {
    return identity;
  }

  // ---- the election

  private void elect() {
    if (closed) return;
    Duration fabric8Retry = Duration.ofMillis(Math.max(1,
        Math.round(timings.retryPeriod().toMillis() / (1 + FABRIC8_JITTER))));
    LeaderCallbacks callbacks = new LeaderCallbacks(
        () -> {
          leading = true;
          post(this::publish);
        },
        () -> {
          leading = false;
          post(this::publish);
        },
        newHolder -> { });
    // releaseOnCancel: a closed leader ends its lease a second later, so the next need not wait for expiry.
    LeaderElectionConfig config = new LeaderElectionConfig(lock, timings.leaseDuration(), timings.renewDeadline(),
        fabric8Retry, callbacks, true, name);
    election = new LeaderElectorBuilder(client, electorThread).withConfig(config).build().start();
    CompletableFuture<?> mine = election;
    mine.whenComplete((v, t) -> post(() -> {
      leading = false;
      publish();
      if (closed || election != mine) return;
      LOG.log(System.Logger.Level.WARNING, "lease " + namespace + "/" + name + ": this instance (" + identity
          + ") left the election" + (t == null ? " (the lease was lost)" : " (" + t + ")") + "; contending again");
      // After a pause: an election that ends at once (an unexpected error) must not spin.
      events.schedule(this::elect, timings.retryPeriod().toMillis(), TimeUnit.MILLISECONDS);
    }));
  }

  /** Tells listeners when what {@link #isLeader()} says has changed; arms the deadline while leading. */
  private void publish() {
    boolean now = isLeader();
    if (deadline != null) deadline.cancel(false);
    deadline = null;
    if (now) {
      long left = renewedAtNanos + timings.renewDeadline().toNanos() - System.nanoTime();
      deadline = events.schedule(this::publish, Math.max(0, left) + 1_000_000, TimeUnit.NANOSECONDS);
    }
    if (now == told) return;
    told = now;
    LOG.log(System.Logger.Level.INFO, "lease " + namespace + "/" + name + ": this instance (" + identity + ") "
        + (now ? "leads" : "no longer leads" + (leading && !closed ? " (no renewal within the renew deadline)" : "")));
    for (Listener l : listeners) notify(l, now);
  }

  private static void notify(Listener listener, boolean leader) {
    try {
      listener.leadershipChanged(leader);
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.ERROR, "leadership listener failed", e);
    }
  }

  /** The lease, watched: who holds it, and when this instance last renewed it. */
  private final class TrackingLock implements Lock {
    private final LeaseLock lease;

    TrackingLock(LeaseLock lease) {
      this.lease = lease;
    }

    /** The last failure logged (fabric8 retries quietly); null once a call succeeds again. */
    private String failing;

    @Override
    public LeaderElectionRecord get(KubernetesClient c) {
      LeaderElectionRecord record;
      try {
        record = lease.get(c);
      } catch (RuntimeException e) {
        throw failed("read", e);
      }
      succeeded();
      seen(record);
      return record;
    }

    @Override
    public void create(KubernetesClient c, LeaderElectionRecord record) {
      long startNanos = System.nanoTime();
      ZonedDateTime startWall = ZonedDateTime.now(ZoneOffset.UTC);
      try {
        lease.create(c, record);
      } catch (RuntimeException e) {
        throw failed("create", e);
      }
      succeeded();
      wrote(record, startNanos, startWall);
    }

    @Override
    public void update(KubernetesClient c, LeaderElectionRecord record) {
      long startNanos = System.nanoTime();
      ZonedDateTime startWall = ZonedDateTime.now(ZoneOffset.UTC);
      try {
        lease.update(c, record);
      } catch (RuntimeException e) {
        throw failed("update", e);
      }
      succeeded();
      wrote(record, startNanos, startWall);
    }

    /**
     * Logs a failure once until it changes or calls succeed again (a lost race for the lease is no
     * failure: HTTP 409 is how the API server refuses a stale write).
     */
    private RuntimeException failed(String operation, RuntimeException e) {
      int code = e instanceof io.fabric8.kubernetes.client.KubernetesClientException k ? k.getCode() : 0;
      String why = operation + " failed: " + weft.model.text.ClientText.forLog(
          weft.registry.kube.KubeClusterSource.describe(e));
      if (code != 409 && !why.equals(failing)) {
        failing = why;
        LOG.log(System.Logger.Level.WARNING, "lease " + namespace + "/" + name + " (" + client.getMasterUrl() + "): "
            + why + "; retrying every " + LeaseTimings.seconds(timings.retryPeriod()) + " at most"
            + (code == 401 || code == 403 ? " (the control plane's credentials need get, create and patch on "
            + "leases.coordination.k8s.io in " + namespace + ")" : ""));
      }
      return e;
    }

    private void succeeded() {
      if (failing != null) {
        failing = null;
        LOG.log(System.Logger.Level.INFO, "lease " + namespace + "/" + name + ": the API server answers again");
      }
    }

    @Override
    public String identity() {
      return lease.identity();
    }

    @Override
    public String describe() {
      return lease.describe();
    }

    /**
     * The others count the lease from its renew time, which fabric8 took before this write (and
     * before the read that preceded it): the deadline counts from there too, never from later.
     */
    private void wrote(LeaderElectionRecord record, long startNanos, ZonedDateTime startWall) {
      if (identity.equals(record.getHolderIdentity()) && record.getRenewTime() != null) {
        long age = Math.max(0, Duration.between(record.getRenewTime(), startWall).toNanos());
        renewedAtNanos = startNanos - age;
        post(LeaseLeadership.this::publish);
      }
      seen(record);
    }

    private void seen(LeaderElectionRecord record) {
      String h = record == null ? null : record.getHolderIdentity();
      holder = h == null || h.isEmpty() ? null : h;
      holderSince = holder == null || record.getAcquireTime() == null ? null : record.getAcquireTime().toInstant();
    }
  }

  /**
   * Stops writing at once, then gives the lease up if held (bounded by the client's timeouts) and
   * stops contending.
   */
  @Override
  public void close() {
    closed = true;
    try {
      events.submit(() -> {
        publish();
        return null;
      }).get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      // listeners are told on a best-effort basis when closing
    }
    CompletableFuture<?> running;
    try {
      running = events.submit(() -> election).get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      running = null;
    }
    if (running != null) running.cancel(true);
    events.shutdownNow();
    electorThread.shutdownNow();
    client.close();
  }

  private void post(Runnable task) {
    try {
      events.execute(task);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closed: listeners have been told already
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String threadName) {
    return r -> {
      Thread t = new Thread(r, threadName);
      t.setDaemon(true);
      return t;
    };
  }
}
