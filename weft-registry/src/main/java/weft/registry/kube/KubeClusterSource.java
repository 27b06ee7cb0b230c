package weft.registry.kube;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import weft.model.ConfigProblem;
import weft.model.Resource;
import weft.model.ResourceId;
import weft.registry.Registry;
import weft.registry.kube.StateStore.Stored;

/**
 * One cluster's Kubernetes API state, kept in the registry by fabric8 informers: Services,
 * EndpointSlices, Pods, Nodes and Namespaces, plus Istio's networking and security config when the
 * cluster is the control plane's config cluster. The caller adds the cluster to the registry first.
 *
 * <p>A connection is an <em>attempt</em>: a set of informers that list everything, then watch. When
 * an attempt has listed, its listing replaces the cluster's whole state in the registry
 * ({@link Registry#resync}), so deletes made while nobody watched apply too. When the API server
 * is lost (a watch down for longer than a moment, an informer stopped, a listing that fails or hangs)
 * the attempt is dropped whole, the cluster is marked stale and a new attempt follows with backoff;
 * nothing is deleted because a connection dropped. The same rule makes a rotated credential safe: a
 * source started with {@link #takeOverFrom} serves nothing until it has listed, then stops its
 * predecessor and replaces the state in one step.
 *
 * <p>All state lives on the cluster's own thread; informer callbacks only parse and hand over. A
 * slow or flapping API server therefore delays nobody else, and no registry call ever waits.
 */
