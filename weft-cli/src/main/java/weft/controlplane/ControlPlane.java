package weft.controlplane;

import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import weft.model.ConfigProblem;
import weft.model.parse.MeshConfigParser;
import weft.registry.ClusterSettings;
import weft.registry.MeshSnapshot;
import weft.registry.Registry;
import weft.registry.file.FileClusterSource;
import weft.model.ClusterIds;
import weft.registry.kube.InvalidKubeconfigException;
import weft.registry.kube.KubeClusterSource;
import weft.registry.kube.KubeConfigs;
import weft.registry.kube.MeshConfigMapSource;
import weft.registry.leader.Leadership;
import weft.registry.leader.LeaseLeadership;
import weft.registry.kube.RemoteSecretController;
import weft.registry.kube.StateStore;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.time.Clock;
import java.time.Duration;
import weft.security.SpiffeId;
import weft.security.auth.Authenticator;
import weft.security.auth.CallerAuthentication;
import weft.security.auth.XdsAuthMode;
import weft.security.auth.FileTokenAuthenticator;
import weft.security.auth.KubernetesTokenAuthenticator;
import weft.security.ca.CaException;
import weft.security.ca.CaStore;
import weft.security.ca.CertificateAuthority;
import weft.security.csr.CaServer;
import weft.security.csr.CertificateService;
import weft.security.trust.MeshCaCertificate;
import weft.security.trust.ForeignNamespaceRules;
import weft.security.trust.TrustBundles;
import weft.xds.Generators;
import weft.xds.server.AdsServer;
import weft.xds.server.XdsMetrics;
import weft.operator.KubeconfigFile;

