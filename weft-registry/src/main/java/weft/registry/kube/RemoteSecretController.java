package weft.registry.kube;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import weft.model.ConfigProblem;
import weft.registry.ClusterSettings;
import weft.registry.Registry;
import weft.registry.file.FileWatcher;
import weft.registry.file.WatchedFolder;

/**
 * Adds, updates and removes remote clusters from Istio remote secrets, owning one
 * {@link KubeClusterSource} per remote cluster.
 *
 * <p>Secrets come from the config cluster's system namespace (label {@code istio/multiCluster=true})
 * and from YAML files in a folder ({@code --remote-secrets-dir}), both watched. Each key of a secret
 * names a cluster id; its value is that cluster's kubeconfig, checked by {@link KubeConfigs}.
 *
 * <p>Ownership of a cluster id is first come, first served, so that a new secret can never take a
 * running cluster away: a second secret naming the same id, or any secret naming this control
 * plane's own cluster, is refused with a problem on that secret. The initial secrets are taken in
 * the order of their names, so control planes started on the same secrets agree. When an owner
 * stops naming its cluster, the next claimant (by name) takes over at once.
 *
 * <p>A changed kubeconfig (a rotated token, a moved server) starts a second source beside the
 * running one; it takes over once it has listed the cluster (make-before-break). A changed
 * kubeconfig that is invalid is refused and the running connection stays. All secret handling runs
 * on one thread; clusters run on their own.
 */