public final class KubeClusterSource implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(KubeClusterSource.class.getName());
  /** How long {@link #close} waits for the cluster's thread; its tasks are short and never wait on the network. */
  private static final long CLOSE_WAIT_SECONDS = 10;

  private final String clusterId;
  private final KubernetesClient client;
  private final Registry registry;
  private final StateStore state;
  private final Timing timing;
  private final boolean ownsClient;
  private final List<WatchedKind> kinds;
  /** Kinds this source reads: a listing replaces only these (the cluster may have another source). */
  private final Set<String> kindNames;
  /**
   * Which of the cluster's feeds this source is: "" for a whole cluster or its workloads,
   * {@link #CONFIG_FEED} for an external control plane's config cluster read for its Istio config.
   */
  private final String feed;
  /** Names this source's file in the state folder: the cluster id, with the feed after a '~'. */
  private final String stateName;
  /** Names this cluster's API server in problems ({@link ConfigProblem#file()}) and logs. */
  private final String source;
  private final String server;
  private final ScheduledExecutorService executor;
  private final CountDownLatch synced = new CountDownLatch(1);
  private final AtomicBoolean starting = new AtomicBoolean();
  private final AtomicBoolean closing = new AtomicBoolean();
  /** Why the cluster is not in sync right now, or null when it is. */
  private volatile String notSynced = "not started";

  // Everything below is touched only on the executor's thread.
  /** What this source has given the registry: the accepted version of every object. */
  private final Map<ResourceId, Stored> accepted = new HashMap<>();
  /** Changes not yet handed to the registry; a burst of events becomes one update. */
  private final Map<ResourceId, Resource> unsent = new HashMap<>();
  private final Map<ResourceId, List<ConfigProblem>> problems = new HashMap<>();
  private KubeClusterSource predecessor;
  private Attempt current;
  private int attempts;
  /** Failed attempts in a row; sets the backoff. */
  private int failures;
  private boolean everSynced;
  private Instant restoredFrom;
  private Instant lostSince;
  private String staleReason;
  private boolean flushQueued;
  private boolean saveQueued;
  private boolean dirty;
  private boolean closed;

  /**
   * @param configCluster also read Istio config (ServiceEntry, WorkloadEntry, DestinationRule,
   *     VirtualService, Sidecar, Gateway, PeerAuthentication, AuthorizationPolicy,
   *     RequestAuthentication); only the control plane's own config cluster is
   * @param state where this cluster's last known state is kept, or null to keep none
   */
  /** The client this source reads with (the CA checks this cluster's tokens through it). */
  public KubernetesClient client() {
    return client;
  }

  public KubeClusterSource(String clusterId, KubernetesClient client, boolean configCluster, Registry registry,
      StateStore state) {
    this(clusterId, client, configCluster, registry, state, Timing.DEFAULTS, false);
  }

  /** {@code ownsClient}: {@link #close} closes the client too (clients made from remote secrets). */
  KubeClusterSource(String clusterId, KubernetesClient client, boolean configCluster, Registry registry,
      StateStore state, Timing timing, boolean ownsClient) {
    this(clusterId, client, WatchedKind.forCluster(configCluster, registry.mcs().reads()), "", registry, state, timing,
        ownsClient);
  }

  /** The feed name of {@link #configOnly} sources (in stale reasons, problems and the state file's name). */
  public static final String CONFIG_FEED = "config";

  /**
   * The config cluster of an external control plane, read for its Istio config only: it has no
   * workloads of its own here (when it runs some, a remote secret of its own adds them as another
   * source of the same cluster id, and neither deletes what the other gave).
   */
  public static KubeClusterSource configOnly(String clusterId, KubernetesClient client, Registry registry,
      StateStore state) {
    return configOnly(clusterId, client, registry, state, Timing.DEFAULTS);
  }

  static KubeClusterSource configOnly(String clusterId, KubernetesClient client, Registry registry,
      StateStore state, Timing timing) {
    return new KubeClusterSource(clusterId, client, WatchedKind.ISTIO_CONFIG, CONFIG_FEED, registry, state, timing,
        false);
  }

  private KubeClusterSource(String clusterId, KubernetesClient client, List<WatchedKind> kinds, String feed,
      Registry registry, StateStore state, Timing timing, boolean ownsClient) {
    this.clusterId = clusterId;
    this.client = client;
    this.registry = registry;
    this.state = state;
    this.timing = timing;
    this.ownsClient = ownsClient;
    this.kinds = kinds;
    this.kindNames = kinds.stream().map(WatchedKind::kind).collect(java.util.stream.Collectors.toUnmodifiableSet());
    this.feed = feed;
    // '~' is never in a cluster id, so a feed's file cannot be another cluster's.
    this.stateName = feed.isEmpty() ? clusterId : clusterId + "~" + feed;
    this.server = String.valueOf(client.getMasterUrl());
    this.source = "cluster " + clusterId + " API server" + (feed.isEmpty() ? "" : " (" + feed + ")");
    this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "weft-kube-" + clusterId + (feed.isEmpty() ? "" : "-" + feed));
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Makes this source the successor of one that serves the same cluster (a rotated credential):
   * the predecessor keeps serving until this source has listed everything, then is closed. Call
   * before {@link #start}.
   */
  void takeOverFrom(KubeClusterSource old) {
    post(() -> predecessor = old);
  }

  /**
   * Restores the cluster's saved state (marked stale) when there is one, then connects. Returns at
   * once; {@link #awaitSynced} waits for the first listing.
   */
  public void start() {
    if (!starting.compareAndSet(false, true)) return;
    post(() -> {
      restore();
      connect();
    });
    long poll = timing.poll().toMillis();
    executor.scheduleWithFixedDelay(guarded(this::check), poll, poll, TimeUnit.MILLISECONDS);
  }

  /** Whether the cluster has been listed once (start-up progress; never waits). */
  public boolean synced() {
    return synced.getCount() == 0;
  }

  /** Waits until the cluster has been listed once and the registry has applied it. */
  public boolean awaitSynced(Duration max) {
    try {
      if (!synced.await(max.toMillis(), TimeUnit.MILLISECONDS)) return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
    registry.flush();
    return true;
  }

  public String clusterId() {
    return clusterId;
  }

  /** Why the cluster is not in sync with its API server right now; null when it is. */
  String notSyncedReason() {
    return notSynced;
  }

  // ---- connecting

  private void connect() {
    if (closed) return;
    Attempt attempt = new Attempt(++attempts, client, kinds, new Attempt.Events() {
      @Override
      public void seen(Attempt a, WatchedKind kind, GenericKubernetesResource object, boolean deleted) {
        KubeClusterSource.this.seen(a, kind, object, deleted);
      }

      @Override
      public void counted(WatchedKind kind, String event) {
        registry.apiEvents().event(kind.istio(), kind.istio() ? kind.kind() : registryType(kind.kind()), event);
      }
    });
    current = attempt;
    if (lostSince == null) notSynced = "no complete listing from " + server + " yet";
    try {
      attempt.start().whenComplete((v, t) -> post(() -> {
        if (t == null) listed(attempt); else failed(attempt, t);
      }));
    } catch (RuntimeException e) {
      failed(attempt, e);
    }
  }

  /** An attempt has listed every kind: its listing becomes the cluster's whole state. */
  private void listed(Attempt attempt) {
    if (closed || attempt != current) {
      attempt.close();
      return;
    }
    // Live before the stores are read: an event that misses this flag is already in the store.
    attempt.live = true;
    attempt.liveSinceNanos = System.nanoTime();
    if (predecessor != null) {
      // Make-before-break: the old connection has served until now; its last updates are queued
      // in the registry ahead of the listing below.
      predecessor.close();
      predecessor = null;
    }
    Map<ResourceId, Stored> next = new HashMap<>();
    Set<ResourceId> present = new java.util.HashSet<>();
    for (Map.Entry<WatchedKind, SharedIndexInformer<GenericKubernetesResource>> e : attempt.informers.entrySet()) {
      if (attempt.absent.contains(e.getKey())) continue;
      for (GenericKubernetesResource object : e.getValue().getStore().list()) {
        Observation o = observe(e.getKey(), object);
        present.add(o.id());
        Stored s = judge(o, accepted.get(o.id()));
        if (s != null) next.put(o.id(), s);
      }
    }
    for (ResourceId id : List.copyOf(problems.keySet())) {
      if (!present.contains(id)) report(id, List.of());
    }
    boolean changed = !resources(next).equals(resources(accepted));
    accepted.clear();
    accepted.putAll(next);
    unsent.clear();
    registry.resync(clusterId, resources(accepted), id -> kindNames.contains(id.kind()));
    registry.setStale(clusterId, feed, null);
    reportAbsentKinds(attempt);
    if (changed || restoredFrom != null) changed();
    if (lostSince != null || restoredFrom != null) {
      LOG.log(System.Logger.Level.INFO, source + " (" + server + ") is reachable again; "
          + accepted.size() + " objects listed, its state is fresh");
    } else {
      LOG.log(System.Logger.Level.INFO, source + " (" + server + ") synced: " + accepted.size() + " objects");
    }
    everSynced = true;
    restoredFrom = null;
    lostSince = null;
    staleReason = null;
    notSynced = null;
    synced.countDown();
  }

  private void failed(Attempt attempt, Throwable t) {
    if (closed || attempt != current) return;
    attempt.close();
    current = null;
    lost("cannot list from " + server + ": " + describe(t));
  }

  /** Polled: notices a lost or hung connection that fabric8 keeps retrying quietly. */
  private void check() {
    Attempt attempt = current;
    if (closed || attempt == null) return;
    long now = System.nanoTime();
    if (!attempt.live) {
      if (now - attempt.startedNanos > timing.syncTimeout().toNanos()) {
        attempt.close();
        current = null;
        lost("no complete listing from " + server + " within " + timing.syncTimeout().toSeconds() + " s");
      }
      return;
    }
    String trouble = attempt.trouble();
    if (trouble == null) {
      attempt.troubleSinceNanos = -1;
      if (failures > 0 && now - attempt.liveSinceNanos > timing.retryMax().toNanos()) failures = 0;
      return;
    }
    if (attempt.troubleSinceNanos < 0) attempt.troubleSinceNanos = now;
    if (attempt.anyStopped() || now - attempt.troubleSinceNanos >= timing.lostAfter().toNanos()) {
      attempt.close();
      current = null;
      lost("lost contact with " + server + ": " + trouble);
    }
  }

  /** Marks the cluster stale (its last known state keeps serving) and tries again later. */
  private void lost(String why) {
    if (lostSince == null) lostSince = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    notSynced = why;
    String serving;
    if (restoredFrom != null) {
      serving = "; serving the state saved at " + restoredFrom;
    } else if (everSynced) {
      serving = "; its last known state keeps serving";
    } else {
      serving = "; nothing listed yet";
    }
    String reason = why + " (since " + lostSince + ")" + serving;
    if (!reason.equals(staleReason)) {
      staleReason = reason;
      registry.setStale(clusterId, feed, reason);
      LOG.log(System.Logger.Level.WARNING, source + ": " + reason);
    }
    long base = timing.retryMin().toMillis() << Math.min(failures, 20);
    long delay = Math.min(timing.retryMax().toMillis(), base);
    delay += ThreadLocalRandom.current().nextLong(delay / 5 + 1); // spread reconnects of many control planes
    failures++;
    executor.schedule(guarded(this::connect), delay, TimeUnit.MILLISECONDS);
  }

  // ---- events

  /** Istio's type label of pilot_k8s_reg_events for a Kubernetes kind. */
  private static String registryType(String kind) {
    return switch (kind) {
      case "Service" -> "Services";
      case "Pod" -> "Pods";
      case "Node" -> "Nodes";
      case "Namespace" -> "Namespaces";
      default -> kind;
    };
  }

  private void seen(Attempt attempt, WatchedKind kind, GenericKubernetesResource object, boolean deleted) {
    if (!attempt.live) return; // the listing is read from the informers' stores once it completes
    ResourceId id = kind.id(object);
    Observation o = deleted ? null : observe(kind, object);
    post(() -> apply(attempt, id, o));
  }

  private void apply(Attempt attempt, ResourceId id, Observation o) {
    if (closed || attempt != current) return;
    Stored before = accepted.get(id);
    Stored after = o == null ? null : judge(o, before);
    if (o == null) report(id, List.of());
    if (after == null) accepted.remove(id); else accepted.put(id, after);
    Resource b = before == null ? null : before.resource();
    Resource a = after == null ? null : after.resource();
    if (Objects.equals(b, a)) return; // a status-only change the mesh does not see
    unsent.put(id, a);
    if (!flushQueued) {
      flushQueued = true;
      post(this::flush); // runs after the events already queued: a burst becomes one update
    }
    changed();
  }

  private void flush() {
    flushQueued = false;
    if (closed || unsent.isEmpty()) return;
    registry.update(clusterId, new HashMap<>(unsent), false);
    unsent.clear();
  }

  /**
   * The version that serves after this observation: the new one when valid, else the last accepted
   * (as for files: a rejected edit must not delete what was serving). Reports the problems.
   */
  private Stored judge(Observation o, Stored before) {
    report(o.id(), o.parsed().problems());
    Resource r = o.resource();
    // The JSON is kept only to be written to the state file; a Secret's never is (its keys stay off disk).
    if (r != null) return new Stored(r, state == null || r instanceof weft.model.TlsSecret ? "" : o.json());
    if (before != null) {
      LOG.log(System.Logger.Level.WARNING, source + ": " + o.id() + " was rejected; its last accepted version "
          + "keeps serving");
    }
    return before;
  }

  private void report(ResourceId id, List<ConfigProblem> list) {
    List<ConfigProblem> before = problems.getOrDefault(id, List.of());
    if (before.equals(list)) return;
    if (list.isEmpty()) problems.remove(id); else problems.put(id, list);
    registry.reportProblems(problemKey(id), list);
    for (ConfigProblem p : list) {
      LOG.log(p.severity() == ConfigProblem.Severity.ERROR ? System.Logger.Level.ERROR
          : System.Logger.Level.WARNING, p.describe());
    }
  }

  private void reportAbsentKinds(Attempt attempt) {
    List<ConfigProblem> list = new ArrayList<>();
    for (WatchedKind kind : attempt.absent) {
      list.add(ConfigProblem.warning(source, null, "", "the API server does not serve " + kind + " "
          + kind.version() + " (CRD not installed?); no " + kind.kind() + " is read from it until it does and "
          + "Weft reconnects"));
    }
    registry.reportProblems(absentKindsKey(), list);
  }

  private String problemKey(ResourceId id) {
    return "kube:" + clusterId + ":" + id;
  }

  private String absentKindsKey() {
    return "kube:" + clusterId + (feed.isEmpty() ? "" : ":" + feed) + ":kinds";
  }

  private Observation observe(WatchedKind kind, GenericKubernetesResource object) {
    try {
      return Observation.of(client.getKubernetesSerialization(), kind, object, source);
    } catch (RuntimeException e) {
      ResourceId id = kind.id(object);
      return new Observation(id, "", new weft.model.parse.ParsedFile(source, List.of(),
          List.of(ConfigProblem.error(source, id, "", "could not be read (" + e + "); it was skipped")), false));
    }
  }

  // ---- state on disk

  private void restore() {
    if (state == null || predecessor != null) return;
    StateStore.Saved saved;
    try {
      saved = state.load(stateName);
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, source + ": cannot read its saved state " + state.file(stateName)
          + " (" + e.getMessage() + "); starting without it");
      return;
    }
    if (saved == null) return;
    for (Stored s : saved.objects()) accepted.put(s.resource().id(), s);
    restoredFrom = saved.savedAt().truncatedTo(ChronoUnit.SECONDS);
    registry.update(clusterId, resources(accepted), false);
    staleReason = "not yet in contact with " + server + " since this control plane started; serving the state "
        + "saved at " + restoredFrom;
    registry.setStale(clusterId, feed, staleReason);
    LOG.log(System.Logger.Level.INFO, source + ": restored " + accepted.size() + " objects saved at "
        + restoredFrom + "; they serve, marked stale, until the API server answers");
  }

  private void changed() {
    if (state == null) return;
    dirty = true;
    if (saveQueued) return;
    saveQueued = true;
    executor.schedule(guarded(this::save), timing.stateDebounce().toMillis(), TimeUnit.MILLISECONDS);
  }

  private void save() {
    saveQueued = false;
    if (!dirty || state == null) return;
    List<String> docs = new ArrayList<>();
    new TreeMap<>(accepted).values().forEach(s -> {
      if (!s.json().isEmpty()) docs.add(s.json());
    });
    try {
      state.save(stateName, docs);
      dirty = false;
    } catch (IOException e) {
      // The next change tries again; serving does not depend on the file.
      LOG.log(System.Logger.Level.WARNING, source + ": cannot save its state to " + state.file(stateName) + ": " + e);
    }
  }

  // ---- closing

  /** Stops watching; what the source gave the registry stays there (remove the cluster for that). */
  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) return;
    try {
      Future<?> done = executor.submit(guarded(this::shutdown));
      done.get(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS);
    } catch (RejectedExecutionException e) {
      // already stopped
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      LOG.log(System.Logger.Level.WARNING, source + ": did not stop cleanly: " + e);
    }
    executor.shutdownNow();
    if (ownsClient) client.close();
  }

  private void shutdown() {
    closed = true;
    if (current != null) current.close();
    current = null;
    if (predecessor != null) predecessor.close();
    predecessor = null;
    if (everSynced) save();
    for (ResourceId id : problems.keySet()) registry.reportProblems(problemKey(id), List.of());
    problems.clear();
    registry.reportProblems(absentKindsKey(), List.of());
  }

  // ---- helpers

  private void post(Runnable task) {
    try {
      executor.execute(guarded(task));
    } catch (RejectedExecutionException e) {
      // closed: nothing left to do
    }
  }

  /** A failing task must not end the cluster's thread or vanish silently in a future. */
  private Runnable guarded(Runnable task) {
    return () -> {
      try {
        task.run();
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.ERROR, source + ": internal error; the cluster keeps its last state", e);
      }
    };
  }

  private static Map<ResourceId, Resource> resources(Map<ResourceId, Stored> stored) {
    Map<ResourceId, Resource> out = new HashMap<>();
    stored.forEach((id, s) -> out.put(id, s.resource()));
    return out;
  }

  /** The root cause in a line: fabric8 wraps I/O errors in several layers. */
  public static String describe(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    StringBuilder b = new StringBuilder();
    Throwable cause = t;
    for (int depth = 0; cause != null && depth < 4; depth++, cause = cause.getCause()) {
      String m = cause.getMessage();
      String part = cause instanceof KubernetesClientException k && k.getCode() > 0
          ? "HTTP " + k.getCode() + (k.getStatus() != null && k.getStatus().getMessage() != null
              ? " " + k.getStatus().getMessage() : "")
          : cause.getClass().getSimpleName() + (m == null ? "" : ": " + m.lines().findFirst().orElse(""));
      if (b.length() > 0) b.append(" <- ");
      b.append(part);
      if (cause instanceof KubernetesClientException k && k.getCode() > 0) break;
    }
    return b.toString();
  }
}