/** A running control plane: sources → registry → ADS server, plus the monitoring port. */
public final class ControlPlane implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(ControlPlane.class.getName());

  private final ControlPlaneOptions options;
  private final Registry registry = new Registry();
  /** The JWT issuers' keys (see {@link #jwksFetcher}); set while starting. */
  private weft.xds.authn.JwksFetcher jwks;
  private final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final weft.registry.metrics.IstioMetrics istio = weft.registry.metrics.IstioMetrics.of(metrics);
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private AdsServer ads;
  private Server grpc;
  private MonitoringServer monitoring;
  private volatile boolean ready;
  private volatile CertificateAuthority ca;
  private CaServer secure;
  private Leadership leadership;
  /** The config cluster's API server (null in file mode) and the remote secrets (null when none). */
  private KubernetesClient configClient;
  private RemoteSecretController remoteSecrets;
  private Generators generators;
  private AutoAddressKeeper autoAddresses;
  private weft.dns.alloc.AddressBook addressBook;
  private ControlPlaneDns dns;
  private ControlPlaneFederation federation;
  /** Per-trust-domain roots streamed to agents on the secure port (null without a CA). */
  private weft.security.trust.TrustBundlePublisher trustBundleStream;
  private ControlPlaneMeshes meshes;
  /** {@code --mcs-controller}: writes ServiceImports and ServiceExport status on the leader; else null. */
  private McsController mcsController;
  /** The folders this control plane reads (--config-dir, --remote-config-dir): where each resource came from. */
  private final List<FileClusterSource> fileSources = new java.util.concurrent.CopyOnWriteArrayList<>();

  private ControlPlane(ControlPlaneOptions options) {
    this.options = options;
  }

  /** Starts everything; returns once the initial config is loaded and the ports are serving. */
  public static ControlPlane start(ControlPlaneOptions options) throws IOException {
    ControlPlane cp = new ControlPlane(options);
    try {
      cp.startAll();
    } catch (IOException | RuntimeException e) {
      cp.close();
      throw e;
    }
    return cp;
  }

  private void startAll() throws IOException {
    checkClusterIds();
    checkConfigSource();
    registerMetrics();
    // First, so that a busy port fails at once and /ready answers (503) during the initial sync.
    monitoring = listen("--monitoring-port", options.monitoringPort(),
        () -> new MonitoringServer(options.monitoringPort(), () -> ready, metrics, this::status));
    if (options.meshConfig() != null) {
      startMeshFile("--mesh-config", new MeshFileSource<>(options.meshConfig(), MeshConfigParser::parseMeshConfig,
          registry::setMeshConfig, registry));
    }
    if (options.meshNetworks() != null) {
      startMeshFile("--mesh-networks", new MeshFileSource<>(options.meshNetworks(),
          MeshConfigParser::parseMeshNetworks, registry::setMeshNetworks, registry));
    }
    // Before any source starts: sources read ServiceExport and ServiceImport only when MCS is on.
    if (options.mcs().reads()) registry.setMcs(options.mcs());
    ClusterSettings configClusterSettings = new ClusterSettings(options.clusterId(), options.network(),
        options.systemNamespace());
    registry.addCluster(configClusterSettings, true);
    boolean external = options.configKubeconfig() != null;
    KubernetesClient configCluster = null;
    io.fabric8.kubernetes.client.Config configClusterConfig = null;
    if (options.kubeconfig() != null || external || options.inCluster() != null) {
      configClusterConfig = external ? kubeconfig("--config-kubeconfig", options.configKubeconfig())
          : options.inCluster() != null ? inCluster(options.inCluster())
          : kubeconfig("--kubeconfig", options.kubeconfig());
      configCluster = new KubernetesClientBuilder().withConfig(configClusterConfig).build();
      closeables.add(configCluster);
    }
    configClient = configCluster;
    // Early, so that anything started below that writes back can be handed it.
    startLeaderElection(configClusterConfig);
    if (external && (options.meshConfig() == null || options.meshNetworks() == null)) {
      // Istio keeps MeshConfig in the config cluster; a file flag, when given, wins for its half.
      MeshConfigMapSource meshMap = new MeshConfigMapSource(configCluster, options.systemNamespace(),
          options.clusterId(), registry, options.meshConfig() == null ? registry::setMeshConfig : null,
          options.meshNetworks() == null ? registry::setMeshNetworks : null);
      meshMap.start();
      closeables.add(0, meshMap);
      // The trust domain is read when the CA starts, so the mesh config comes first.
      if (!meshMap.awaitListed(options.initialSyncWait()) && !options.initialSyncWait().isZero()) {
        LOG.log(System.Logger.Level.WARNING, "ConfigMap " + options.systemNamespace() + "/"
            + MeshConfigMapSource.NAME + " of config cluster " + options.clusterId() + " was not read within "
            + options.initialSyncWait().toSeconds() + " s (--initial-sync-wait); starting on Istio's defaults");
      }
      registry.flush();
    }
    RemoteSecretController remotes = null;
    // The config cluster's own secret (external mode) attaches its workloads with its settings.
    java.util.function.Function<String, ClusterSettings> remoteSettings = id -> id.equals(options.clusterId())
        ? configClusterSettings : new ClusterSettings(id, "", options.systemNamespace());
    if (external) {
      remotes = RemoteSecretController.external(options.clusterId(), options.systemNamespace(), configCluster,
          options.remoteSecretsDir(), registry, options.stateDir(), remoteSettings);
    } else if (options.remoteSecretsDir() != null || configCluster != null) {
      remotes = new RemoteSecretController(options.clusterId(), options.systemNamespace(),
          configCluster, options.remoteSecretsDir(), registry, options.stateDir(), remoteSettings);
    }
    remoteSecrets = remotes;
    // This mesh's id as a label (the trust domain when MeshConfig names none), following MeshConfig.
    io.micrometer.core.instrument.MultiGauge meshInfo = io.micrometer.core.instrument.MultiGauge
        .builder("weft_mesh_id").description("this mesh's id and trust domain (always 1)").register(metrics);
    java.util.concurrent.atomic.AtomicReference<String> shownMesh = new java.util.concurrent.atomic.AtomicReference<>();
    java.util.function.Consumer<weft.model.MeshConfig> showMesh = m -> {
      String key = m.effectiveMeshId() + "\n" + m.trustDomain();
      if (key.equals(shownMesh.getAndSet(key))) return;
      meshInfo.register(List.of(io.micrometer.core.instrument.MultiGauge.Row.of(io.micrometer.core.instrument.Tags.of(
          "mesh_id", m.effectiveMeshId(), "trust_domain", m.trustDomain()), 1)), true);
    };
    showMesh.accept(registry.current().meshConfig());
    registry.addListener((snapshot, change) -> showMesh.accept(snapshot.meshConfig()));
    Gauge.builder("weft_config_errors", registry, r -> count(r.current(), ConfigProblem.Severity.ERROR))
        .description("configuration problems that rejected a file or resource").register(metrics);
    Gauge.builder("weft_config_warnings", registry, r -> count(r.current(), ConfigProblem.Severity.WARNING))
        .description("configuration accepted with a warning").register(metrics);
    // Every port is bound before anything is waited for, so a busy port fails at once; until the
    // initial sync is done their calls are refused (UNAVAILABLE, as istiod does) and clients retry.
    generators = generators(configCluster);
    ads = new AdsServer(registry, options.clusterId(), new XdsMetrics(metrics), generators, options.xdsSendTimeout());
    if (configCluster != null) {
      // Auto-registered WorkloadEntries go to the config cluster, where every control plane reads them.
      WorkloadEntryWriter entryWriter = new WorkloadEntryWriter(configCluster, leadership.status().identity(),
          java.time.Clock.systemUTC());
      ads.autoRegistration().store(entryWriter);
      closeables.add(0, entryWriter);
      // Secrets go only to service accounts that Kubernetes RBAC lets read them, as istiod checks.
      KubernetesSecretAccess secretAccess = new KubernetesSecretAccess(configCluster, java.time.Clock.systemUTC());
      ads.secretAccess(secretAccess);
      closeables.add(0, secretAccess);
      // Gateway API status, as Istio's gateway controller writes it: by the leader, after the initial sync.
      GatewayApiStatusWriter gatewayStatus = new GatewayApiStatusWriter(configCluster, registry::gatewayApiStatus,
          () -> leadership != null && leadership.isLeader() && addressBook != null && addressBook.settled(),
          java.time.Clock.systemUTC());
      registry.addListener(gatewayStatus::onSnapshot);
      closeables.add(0, gatewayStatus);
    }
    // After the ADS server's own listener: the snapshot's context is then the one the pushes share.
    registry.addListener(autoAddresses::onSnapshot);
    closeables.add(autoAddresses);
    if (options.mcs().controller()) {
      // Same rule as automatic addresses: the leader writes, and not before the initial sync.
      mcsController = new McsController(generators, this::mcsClients,
          () -> leadership != null && leadership.isLeader() && addressBook.settled());
      registry.addListener(mcsController::onSnapshot);
      closeables.add(0, mcsController);
    }
    monitoring.serve("/debug/config_dump", new ConfigDumpHandler(ads));
    monitoring.serveJson("/debug/analyze", query -> {
      weft.xds.diag.AnalysisInput input = analysisInput();
      return new MonitoringServer.JsonAnswer(200, Analysis.toJson(input, weft.xds.diag.MeshAnalyzer.analyze(input)));
    });
    monitoring.serveJson("/debug/why", this::why);
    monitoring.serveJson("/debug/topology", query -> new MonitoringServer.JsonAnswer(200, Topology.of(registry.current())));
    monitoring.serve("/ui", new UiHandler());
    grpc = listen("--xds-port", options.xdsPort(), () -> NettyServerBuilder
        .forAddress(new InetSocketAddress(options.xdsPort()))
        .addService(ServerInterceptors.intercept(ads.definition(), new RefuseUntilReady(() -> ready)))
        // Stream callbacks only hand requests to each connection's own executor, so they can run on
        // the I/O thread: one thread hop less per request.
        .directExecutor()
        // Proxies hold a stream for hours: keepalives find dead peers, and a client's pings are allowed.
        .keepAliveTime(30, TimeUnit.SECONDS)
        .permitKeepAliveTime(10, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .maxInboundMessageSize(16 * 1024 * 1024)
        .build()
        .start());
    if (options.ca() != null) {
      trustBundleStream = new weft.security.trust.TrustBundlePublisher();
      startSecurePort(configCluster, remotes);
    }
    startFederation();
    if (trustBundleStream != null) {
      registry.addListener((snapshot, change) -> publishTrustBundles());
      publishTrustBundles();
      if (federation != null) federation.settled().thenRun(this::publishTrustBundles);
    }

    KubeClusterSource local = null;
    if (options.configDir() != null) {
      startFiles("--config-dir", new FileClusterSource(options.configDir(), options.clusterId(), registry));
    } else if (configCluster != null) {
      StateStore state = options.stateDir() == null ? null : new StateStore(options.stateDir());
      // External: the config cluster gives its Istio config only; its workloads, if any, come from
      // its own remote secret.
      local = external ? KubeClusterSource.configOnly(options.clusterId(), configCluster, registry, state)
          : new KubeClusterSource(options.clusterId(), configCluster, true, registry, state);
      local.start();
      closeables.add(0, local);
    }
    for (Map.Entry<String, java.nio.file.Path> remote : new java.util.TreeMap<>(options.remoteConfigDirs()).entrySet()) {
      registry.addCluster(new ClusterSettings(remote.getKey(), "", options.systemNamespace()), false);
      startFiles("--remote-config-dir", new FileClusterSource(remote.getValue(), remote.getKey(), registry));
    }
    if (remotes != null) {
      try {
        remotes.start();
      } catch (IOException e) {
        throw new StartupException("--remote-secrets-dir: " + e.getMessage(), e);
      }
      closeables.add(0, remotes);
    }
    awaitInitialSync(configCluster, local, remotes);
    registry.flush();
    // Every host that exists has been read: remembered addresses of absent ones are free now, and
    // what is kept (state file, status) may be written.
    addressBook.settle();
    autoAddresses.onSnapshot(registry.current(), weft.registry.ChangeEvent.FULL);
    if (mcsController != null) mcsController.onSnapshot(registry.current(), weft.registry.ChangeEvent.FULL);
    if (options.dns() != null) startDns(options.dns());
    ready = true;
    LOG.log(System.Logger.Level.INFO, "weft control plane serving xDS on :" + xdsPort() + ", monitoring on :"
        + monitoringPort() + " (cluster " + options.clusterId() + ", " + registry.current().services().size()
        + " services)");
  }

  /**
   * Istio's series (its dashboards read them), the JVM's and the process's, beside Weft's own. The
   * managed clusters are counted from the current snapshot: this control plane's own cluster is
   * local (an external control plane has none), every other one remote.
   */
  private void registerMetrics() {
    istio.build("pilot", version());
    registry.countApiEvents(istio::kubeEvent);
    istio.managedClusters(() -> {
      long remote = registry.current().clusters().keySet().stream().filter(id -> !id.equals(options.clusterId()))
          .count();
      boolean local = options.configKubeconfig() == null;
      return Map.of("local", local ? 1 : 0, "remote", (int) remote);
    });
    new io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics().bindTo(metrics);
    new io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics().bindTo(metrics);
    new io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics().bindTo(metrics);
    io.micrometer.core.instrument.binder.jvm.JvmGcMetrics gc = new io.micrometer.core.instrument.binder.jvm.JvmGcMetrics();
    gc.bindTo(metrics);
    closeables.add(gc);
    new io.micrometer.core.instrument.binder.system.ProcessorMetrics().bindTo(metrics);
    new io.micrometer.core.instrument.binder.system.UptimeMetrics().bindTo(metrics);
    new io.micrometer.core.instrument.binder.system.FileDescriptorMetrics().bindTo(metrics);
  }

  /** This build's version (the jar's manifest), or "dev" when run from classes. */
  static String version() {
    String v = ControlPlane.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  /**
   * The generators, with automatic addresses that survive restarts: file mode starts from the state
   * file ({@code --state-dir}) and rewrites it; Kubernetes mode starts from the ServiceEntries'
   * {@code status.addresses} and writes them back.
   */
  private Generators generators(KubernetesClient configCluster) {
    weft.dns.alloc.AddressStateFile file = null;
    java.util.Map<weft.dns.alloc.HostKey, weft.dns.alloc.AutoAddress> loaded = java.util.Map.of();
    if (configCluster == null && options.stateDir() != null) {
      file = new weft.dns.alloc.AddressStateFile(options.stateDir());
      weft.dns.alloc.AddressStateFile.Loaded l = file.load();
      l.warnings().forEach(w -> LOG.log(System.Logger.Level.WARNING, "--state-dir: " + w));
      loaded = l.addresses();
    }
    addressBook = new weft.dns.alloc.AddressBook(loaded);
    Generators g = new Generators(options.localityFailoverWithoutOutlierDetection(), weft.xds.GeneratorProbe.NONE,
        true, addressBook,
        // With our CA here, Envoy validates each peer against its own trust domain's roots only.
        snapshot -> ca == null ? null : trustBundles(snapshot), jwksFetcher());
    ServiceEntryStatusWriter writer = configCluster == null ? null : new ServiceEntryStatusWriter(configCluster);
    // Who may write: the leader of the Lease election (file mode's only instance leads), asked
    // right before each write, and not before the initial sync (see AddressBook#settle).
    java.util.function.BooleanSupplier leader = () -> leadership != null && leadership.isLeader();
    autoAddresses = new AutoAddressKeeper(registry, g, file, writer, () -> leader.getAsBoolean() && addressBook.settled(),
        loaded);
    return g;
  }

  /** The automatic addresses the proxies of the current snapshot are sent (tests, diagnostics). */
  weft.dns.alloc.Allocation autoAddresses() {
    return generators.context(registry.current()).autoAddresses();
  }

  /** Automatic addresses are kept (state file, status) as of the last snapshot (tests). */
  void flushAutoAddresses() throws Exception {
    registry.flush();
    autoAddresses.flush();
  }

  /**
   * {@code --dns-port}: answers with the view of the proxy each source stands for. Bound after the
   * initial sync, so that its first answers already hold every cluster's names.
   */
  private void startDns(ControlPlaneOptions.Dns settings) throws StartupException {
    dns = new ControlPlaneDns(registry, generators, settings.clients(), options.clusterId());
    registry.addListener(dns::onSnapshot);
    closeables.add(0, dns);
    listen("--dns-port", settings.address().getPort(), () -> {
      dns.start(settings.address(), settings.upstreams());
      return dns;
    });
    LOG.log(System.Logger.Level.INFO, "answering DNS for mesh names on " + settings.address().getHostString() + ":"
        + dns.port() + " (UDP and TCP)" + (settings.clients().isEmpty() ? "" : " for " + settings.clients()));
  }

  /** The DNS port, or -1 when {@code --dns-port} is off. */
  public int dnsPort() {
    return dns == null ? -1 : dns.port();
  }

  /** DNS answers follow the last snapshot (tests). */
  void flushDns() throws Exception {
    registry.flush();
    if (dns != null) dns.flush();
  }

  /** Every cluster id this control plane is given follows {@link ClusterIds}; one clear line if not. */
  private void checkClusterIds() {
    String problem = ClusterIds.problem(options.clusterId());
    if (problem != null) {
      throw new IllegalArgumentException("--cluster-id: " + problem);
    }
    for (String id : options.remoteConfigDirs().keySet()) {
      problem = ClusterIds.problem(id);
      if (problem != null) {
        throw new IllegalArgumentException("--remote-config-dir " + ClusterIds.quote(id) + "=...: " + problem);
      }
    }
  }

  /**
   * Waits for the clusters that connect in the background (this cluster's API server, the remote
   * secrets and the clusters they name), all of them together at most one {@code --initial-sync-wait}:
   * readiness must not wait forever on a cluster that is down, whose last known state (if any) serves.
   */
  private void awaitInitialSync(KubernetesClient configCluster, KubeClusterSource local,
      RemoteSecretController remotes) {
    if (local == null && remotes == null) return;
    Duration wait = options.initialSyncWait();
    List<String> waitingFor = new ArrayList<>();
    if (local != null) {
      waitingFor.add((options.configKubeconfig() != null ? "the config of " : "") + options.clusterId()
          + " (API server " + configCluster.getMasterUrl() + ")");
    }
    if (remotes != null) {
      remotes.clusters().stream().sorted().forEach(id -> waitingFor.add(id + " (remote secret)"));
      if (configCluster != null) {
        waitingFor.add("the remote secrets in " + options.systemNamespace() + " of " + options.clusterId());
      }
    }
    LOG.log(System.Logger.Level.INFO, "waiting up to " + wait.toSeconds() + " s (--initial-sync-wait) for "
        + String.join(", ", waitingFor));
    // The wait starts once it is announced, so the log shows exactly how long start-up waited.
    long started = System.nanoTime();
    long deadline = started + wait.toNanos();
    // A long initial sync (many clusters, a slow API server) says where it stands every few seconds.
    java.util.concurrent.ScheduledExecutorService progress = java.util.concurrent.Executors
        .newSingleThreadScheduledExecutor(r -> {
          Thread t = new Thread(r, "weft-startup-progress");
          t.setDaemon(true);
          return t;
        });
    progress.scheduleWithFixedDelay(() -> LOG.log(System.Logger.Level.INFO,
        syncProgress(local, remotes) + "; " + left(deadline).toSeconds() + " s of --initial-sync-wait left"),
        progressEvery(wait).toMillis(), progressEvery(wait).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    try {
      awaitClusters(local, remotes, wait, deadline);
    } finally {
      progress.shutdownNow();
    }
    LOG.log(System.Logger.Level.INFO, syncProgress(local, remotes) + " after "
        + java.time.Duration.ofNanos(System.nanoTime() - started).toMillis() + " ms");
  }

  /** A quarter of the wait, between 1 and 5 s: a short wait still says where it stands. */
  private static Duration progressEvery(Duration wait) {
    long millis = Math.max(1000, Math.min(5000, wait.toMillis() / 4));
    return Duration.ofMillis(millis);
  }

  /** "initial sync: 2 of 3 clusters synced (waiting for c3)", from the sources' own state. */
  private String syncProgress(KubeClusterSource local, RemoteSecretController remotes) {
    Map<String, Boolean> state = new java.util.TreeMap<>();
    if (local != null) state.put(options.clusterId(), local.synced());
    if (remotes != null) state.putAll(remotes.syncState());
    List<String> waiting = new ArrayList<>();
    state.forEach((id, synced) -> {
      if (!synced) waiting.add(id);
    });
    return "initial sync: " + (state.size() - waiting.size()) + " of " + state.size() + " clusters synced"
        + (waiting.isEmpty() ? "" : " (waiting for " + String.join(", ", waiting) + ")");
  }

  private void awaitClusters(KubeClusterSource local, RemoteSecretController remotes, Duration wait, long deadline) {
    if (local != null && !local.awaitSynced(left(deadline))) {
      LOG.log(System.Logger.Level.WARNING, "cluster " + options.clusterId() + " ("
          + (options.configKubeconfig() != null ? options.configKubeconfig()
          : options.inCluster() != null ? "--in-cluster" : options.kubeconfig())
          + ") has not synced within " + wait.toSeconds() + " s (--initial-sync-wait); serving what is known");
    }
    if (remotes != null) {
      remotes.awaitInitialSync(left(deadline)).forEach((id, reason) -> {
        istio.remoteClusterSyncTimeout();
        LOG.log(System.Logger.Level.WARNING, "remote cluster " + id + " has not synced: " + reason
            + "; serving without it");
      });
    }
  }

  private static Duration left(long deadlineNanos) {
    return Duration.ofNanos(Math.max(0, deadlineNanos - System.nanoTime()));
  }

  /** {@code --in-cluster}: the pod's own API server, token and CA, each checked. */
  private static io.fabric8.kubernetes.client.Config inCluster(ControlPlaneOptions.InCluster pod)
      throws StartupException {
    try {
      return weft.registry.kube.InClusterConfig.read(pod.environment(), pod.serviceAccountDir());
    } catch (IllegalArgumentException e) {
      throw new StartupException(e.getMessage(), e);
    }
  }

  /** The same strict reader as remote secrets: no exec, no files, nothing from the environment. */
  private io.fabric8.kubernetes.client.Config kubeconfig(String flag, java.nio.file.Path file)
      throws StartupException {
    KubeConfigs.Checked kubeconfig;
    try {
      kubeconfig = KubeConfigs.readFile(flag, file, options.clusterId(), null);
    } catch (InvalidKubeconfigException e) {
      throw new StartupException(e.getMessage(), e);
    }
    kubeconfig.warnings().forEach((field, message) -> LOG.log(System.Logger.Level.WARNING, flag + " "
        + file + ": field " + field + ": " + message));
    return kubeconfig.config();
  }

  /**
   * Where this cluster's state comes from: exactly one of a folder, this cluster's API server, or an
   * external config cluster (which has no local cluster, so it cannot be combined with either).
   */
  private void checkConfigSource() {
    if (options.inCluster() != null && (options.configDir() != null || options.kubeconfig() != null
        || options.configKubeconfig() != null)) {
      throw new IllegalArgumentException("--in-cluster replaces --config-dir, --kubeconfig and --config-kubeconfig: "
          + "this cluster is the one the pod runs in; give only one of them");
    }
    if (options.configKubeconfig() != null && (options.configDir() != null || options.kubeconfig() != null)) {
      throw new IllegalArgumentException("--config-kubeconfig replaces --config-dir and --kubeconfig: an external "
          + "control plane has no local cluster (its config cluster's API server holds the mesh config and the "
          + "remote secrets that add every workload cluster); give only --config-kubeconfig, or drop it");
    }
  }

  /**
   * Only the leader writes back to an API server. With a config cluster, instances elect one through
   * a Lease in the system namespace; in file mode the only instance leads.
   */
  private void startLeaderElection(io.fabric8.kubernetes.client.Config configClusterConfig) {
    String identity = options.leader().identity() != null ? options.leader().identity()
        : LeaseLeadership.defaultIdentity();
    if (configClusterConfig == null) {
      leadership = Leadership.sole(identity, java.time.Instant.now());
      return;
    }
    LeaseLeadership lease = LeaseLeadership.start(configClusterConfig, options.systemNamespace(),
        options.leader().leaseName(), identity, options.leader().timings());
    leadership = lease;
    // Closed first: the lease is given up before anything else stops.
    closeables.add(0, lease);
  }

  /** Whether this instance may write back to the API server now, and who leads (never null once started). */
  public Leadership leadership() {
    return leadership;
  }

  private void startMeshFile(String flag, MeshFileSource<?> source) throws StartupException {
    try {
      source.start();
    } catch (IOException e) {
      throw new StartupException(flag + " " + e.getMessage(), e);
    }
    closeables.add(source);
  }

  private void startFiles(String flag, FileClusterSource files) throws StartupException {
    try {
      files.start();
    } catch (IOException e) {
      throw new StartupException(flag + ": " + e.getMessage(), e);
    }
    closeables.add(files);
    fileSources.add(files);
  }

  /** Something that binds a port. */
  private interface Listener<T> {
    T bind() throws IOException;
  }

  private static <T> T listen(String flag, int port, Listener<T> listener) throws StartupException {
    try {
      return listener.bind();
    } catch (IOException e) {
      throw StartupException.cannotListen(flag, port, e);
    }
  }

  /**
   * The TLS port: the CSR API and the same ADS service as the plaintext port, served with a
   * certificate from our own CA for the control plane's identity.
   */
  private void startSecurePort(KubernetesClient configCluster, RemoteSecretController remotes) throws IOException {
    ControlPlaneOptions.Ca caOptions = options.ca();
    String trustDomain = registry.current().meshConfig().trustDomain();
    Authenticator authenticator;
    if (caOptions.tokens() != null) {
      try {
        authenticator = FileTokenAuthenticator.load(caOptions.tokens(), Clock.systemUTC());
      } catch (IllegalArgumentException e) {
        throw new StartupException("--ca-tokens " + e.getMessage(), e);
      }
    } else if (configCluster != null) {
      KubernetesClient local = configCluster;
      // A token is reviewed where its workload runs: the config cluster's own remote secret (external
      // mode) names that connection; otherwise the config cluster's.
      authenticator = new KubernetesTokenAuthenticator(options.clusterId(), id -> {
        KubernetesClient remote = remotes == null ? null : remotes.client(id);
        return remote != null ? remote : id.equals(options.clusterId()) ? local : null;
      }, List.of());
    } else {
      throw new StartupException("--ca-dir needs a way to check callers: --ca-tokens (file mode) or --kubeconfig "
          + "or --config-kubeconfig (TokenReview on each caller's cluster)");
    }
    // After the other checks: a first start makes a root here, which should not be left by a failed one.
    try {
      ca = CaStore.loadOrCreate(caOptions.dir(), trustDomain, Clock.systemUTC(), caOptions.selfSignedRoot());
    } catch (CaException e) {
      throw new StartupException("--ca-dir " + e.getMessage(), e);
    }
    String ns = options.systemNamespace();
    // xDS on this port serves only clients that prove who they are; the CSR API checks its own callers
    // (a workload without a certificate must still be able to get its first).
    CertificateAuthority issuing = ca;
    CallerAuthentication xdsCallers = new CallerAuthentication(caOptions.xdsAuth(), authenticator, issuing::roots,
        () -> trustDomain, Clock.systemUTC(), metrics);
    if (caOptions.xdsAuth() == XdsAuthMode.NONE) {
      LOG.log(System.Logger.Level.WARNING, "--xds-auth none: the secure port serves xDS to any client, and node "
          + "metadata decides which namespace's configuration it gets");
    }
    secure = listen("--secure-port", caOptions.securePort(), () -> CaServer.builder(ca)
        .port(caOptions.securePort())
        .dnsNames(List.of("istiod." + ns + ".svc", "istiod." + ns + ".svc.cluster.local", "localhost"))
        .identity(new SpiffeId(trustDomain, ns, "istiod"))
        .addService(ServerInterceptors.intercept(new CertificateService(ca, trustDomain, authenticator, metrics),
            new RefuseUntilReady(() -> ready)))
        // Interceptors run last-added first: refuse until ready, then authenticate the caller.
        .addService(ServerInterceptors.intercept(ads.definition(), xdsCallers, new RefuseUntilReady(() -> ready)))
        // Public roots (the bundle endpoint serves them to anyone); the agent checks who sends them by TLS.
        .addService(ServerInterceptors.intercept(trustBundleStream, new RefuseUntilReady(() -> ready)))
        .start());
    closeables.add(0, secure);
  }

  /**
   * Streams the trust bundles of each new snapshot to the agents (a federated peer's new roots come
   * with a republished snapshot). A snapshot whose bundles cannot be built keeps the last set in force.
   * Callers on different threads (the registry's, the federation's) are serialised, and each publishes
   * from the newest snapshot, so an older set never replaces a newer one.
   */
  private synchronized void publishTrustBundles() {
    MeshSnapshot s = registry.current();
    // Until the peers are declared, a set would tell the agents to drop peers not read yet.
    if (federation != null && !federation.settled().isDone()) return;
    try {
      trustBundleStream.publish(trustBundles(s));
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "trust bundles for the agents not updated: " + e.getMessage()
          + "; they keep the last set");
    }
  }

  /**
   * Trust per trust domain: our roots for our domain and its aliases, plus MeshConfig
   * caCertificates for the domains they name. Built from the current snapshot each time.
   */
  public TrustBundles trustBundles() {
    return trustBundles(registry.current());
  }

  /** {@link #trustBundles()} of one snapshot: what its mTLS validation contexts carry. */
  public TrustBundles trustBundles(MeshSnapshot s) {
    List<MeshCaCertificate> others = s.meshConfig().caCertificates().stream().filter(c -> c.pem() != null)
        .map(c -> new MeshCaCertificate(c.pem(), c.trustDomains())).toList();
    TrustBundles bundles = TrustBundles.of(s.meshConfig(), ca.roots(), others);
    if (federation != null) {
      for (Map.Entry<String, List<java.security.cert.X509Certificate>> peer : federation.peers().roots().entrySet()) {
        bundles = bundles.withRoots(peer.getKey(), peer.getValue());
      }
    }
    return bundles;
  }

  /**
   * Trust between meshes: the bundle endpoint ({@code --bundle-port}) and the peers' bundles. Needs the
   * CA: our bundle is its roots, and without it there is no per-trust-domain trust to add peers to.
   */
  private void startFederation() throws IOException {
    ControlPlaneOptions.Federation settings = options.federation();
    if (ca == null) {
      if (settings.bundlePort() >= 0) {
        throw new IllegalArgumentException("--bundle-port serves this mesh's CA roots; give --ca-dir too");
      }
      return;
    }
    federation = new ControlPlaneFederation(ca, () -> registry.current().meshConfig(), settings, options.stateDir(),
        () -> {
          LOG.log(System.Logger.Level.INFO, "federated trust bundles changed: " + federation.peers().roots().keySet()
              + "; pushing them to the proxies");
          // The validation contexts read the peers' roots per snapshot: a new one carries them.
          registry.republish();
        });
    closeables.add(0, federation);
    federation.registerMetrics(metrics);
    // Several meshes: imports from the MeshFederation peers, and what we export to them on the bundle port.
    meshes = new ControlPlaneMeshes(registry, () -> registry.current().meshConfig(), () -> federation.peers().roots(),
        weft.security.federation.BundleTls.spiffeKeyManager(ca, federation.endpointId(options.systemNamespace()),
            meshScheduler()),
        settings.meshRefresh(), settings.importSuffix(), options.systemNamespace());
    closeables.add(0, meshes);
    meshes.registerMetrics(metrics);
    federation.serveExports(meshes.endpoint());
    listen("--bundle-port", settings.bundlePort(), () -> {
      federation.serve(options.systemNamespace());
      return federation;
    });
    // The same document the bundle endpoint serves, for `weft mesh bundle` (the monitoring port is plain HTTP).
    monitoring.serve("/debug/spiffe_bundle", ex -> {
      try (ex) {
        byte[] body = federation.ourBundle().toJson().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(200, body.length);
        ex.getResponseBody().write(body);
      }
    });
    registry.addListener((snapshot, change) -> federation.onMeshConfig(snapshot.meshConfig()));
    federation.onMeshConfig(registry.current().meshConfig());
    if (options.configDir() != null) {
      federation.watchFolder(options.configDir());
      meshes.watchFolder(options.configDir());
    } else if (configClient != null) {
      federation.watchConfigCluster(configClient, options.systemNamespace());
      meshes.watchConfigCluster(configClient);
    } else {
      federation.settleWithoutWatch();
    }

  }

  /**
   * The JWT issuers' keys, fetched here and sent inline as Istio's istiod does: started on each snapshot's
   * RequestAuthentications; new keys republish the snapshot so that every proxy gets them.
   */
  private weft.xds.authn.JwksFetcher jwksFetcher() {
    java.util.concurrent.ScheduledExecutorService s = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
        r -> {
          Thread t = new Thread(r, "weft-jwks");
          t.setDaemon(true);
          return t;
        });
    closeables.add(s::shutdownNow);
    jwks = new weft.xds.authn.JwksFetcher(s, registry::republish);
    closeables.add(0, jwks);
    registry.addListener((snapshot, change) -> jwks.onSnapshot(snapshot));
    jwks.onSnapshot(registry.current());
    return jwks;
  }

  /** The JWT key cache (tests: refresh it now). */
  public weft.xds.authn.JwksFetcher jwks() {
    return jwks;
  }

  /** Renews the control plane's SVID for peer meshes; shut down with the control plane. */
  private java.util.concurrent.ScheduledExecutorService meshScheduler() {
    java.util.concurrent.ScheduledExecutorService s = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
        r -> {
          Thread t = new Thread(r, "weft-meshes-svid");
          t.setDaemon(true);
          return t;
        });
    closeables.add(s::shutdownNow);
    return s;
  }

  /** The bundle endpoint's port, or -1 when {@code --bundle-port} is off. */
  public int bundlePort() {
    return federation == null ? -1 : federation.port();
  }

  /** Our SPIFFE bundle and the peers' (null without a CA). */
  ControlPlaneFederation federation() {
    return federation;
  }

  /**
   * Trust domains whose roots this mesh trusts and that are not ours nor an alias: MeshConfig
   * caCertificates' domains, and any other domain the trust bundles hold.
   */
  java.util.Set<String> foreignTrustDomains(MeshSnapshot s) {
    java.util.Set<String> domains = new java.util.TreeSet<>();
    s.meshConfig().caCertificates().forEach(c -> domains.addAll(c.trustDomains()));
    if (ca != null) {
      try {
        domains.addAll(trustBundles(s).byTrustDomain().keySet());
      } catch (RuntimeException e) {
        // an unreadable caCertificates entry is reported with the trust bundles; its domains are counted above
      }
    }
    domains.remove(s.meshConfig().trustDomain());
    s.meshConfig().trustDomainAliases().forEach(domains::remove);
    return domains;
  }

  private Object trustBundlesStatus(MeshSnapshot s) {
    try {
      TrustBundles bundles = trustBundles(s);
      Map<String, Object> out = new java.util.TreeMap<>();
      bundles.byTrustDomain().forEach((td, roots) ->
          out.put(td, roots.stream().map(c -> c.getSubjectX500Principal().getName()).toList()));
      return out;
    } catch (RuntimeException e) {
      return Map.of("error", String.valueOf(e.getMessage()));
    }
  }

  /** The secure port (xDS and CA over TLS), or -1 when the CA is off. */
  public int securePort() {
    return secure == null ? -1 : secure.port();
  }

  /** The CA, or null when it is off. */
  public CertificateAuthority ca() {
    return ca;
  }

  private static double count(MeshSnapshot s, ConfigProblem.Severity severity) {
    return s.problems().stream().filter(p -> p.severity() == severity).count();
  }

  public int xdsPort() {
    return grpc.getPort();
  }

  public int monitoringPort() {
    return monitoring.port();
  }

  public Registry registry() {
    return registry;
  }

  public AdsServer ads() {
    return ads;
  }

  /**
   * Every cluster's API client by id, for the MCS controller: the config cluster's own (unless it is
   * an external control plane's, which runs no workloads here) and each remote secret's.
   */
  private Map<String, KubernetesClient> mcsClients() {
    Map<String, KubernetesClient> out = new java.util.TreeMap<>();
    RemoteSecretController remotes = remoteSecrets;
    if (remotes != null) {
      for (String id : remotes.clusters()) {
        KubernetesClient c = remotes.client(id);
        if (c != null) out.put(id, c);
      }
    }
    if (configClient != null && options.configKubeconfig() == null) out.put(options.clusterId(), configClient);
    return out;
  }

  /** The MCS controller's writes are done as of the last snapshot (tests). */
  void flushMcs() throws Exception {
    registry.flush();
    if (mcsController != null) mcsController.flush();
  }

  /**
   * What {@code weft analyze} reads of this control plane: the current snapshot, the problems
   * {@code /debug/status} shows, the files of its folders and its connected proxies' reports.
   */
  public weft.xds.diag.AnalysisInput analysisInput() {
    MeshSnapshot s = registry.current();
    List<ConfigProblem> problems = new ArrayList<>(s.problems());
    problems.addAll(ForeignNamespaceRules.findings(s.config().authorizationPolicies(), foreignTrustDomains(s)));
    Map<String, weft.xds.diag.AnalysisInput.TrustDomain> trust = Map.of(options.clusterId(),
        new weft.xds.diag.AnalysisInput.TrustDomain(s.meshConfig().trustDomain(), s.meshConfig().trustDomainAliases()));
    return new weft.xds.diag.AnalysisInput(s, problems, Analysis.origins(fileSources),
        ads == null ? List.of() : ads.proxyReports(), trust, options.localityFailoverWithoutOutlierDetection());
  }

  /**
   * {@code /debug/why?source=S&destination=HOST[:PORT][&cluster=ID][&proxyless=true]}: the path a
   * request would take, step by step ({@link weft.xds.diag.PathWalk}).
   */
  private MonitoringServer.JsonAnswer why(String rawQuery) {
    Map<String, String> q = new java.util.HashMap<>();
    if (rawQuery != null) {
      for (String pair : rawQuery.split("&")) {
        int eq = pair.indexOf('=');
        if (eq <= 0) continue;
        q.put(java.net.URLDecoder.decode(pair.substring(0, eq), java.nio.charset.StandardCharsets.UTF_8),
            java.net.URLDecoder.decode(pair.substring(eq + 1), java.nio.charset.StandardCharsets.UTF_8));
      }
    }
    String source = q.get("source");
    String destination = q.get("destination");
    if (source == null || source.isBlank() || destination == null || destination.isBlank()) {
      return new MonitoringServer.JsonAnswer(400, Map.of("error", "give source and destination"));
    }
    MeshSnapshot s = registry.current();
    WhySource.Found found = WhySource.find(ads, s, source, q.getOrDefault("cluster", options.clusterId()),
        "true".equals(q.get("proxyless")));
    if (found.error() != null) return new MonitoringServer.JsonAnswer(404, Map.of("error", found.error()));
    weft.xds.view.ProxyView view = generators.view(s, found.proxy());
    return new MonitoringServer.JsonAnswer(200, weft.xds.diag.PathWalk.walk(generators, view, destination,
        Analysis.origins(fileSources)).toMap());
  }

  /** The JSON document served at /debug/status. */
  public Map<String, Object> status() {
    MeshSnapshot s = registry.current();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("clusterId", options.clusterId());
    out.put("ready", ready);
    out.put("snapshotVersion", s.version());
    out.put("services", s.services().size());
    out.put("clusters", s.clusters().values());
    out.put("configCluster", configClusterStatus());
    out.put("leader", leaderStatus());
    List<Map<String, Object>> problems = new ArrayList<>();
    List<ConfigProblem> all = new ArrayList<>(s.problems());
    all.addAll(ForeignNamespaceRules.findings(s.config().authorizationPolicies(), foreignTrustDomains(s)));
    for (ConfigProblem p : all) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("severity", p.severity().name());
      m.put("file", p.file());
      m.put("resource", p.resource() == null ? null : p.resource().toString());
      m.put("field", p.field());
      m.put("message", p.message());
      problems.add(m);
    }
    out.put("configProblems", problems);
    if (options.mcs().reads()) out.put("mcsExports", s.mcsExports());
    out.put("tlsSecrets", weft.xds.sds.SecretStatus.of(s, java.time.Instant.now()));
    if (ca != null) out.put("trustBundles", trustBundlesStatus(s));
    if (federation != null) out.put("federation", federation.status());
    out.put("meshId", s.meshConfig().effectiveMeshId());
    if (meshes != null) out.put("meshes", meshes.status());
    out.put("proxies", ads == null ? List.of() : ads.proxyStatus());
    return out;
  }

  /**
   * Which cluster holds the mesh config, how it is reached, and whether it also gives workloads
   * (an external control plane's config cluster does only through a remote secret of its own).
   */
  private Map<String, Object> configClusterStatus() {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("clusterId", options.clusterId());
    boolean external = options.configKubeconfig() != null;
    out.put("mode", external ? "external" : configClient != null ? "kubernetes" : "files");
    out.put("server", configClient == null ? null : String.valueOf(configClient.getMasterUrl()));
    boolean workloads = !external || (remoteSecrets != null && remoteSecrets.clusters().contains(options.clusterId()));
    out.put("workloads", workloads);
    return out;
  }

  private Map<String, Object> leaderStatus() {
    Map<String, Object> out = new LinkedHashMap<>();
    if (leadership == null) return out;
    Leadership.LeaderStatus l = leadership.status();
    out.put("identity", l.identity());
    out.put("leader", l.leader());
    out.put("holder", l.holder());
    out.put("holderSince", l.holderSince() == null ? null : l.holderSince().toString());
    out.put("lease", l.lease());
    return out;
  }

  /** Blocks until the process is asked to stop. */
  public void awaitTermination() throws InterruptedException {
    grpc.awaitTermination();
  }

  @Override
  public void close() {
    ready = false;
    if (grpc != null) {
      grpc.shutdownNow();
      try {
        grpc.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (monitoring != null) monitoring.close();
    if (ads != null) ads.close();
    for (AutoCloseable c : closeables) {
      try {
        c.close();
      } catch (Exception e) {
        LOG.log(System.Logger.Level.WARNING, "closing " + c + ": " + e.getMessage());
      }
    }
    registry.close();
  }
}