public final class RemoteSecretController implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(RemoteSecretController.class.getName());
  /** Retries of one failed request inside fabric8, for a remote cluster's client (see {@link #newSource}). */
  private static final int REQUEST_RETRIES = 1;

  private final String localClusterId;
  /**
   * An external control plane's config cluster (then {@link #localClusterId} is null): a secret
   * naming it adds its workloads beside its config, and removing that secret withdraws only them.
   */
  private final String configClusterId;
  private final String systemNamespace;
  private final KubernetesClient configCluster;
  private final Path secretsDir;
  private final Registry registry;
  private final StateStore stateStore;
  private final Function<String, ClusterSettings> settings;
  private final Timing timing;
  private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "weft-remote-secrets");
    t.setDaemon(true);
    return t;
  });
  /** Counts down once the config cluster's secrets have been listed (at once when there is none). */
  private final CountDownLatch secretsListed;

  // Touched only on the executor's thread.
  /** "kube:ns/name" or "file:path" → the secrets found there. */
  private final Map<String, List<RemoteSecret>> secretsByOrigin = new HashMap<>();
  private final Map<String, RemoteCluster> clusters = new TreeMap<>();
  /** Problem source key → problems currently reported under it. */
  private final Map<String, List<ConfigProblem>> reported = new HashMap<>();
  private boolean kubeListed;
  private SharedIndexInformer<Secret> informer;
  private FileWatcher watcher;
  private WatchedFolder secretsFolder;
  private boolean closed;

  /**
   * @param configCluster the control plane's own cluster, whose system namespace holds remote
   *     secrets; null when that cluster is not a Kubernetes API server
   * @param secretsDir a folder of YAML files with remote secrets; null for none
   * @param stateDir where each remote cluster's last known state is kept; null to keep none
   * @param settings how a remote cluster is attached to the mesh, by cluster id
   */
  public RemoteSecretController(String localClusterId, String systemNamespace, KubernetesClient configCluster,
      Path secretsDir, Registry registry, Path stateDir, Function<String, ClusterSettings> settings) {
    this(localClusterId, systemNamespace, configCluster, secretsDir, registry, stateDir, settings, Timing.DEFAULTS);
  }

  RemoteSecretController(String localClusterId, String systemNamespace, KubernetesClient configCluster,
      Path secretsDir, Registry registry, Path stateDir, Function<String, ClusterSettings> settings, Timing timing) {
    this(localClusterId, null, systemNamespace, configCluster, secretsDir, registry, stateDir, settings, timing);
  }

  /**
   * For an external control plane, which has no cluster of its own: every workload cluster comes
   * from a remote secret, the config cluster's own included when it runs workloads (its secret names
   * {@code configClusterId}, and is then not refused as naming the control plane's own cluster).
   */
  public static RemoteSecretController external(String configClusterId, String systemNamespace,
      KubernetesClient configCluster, Path secretsDir, Registry registry, Path stateDir,
      Function<String, ClusterSettings> settings) {
    return external(configClusterId, systemNamespace, configCluster, secretsDir, registry, stateDir, settings,
        Timing.DEFAULTS);
  }

  static RemoteSecretController external(String configClusterId, String systemNamespace,
      KubernetesClient configCluster, Path secretsDir, Registry registry, Path stateDir,
      Function<String, ClusterSettings> settings, Timing timing) {
    return new RemoteSecretController(null, java.util.Objects.requireNonNull(configClusterId), systemNamespace,
        configCluster, secretsDir, registry, stateDir, settings, timing);
  }

  private RemoteSecretController(String localClusterId, String configClusterId, String systemNamespace,
      KubernetesClient configCluster, Path secretsDir, Registry registry, Path stateDir,
      Function<String, ClusterSettings> settings, Timing timing) {
    this.localClusterId = localClusterId;
    this.configClusterId = configClusterId;
    this.systemNamespace = systemNamespace;
    this.configCluster = configCluster;
    this.secretsDir = secretsDir;
    this.registry = registry;
    this.stateStore = stateDir == null ? null : new StateStore(stateDir);
    this.settings = settings;
    this.timing = timing;
    this.secretsListed = new CountDownLatch(configCluster == null ? 0 : 1);
  }

  /**
   * Reads the secrets folder (before returning) and starts watching it and the config cluster.
   * Clusters connect in the background; {@link #awaitInitialSync} waits for them, bounded.
   */
  public void start() throws IOException {
    if (secretsDir != null) {
      if (!Files.isDirectory(secretsDir)) {
        throw new IOException("remote secrets folder " + secretsDir + " does not exist or is not a folder");
      }
      // Watch before reading, so a file written meanwhile is not missed.
      secretsFolder = new WatchedFolder(secretsDir, RemoteSecretController::isYaml, true,
          WatchedFolder.reportingTo(registry, secretsDir));
      watcher = new FileWatcher(secretsFolder, path -> post(() -> {
            readFile(path);
            reconcile();
          }));
      List<Path> files = yamlFiles();
      call(() -> {
        for (Path file : files) readFile(file);
        reconcile();
        return null;
      });
    }
    if (configCluster != null) {
      informer = configCluster.secrets().inNamespace(systemNamespace).withLabel(RemoteSecret.LABEL, "true")
          .runnableInformer(0);
      informer.addEventHandler(new SecretHandler());
      // Unlike cluster sources, this informer keeps retrying on its own: losing the config cluster
      // must not remove remote clusters, it only delays changes to them.
      informer.exceptionHandler((started, t) -> {
        LOG.log(System.Logger.Level.WARNING, "remote secrets in " + systemNamespace + " of cluster " + secretsCluster()
            + ": " + KubeClusterSource.describe(t) + "; retrying");
        return true;
      });
      informer.start().whenComplete((v, t) -> post(() -> {
        kubeListed = true;
        reconcile();
        secretsListed.countDown();
      }));
    }
  }

  /**
   * Waits, at most {@code max} in all, for the secrets to be listed and every remote cluster to
   * sync. Returns cluster id → why, for the clusters that did not; they keep connecting (and serve
   * their saved state, marked stale) in the background.
   */
  public Map<String, String> awaitInitialSync(Duration max) {
    long deadline = System.nanoTime() + max.toNanos();
    try {
      if (!secretsListed.await(max.toNanos(), TimeUnit.NANOSECONDS)) {
        LOG.log(System.Logger.Level.WARNING, "remote secrets in " + systemNamespace + " of cluster " + secretsCluster()
            + " were not listed before the initial sync wait ended; the clusters they name are added once they are");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    Map<String, KubeClusterSource> sources = call(() -> {
      Map<String, KubeClusterSource> out = new LinkedHashMap<>();
      clusters.forEach((id, c) -> out.put(id, c.source));
      return out;
    });
    Map<String, String> notSynced = new TreeMap<>();
    if (sources == null) return notSynced;
    for (Map.Entry<String, KubeClusterSource> e : sources.entrySet()) {
      Duration left = Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
      if (!e.getValue().awaitSynced(left)) {
        String why = e.getValue().notSyncedReason();
        notSynced.put(e.getKey(), why == null ? "not synced within " + max : why);
      }
    }
    return notSynced;
  }

  /** The client of a remote cluster's newest source, or null when no secret names it. */
  public KubernetesClient client(String clusterId) {
    return call(() -> {
      RemoteCluster c = clusters.get(clusterId);
      return c == null ? null : c.source.client();
    });
  }

  /** Each remote cluster's id → whether it has been listed once (start-up progress; never waits). */
  public Map<String, Boolean> syncState() {
    Map<String, Boolean> state = call(() -> {
      Map<String, Boolean> out = new TreeMap<>();
      clusters.forEach((id, c) -> out.put(id, c.source.synced()));
      return out;
    });
    return state == null ? Map.of() : state;
  }

  /** Cluster ids currently added from remote secrets. */
  public Set<String> clusters() {
    Set<String> ids = call(() -> Set.copyOf(clusters.keySet()));
    return ids == null ? Set.of() : ids;
  }

  /** The newest source of a remote cluster, or null (tests). */
  KubeClusterSource source(String clusterId) {
    return call(() -> clusters.containsKey(clusterId) ? clusters.get(clusterId).source : null);
  }

  // ---- reading secrets

  private static boolean isYaml(Path p) {
    String n = p.getFileName().toString();
    return (n.endsWith(".yaml") || n.endsWith(".yml")) && !n.startsWith(".");
  }

  private List<Path> yamlFiles() {
    return secretsFolder.files();
  }

  private void readFile(Path file) {
    String origin = "file:" + file;
    // The folder's paths are absolute; the flag's may not be.
    String name = secretsDir.getFileName() + "/" + secretsFolder.root().relativize(file);
    List<ConfigProblem> problems = new ArrayList<>();
    // Read through the folder: regular files inside it only, bounded in size and time.
    WatchedFolder.Content content = secretsFolder.read(file);
    if (content.absent()) {
      secretsByOrigin.remove(origin);
    } else if (content.skipped() && !secretsByOrigin.containsKey(origin)) {
      // Not a file Weft reads (a FIFO, a link out): warned about once already, nothing to keep.
    } else if (content.refusal() != null) {
      problems.add(ConfigProblem.error(name, null, "", content.refusal() + "; the clusters it added stay as they were"));
    } else {
      List<RemoteSecret> secrets = RemoteSecret.read(name, content.text(), problems);
      // Unreadable YAML: the secrets it held before stay, as a broken file must not drop clusters.
      if (secrets != null) {
        List<RemoteSecret> before = secretsByOrigin.getOrDefault(origin, List.of());
        secretsByOrigin.put(origin, secrets.stream().map(s -> lastGood(s, before)).toList());
      }
    }
    report("remote-secrets-file:" + file, problems);
  }

  private final class SecretHandler implements ResourceEventHandler<Secret> {
    private final String source = "cluster " + secretsCluster() + " API server";

    @Override
    public void onAdd(Secret secret) {
      RemoteSecret s = RemoteSecret.of(secret, source);
      post(() -> changed(s, false));
    }

    @Override
    public void onUpdate(Secret before, Secret secret) {
      onAdd(secret);
    }

    @Override
    public void onDelete(Secret secret, boolean finalStateUnknown) {
      RemoteSecret s = RemoteSecret.of(secret, source);
      post(() -> changed(s, true));
    }
  }

  private void changed(RemoteSecret secret, boolean deleted) {
    String origin = "kube:" + secret.id().namespace() + "/" + secret.id().name();
    if (deleted) {
      secretsByOrigin.remove(origin);
    } else {
      secretsByOrigin.put(origin, List.of(lastGood(secret, secretsByOrigin.getOrDefault(origin, List.of()))));
    }
    if (kubeListed) reconcile(); // the initial listing is taken whole, in name order
  }

  /** A secret refused as a whole keeps its previous version's clusters, with the new problems. */
  private static RemoteSecret lastGood(RemoteSecret secret, List<RemoteSecret> before) {
    if (!secret.unreadable()) return secret;
    return before.stream().filter(b -> b.ref().equals(secret.ref())).findFirst()
        .map(b -> b.withProblems(secret.problems())).orElse(secret);
  }

  // ---- deciding which secret serves which cluster

  /**
   * A secret's claim on a cluster id; {@code checked} is set when a (new) connection must be made,
   * {@code warnings} are those of the kubeconfig in use.
   */
  private record Claim(RemoteSecret secret, String kubeconfig, KubeConfigs.Checked checked,
      Map<String, String> warnings) {
    Config config() {
      return checked.config();
    }
  }

  private void reconcile() {
    if (closed) return;
    List<RemoteSecret> secrets = new ArrayList<>();
    secretsByOrigin.forEach((origin, list) -> {
      if (kubeListed || !origin.startsWith("kube:")) secrets.addAll(list);
    });
    secrets.sort(Comparator.comparing(RemoteSecret::ref));
    Map<String, RemoteSecret> byRef = new HashMap<>();
    Map<String, List<ConfigProblem>> problems = new TreeMap<>();
    for (RemoteSecret s : secrets) {
      byRef.put(s.ref(), s);
      problems.put(s.ref(), new ArrayList<>(s.problems()));
    }
    Map<String, Claim> desired = new TreeMap<>();
    // Owners first: a running cluster stays with the secret that added it.
    for (RemoteCluster c : clusters.values()) {
      RemoteSecret owner = byRef.get(c.owner);
      String kubeconfig = owner == null ? null : owner.kubeconfigs().get(c.id);
      if (kubeconfig == null) continue;
      if (kubeconfig.equals(c.kubeconfig)) {
        desired.put(c.id, new Claim(owner, kubeconfig, null, c.warnings));
        continue;
      }
      try {
        KubeConfigs.Checked checked = KubeConfigs.parse(owner.ref(), c.id, kubeconfig);
        desired.put(c.id, new Claim(owner, kubeconfig, checked, checked.warnings()));
      } catch (InvalidKubeconfigException e) {
        problems.get(owner.ref()).add(kubeconfigProblem(owner, c.id, e,
            "; the cluster keeps its current connection"));
        desired.put(c.id, new Claim(owner, c.kubeconfig, null, c.warnings));
      }
    }
    for (RemoteSecret s : secrets) {
      for (Map.Entry<String, String> e : new TreeMap<>(s.kubeconfigs()).entrySet()) {
        String id = e.getKey();
        Claim held = desired.get(id);
        if (held != null && held.secret() == s) continue;
        String field = s.fields().get(id);
        if (id.equals(localClusterId)) {
          problems.get(s.ref()).add(ConfigProblem.error(s.source(), s.id(), field, "this remote secret names cluster "
              + id + ", which is this control plane's own cluster (--cluster-id); it is not added as a remote "
              + "cluster. Remove the key, or fix the cluster id"));
        } else if (held != null) {
          problems.get(s.ref()).add(ConfigProblem.error(s.source(), s.id(), field, "this remote secret names cluster "
              + id + ", which " + held.secret().ref() + " already registered; a cluster id may be named by one "
              + "remote secret only, so this one is ignored while the other names it"));
        } else {
          try {
            KubeConfigs.Checked checked = KubeConfigs.parse(s.ref(), id, e.getValue());
            desired.put(id, new Claim(s, e.getValue(), checked, checked.warnings()));
          } catch (InvalidKubeconfigException x) {
            problems.get(s.ref()).add(kubeconfigProblem(s, id, x, "; the cluster is not added"));
          }
        }
      }
    }
    for (String id : List.copyOf(clusters.keySet())) {
      if (!desired.containsKey(id)) remove(clusters.remove(id));
    }
    desired.forEach((id, claim) -> {
      RemoteCluster c = clusters.get(id);
      try {
        if (c == null) {
          add(id, claim);
        } else {
          if (claim.checked() != null) rotate(c, claim);
          c.owner = claim.secret().ref();
        }
      } catch (RuntimeException x) {
        // A client fabric8 cannot build (say, key material it rejects) refuses this secret's
        // cluster alone; the others are reconciled all the same.
        problems.get(claim.secret().ref()).add(ConfigProblem.error(claim.secret().source(), claim.secret().id(),
            claim.secret().fields().get(id), "kubeconfig for cluster " + id + " cannot be used ("
            + KubeconfigReader.clean(String.valueOf(x)) + ")" + (c == null ? "; the cluster is not added"
            : "; the cluster keeps its current connection")));
        return;
      }
      String field = claim.secret().fields().get(id);
      claim.warnings().forEach((path, message) -> problems.get(claim.secret().ref()).add(ConfigProblem.warning(
          claim.secret().source(), claim.secret().id(), field + "." + path, "kubeconfig for cluster " + id
          + ", field " + path + ": " + message)));
    });
    for (String key : List.copyOf(reported.keySet())) {
      if (key.startsWith("remote-secret:") && !problems.containsKey(key.substring("remote-secret:".length()))) {
        report(key, List.of());
      }
    }
    problems.forEach((ref, list) -> report("remote-secret:" + ref, list));
  }

  private static ConfigProblem kubeconfigProblem(RemoteSecret s, String clusterId, InvalidKubeconfigException e,
      String consequence) {
    String field = s.fields().get(clusterId) + (e.field().isEmpty() ? "" : "." + e.field());
    return ConfigProblem.error(s.source(), s.id(), field, "kubeconfig for cluster " + clusterId
        + (e.field().isEmpty() ? "" : ", field " + e.field()) + ": " + e.problem() + consequence);
  }

  // ---- running clusters

  /** A remote cluster and the secret that added it. */
  private static final class RemoteCluster {
    final String id;
    String owner;
    String kubeconfig;
    Map<String, String> warnings;
    /** The newest source; while it has not listed, it holds its predecessor, which serves. */
    KubeClusterSource source;

    RemoteCluster(String id, String owner, String kubeconfig, Map<String, String> warnings,
        KubeClusterSource source) {
      this.id = id;
      this.owner = owner;
      this.kubeconfig = kubeconfig;
      this.warnings = warnings;
      this.source = source;
    }
  }

  private void add(String id, Claim claim) {
    KubeClusterSource source = newSource(id, claim.config());
    registry.addCluster(settings.apply(id), false);
    clusters.put(id, new RemoteCluster(id, claim.secret().ref(), claim.kubeconfig(), claim.warnings(), source));
    source.start();
    LOG.log(System.Logger.Level.INFO, "remote cluster " + id + " added from " + claim.secret().ref() + " (API server "
        + claim.config().getMasterUrl() + ")");
  }

  private void rotate(RemoteCluster c, Claim claim) {
    KubeClusterSource next = newSource(c.id, claim.config());
    next.takeOverFrom(c.source);
    next.start();
    c.source = next;
    c.kubeconfig = claim.kubeconfig();
    c.warnings = claim.warnings();
    LOG.log(System.Logger.Level.INFO, "remote cluster " + c.id + ": " + claim.secret().ref() + " changed; connecting to "
        + claim.config().getMasterUrl() + " with the new kubeconfig, the current connection serves until it has synced");
  }

  private void remove(RemoteCluster c) {
    c.source.close();
    if (c.id.equals(configClusterId)) {
      // The config cluster stays (its config comes from the control plane's own connection): only
      // the workloads its secret gave are withdrawn.
      registry.resync(c.id, Map.of(), id -> WatchedKind.CLUSTER.stream().anyMatch(k -> k.kind().equals(id.kind())));
      registry.setStale(c.id, null);
    } else {
      registry.removeCluster(c.id);
    }
    if (stateStore != null) {
      try {
        stateStore.delete(c.id);
      } catch (IOException e) {
        LOG.log(System.Logger.Level.WARNING, "remote cluster " + c.id + ": cannot delete its saved state: " + e);
      }
    }
    LOG.log(System.Logger.Level.INFO, "remote cluster " + c.id + " removed: no remote secret names it any more");
  }

  private KubeClusterSource newSource(String id, Config config) {
    // fabric8 retries a failed request up to 10 times with backoff (about 20 s) before an informer
    // hears of it; the cluster source retries whole connections itself and reports why, so one
    // quick retry for a glitch is enough here.
    config.setRequestRetryBackoffLimit(REQUEST_RETRIES);
    KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build();
    return new KubeClusterSource(id, client, false, registry, stateStore, timing, true);
  }

  // ---- helpers

  /** The cluster whose API server holds the secrets read here (in messages). */
  private String secretsCluster() {
    return localClusterId != null ? localClusterId : configClusterId;
  }

  /** Reports problems under a key, logging only what is new. */
  private void report(String key, List<ConfigProblem> problems) {
    List<ConfigProblem> before = reported.getOrDefault(key, List.of());
    if (before.equals(problems)) return;
    for (ConfigProblem p : problems) {
      if (!before.contains(p)) {
        LOG.log(p.severity() == ConfigProblem.Severity.ERROR ? System.Logger.Level.ERROR
            : System.Logger.Level.WARNING, p.describe());
      }
    }
    if (problems.isEmpty()) reported.remove(key); else reported.put(key, List.copyOf(problems));
    registry.reportProblems(key, problems);
  }

  private void post(Runnable task) {
    try {
      executor.execute(() -> {
        try {
          task.run();
        } catch (RuntimeException e) {
          LOG.log(System.Logger.Level.ERROR, "remote secrets: internal error; clusters keep their state", e);
        }
      });
    } catch (RejectedExecutionException e) {
      // closed
    }
  }

  /** Runs on the controller's thread and waits; null when closed. */
  private <T> T call(Callable<T> task) {
    try {
      return executor.submit(task).get(30, TimeUnit.SECONDS);
    } catch (RejectedExecutionException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } catch (Exception e) {
      throw new IllegalStateException("remote secrets: " + e.getMessage(), e);
    }
  }

  /**
   * Stops watching secrets and disconnects every remote cluster. The registry keeps what they
   * declared (the control plane is stopping; removing them would push empty endpoints first).
   */
  @Override
  public void close() {
    if (informer != null) informer.close();
    if (watcher != null) watcher.close();
    try {
      executor.submit(() -> {
        closed = true;
        clusters.values().forEach(c -> c.source.close());
        clusters.clear();
      }).get(60, TimeUnit.SECONDS);
    } catch (RejectedExecutionException e) {
      // already closed
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      LOG.log(System.Logger.Level.WARNING, "remote secrets: did not stop cleanly: " + e);
    }
    executor.shutdownNow();
  }
}
