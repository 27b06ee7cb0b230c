package weft.agent;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import weft.agent.bootstrap.BootstrapInstaller;
import weft.agent.bootstrap.XdsBootstrap;
import weft.agent.bootstrap.XdsTransport;
import weft.agent.cert.TrustDomainRoots;
import weft.agent.cert.CaClient;
import weft.agent.cert.CertificateFiles;
import weft.agent.cert.CertificateManager;
import weft.agent.cert.FailoverSigner;
import weft.agent.cert.IssuedCertificate;
import weft.agent.dns.AgentDns;
import weft.agent.dns.DnsMetadata;
import weft.agent.dns.MeshNameResolverProvider;
import weft.agent.xds.FileTlsXdsCredentialsProvider;
import weft.agent.xdsproxy.XdsProxy;

/**
 * Joins a workload to the mesh without a sidecar process. {@link #start} is for a grpc-java
 * application that embeds the agent: call it before the application makes any xDS channel
 * ({@code xds:///...}) or {@code XdsServerBuilder} server. It obtains the workload certificate
 * (waiting for it, up to the start timeout), writes the certificate-provider files, installs the xDS
 * bootstrap for this process and keeps the certificate rotated. {@link #runStandalone} does the same
 * for a workload in another language: it writes the bootstrap file and runs until stopped; the
 * workload reads the file through {@code GRPC_XDS_BOOTSTRAP}.
 */
public final class WeftAgent implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(WeftAgent.class.getName());
  // The time a certificate has left when it is replaced is split in ten reads of the files, within
  // [1 s, grpc-java's default of 10 minutes]: gRPC sees a new certificate long before the old expires.
  private static final int READS_PER_GRACE_PERIOD = 10;
  private static final Duration MAX_REFRESH = XdsBootstrap.DEFAULT_REFRESH_INTERVAL;

  private final List<CaClient> cas;
  private final CertificateManager certificates;
  private final weft.agent.cert.TrustBundleWatcher trustWatcher;
  private final XdsProxy proxy;
  private final AgentDns dns;
  // Closed before the rest: the DNS, its own xDS proxy, the grpc resolver's registration.
  private final List<AutoCloseable> dnsParts;
  private final ScheduledExecutorService ownScheduler;
  private final XdsBootstrap bootstrap;
  private final Path bootstrapFile;
  private final AutoCloseable uninstall;
  private final CountDownLatch closed = new CountDownLatch(1);
  private final AtomicBoolean closing = new AtomicBoolean();

  private WeftAgent(List<CaClient> cas, CertificateManager certificates, weft.agent.cert.TrustBundleWatcher trustWatcher,
      XdsProxy proxy, AgentDns dns, List<AutoCloseable> dnsParts, ScheduledExecutorService ownScheduler,
      XdsBootstrap bootstrap, Path bootstrapFile, AutoCloseable uninstall) {
    this.cas = cas;
    this.certificates = certificates;
    this.trustWatcher = trustWatcher;
    this.proxy = proxy;
    this.dns = dns;
    this.dnsParts = dnsParts;
    this.ownScheduler = ownScheduler;
    this.bootstrap = bootstrap;
    this.bootstrapFile = bootstrapFile;
    this.uninstall = uninstall;
  }

  /**
   * Embedded: joins this process to the mesh, and sets the system property
   * {@value BootstrapInstaller#CONFIG_PROPERTY} that grpc-java reads its bootstrap from.
   *
   * @throws AgentException when no certificate arrives within the start timeout, or when gRPC would
   *     read its bootstrap from somewhere else (the message says what to unset)
   */
  public static WeftAgent start(AgentOptions options) {
    return start(options, new BootstrapInstaller(), true);
  }

  /**
   * Standalone, the first half of {@link #runStandalone}: certificates and the bootstrap file, no
   * system property. The caller keeps the agent until it closes it.
   */
  public static WeftAgent startStandalone(AgentOptions options) {
    return start(options, null, false);
  }

  /** grpc-java 1.85's switch for gRFC A87's SPIFFE bundle map, read once when its xDS classes load. */
  public static final String SPIFFE_FLAG = "GRPC_EXPERIMENTAL_XDS_MTLS_SPIFFE";

  /** Whether this JVM was started with {@link #SPIFFE_FLAG} true, as grpc-java reads it (environment, then property). */
  static boolean spiffeFlagSet() {
    // grpc-java 1.85 also takes its older name for the same switch.
    for (String name : java.util.List.of(SPIFFE_FLAG, "GRPC_EXPERIMENTAL_SPIFFE_TRUST_BUNDLE_MAP")) {
      String v = System.getenv(name);
      if (v == null) v = System.getProperty(name);
      if (v != null && Boolean.parseBoolean(v.trim())) return true;
    }
    return false;
  }

  /**
   * {@code weft agent}: starts standalone and runs until the thread is interrupted or the process
   * is stopped (Ctrl-C, SIGTERM), rotating the certificate all along.
   */
  public static void runStandalone(AgentOptions options) throws InterruptedException {
    WeftAgent agent = startStandalone(options);
    LOG.log(System.Logger.Level.INFO, "agent for " + options.identity.spiffeId() + " running; start the workload with "
        + BootstrapInstaller.FILE_ENV + "=" + agent.bootstrapFile() + " and " + SPIFFE_FLAG + "=true (so that "
        + "grpc-java checks each peer against its own trust domain's roots in "
        + weft.agent.cert.SpiffeBundleMap.FILE_NAME + ")");
    Thread hook = new Thread(agent::close, "weft-agent-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      agent.awaitTermination();
    } finally {
      agent.close();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // already shutting down: the hook is running or has run
      }
    }
  }

  private static WeftAgent start(AgentOptions o, BootstrapInstaller installer, boolean inProcess) {
    if (inProcess) {
      try {
        installer.requireNoEarlierSource(); // before asking the CA: fail fast
      } catch (IllegalStateException e) {
        throw new AgentException(e.getMessage(), e);
      }
    }
    ScheduledExecutorService own = o.scheduler == null ? Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "weft-agent-certificates");
      t.setDaemon(true);
      return t;
    }) : null;
    List<CaClient> cas = new ArrayList<>();
    CertificateManager certs = null;
    weft.agent.cert.TrustBundleWatcher watcher = null;
    XdsProxy proxy = null;
    List<AutoCloseable> dnsParts = new ArrayList<>();
    try {
      // Our roots for our domain and its aliases, each peer's for its own: the A87 bundle map beside the certificates.
      TrustDomainRoots trust = new TrustDomainRoots(o.identity.trustDomain(), o.trustDomainAliases,
          o.peerTrustBundles);
      CertificateFiles files = new CertificateFiles(o.outputDir, trust);
      for (String address : o.caAddresses) {
        cas.add(new CaClient(address, o.caServerName, o.roots, o.token, o.identity.clusterId()));
      }
      FailoverSigner signer = new FailoverSigner(cas, o.caAddresses);
      certs = CertificateManager.builder(o.identity.spiffeId(), signer, o.roots, files)
          .ttl(o.certTtl)
          .rotationFraction(o.rotationFraction)
          .retryPolicy(o.retryPolicy)
          .clock(o.clock)
          .scheduler(own != null ? own : o.scheduler)
          .build();
      certs.start();
      if (o.trustBundlesFromControlPlane) {
        // Peers' roots as the control plane follows them: a peer's rotated root reaches the map file
        // (and gRPC's file watcher) without a restart. Started now, so the first set usually arrives
        // with the first certificate; if later, the files are written again.
        CertificateManager installed = certs;
        watcher = new weft.agent.cert.TrustBundleWatcher(o.caAddresses, o.caServerName, o.roots, roots -> {
          if (trust.setDelivered(roots)) installed.rewriteTrustFiles();
        }, own != null ? own : o.scheduler);
        watcher.start();
      }
      IssuedCertificate first;
      try {
        first = certs.awaitFirstCertificate(o.startTimeout);
      } catch (TimeoutException e) {
        throw new AgentException(e.getMessage() + " (CA " + String.join(", ", o.caAddresses) + " as "
            + cas.get(0).serverName()
            + (o.rootsDescription.isEmpty() ? "" : ", mesh root " + o.rootsDescription) + ")", e);
      }
      Duration refresh = o.refreshInterval != null ? o.refreshInterval : refreshFor(first, o.rotationFraction);
      XdsBootstrap.Builder b = XdsBootstrap.builder()
          .xdsServer(o.xdsAddresses.get(0), o.xdsTransport)
          .identity(o.identity)
          .certificateFiles(files.certificateChainFile(), files.privateKeyFile(), files.rootCertificateFile())
          .spiffeTrustBundleMapFile(files.spiffeBundleMapFile())
          .refreshInterval(refresh);
      if (o.dnsPort != null) {
        // As Istio's agent with DNS proxying: the control plane sends this proxy a name table.
        b.metadata(DnsMetadata.DNS_CAPTURE, "true");
        b.metadata(DnsMetadata.DNS_AUTO_ALLOCATE, "true");
      }
      o.extraMetadata.forEach(b::metadata);
      XdsBootstrap direct = b.build();
      if (o.xdsProxyPort != null) {
        proxy = startProxy(o, o.xdsProxyPort, files, refresh, direct);
        // The workload talks plaintext to the proxy on loopback; the proxy does TLS upstream.
        b.xdsServer(InetAddress.getLoopbackAddress().getHostAddress() + ":" + proxy.port(), XdsTransport.PLAINTEXT);
      }
      XdsBootstrap bootstrap = b.build();
      AgentDns dns = null;
      if (o.dnsPort != null) {
        dns = startDns(o, files, refresh, direct, proxy, dnsParts, inProcess);
      }
      Path file = files.directory().resolve(AgentOptions.BOOTSTRAP_FILE);
      BootstrapInstaller.writeFile(bootstrap, file);
      AutoCloseable uninstall = inProcess ? installer.installInProcess(bootstrap) : null;
      if (inProcess && !o.peerTrustBundles.isEmpty() && !spiffeFlagSet()) {
        LOG.log(System.Logger.Level.WARNING, "peer trust bundles " + o.peerTrustBundles.keySet() + " are written to "
            + files.spiffeBundleMapFile() + ", but grpc-java reads that file only when this JVM starts with "
            + SPIFFE_FLAG + "=true (environment, or -D" + SPIFFE_FLAG + "=true): it reads the flag once, when its "
            + "xDS classes load; until then the peers' identities are refused");
      }
      LOG.log(System.Logger.Level.INFO, "joined the mesh as " + o.identity.spiffeId() + " (node "
          + o.identity.nodeId() + "); certificates in " + files.directory() + ", xDS bootstrap "
          + (inProcess ? "installed for this process and " : "") + "written to " + file);
      return new WeftAgent(cas, certs, watcher, proxy, dns, dnsParts, own, bootstrap, file, uninstall);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closeAll(dnsParts);
      cleanUp(cas, certs, watcher, proxy, own);
      throw new AgentException("interrupted while waiting for the first workload certificate", e);
    } catch (IOException e) {
      closeAll(dnsParts);
      cleanUp(cas, certs, watcher, proxy, own);
      throw new AgentException("cannot write the xDS bootstrap: " + e.getMessage(), e);
    } catch (RuntimeException e) {
      closeAll(dnsParts);
      cleanUp(cas, certs, watcher, proxy, own);
      throw e instanceof AgentException ae ? ae : new AgentException(e.getMessage(), e);
    }
  }

  /**
   * The local xDS proxy, upstream over the transport asked for (mutual TLS with the files just
   * written), with the node of the bootstrap {@code direct} as what the agent knows of the workload.
   */
  private static XdsProxy startProxy(AgentOptions o, int port, CertificateFiles files, Duration refresh,
      XdsBootstrap direct) {
    XdsProxy.Builder p = XdsProxy.builder().port(port).upstreams(o.xdsAddresses)
        .defaultNode(XdsProxy.node(direct.toMap()));
    String authority = o.caServerName == null || o.caServerName.isEmpty() ? null : o.caServerName;
    switch (o.xdsTransport) {
      case PLAINTEXT -> { }
      case TLS -> p.credentials(FileTlsXdsCredentialsProvider.fromFiles(files.rootCertificateFile(), null, null,
          refresh), authority);
      case MUTUAL_TLS -> p.credentials(FileTlsXdsCredentialsProvider.fromFiles(files.rootCertificateFile(),
          files.certificateChainFile(), files.privateKeyFile(), refresh), authority);
      default -> throw new IllegalStateException("unknown transport " + o.xdsTransport);
    }
    return p.start();
  }

  /**
   * The agent's DNS: the server, and the name-table subscription through the workload's xDS proxy, or
   * through one of its own on a loopback port when the workload dials the control plane directly.
   * In-process, grpc's {@code dns} scheme is then resolved from the same table. Each part started is
   * added to {@code parts}, so that a failure further on closes it.
   *
   * @throws AgentException when the DNS address cannot be bound (the message says which and why)
   */
  private static AgentDns startDns(AgentOptions o, CertificateFiles files, Duration refresh, XdsBootstrap direct,
      XdsProxy workloadProxy, List<AutoCloseable> parts, boolean inProcess) {
    XdsProxy tableProxy = workloadProxy;
    if (tableProxy == null) {
      tableProxy = startProxy(o, 0, files, refresh, direct);
      parts.add(tableProxy);
    }
    AgentDns dns;
    try {
      dns = AgentDns.start(new AgentDns.Settings(
          new java.net.InetSocketAddress(o.dnsListenAddress, o.dnsPort), o.dnsUpstreams, o.resolvConf,
          o.identity.namespace(), o.identity.domainSuffix(), tableProxy.port(), XdsProxy.node(direct.toMap()),
          o.dnsQueriesPerSecond, o.dnsBurst));
    } catch (IOException e) {
      throw new AgentException(e.getMessage(), e);
    }
    parts.add(0, dns);
    if (inProcess) {
      MeshNameResolverProvider resolver = new MeshNameResolverProvider(dns.namesSupplier());
      io.grpc.NameResolverRegistry.getDefaultRegistry().register(resolver);
      parts.add(0, () -> io.grpc.NameResolverRegistry.getDefaultRegistry().deregister(resolver));
    }
    LOG.log(System.Logger.Level.INFO, "DNS on " + dns.address() + " for " + o.identity.namespace()
        + (inProcess ? "; grpc's dns scheme resolves mesh names from the same table" : ""));
    return dns;
  }

  /** The agent's DNS, when it answers DNS. */
  public java.util.Optional<AgentDns> dns() {
    return java.util.Optional.ofNullable(dns);
  }

  /** What follows the control plane's trust bundles, unless turned off. */
  public java.util.Optional<weft.agent.cert.TrustBundleWatcher> trustBundleWatcher() {
    return java.util.Optional.ofNullable(trustWatcher);
  }

  /** The local xDS proxy, when the agent runs one. */
  public java.util.Optional<XdsProxy> xdsProxy() {
    return java.util.Optional.ofNullable(proxy);
  }

  /** What {@code refresh_interval} to give gRPC for certificates like {@code cert}. */
  static Duration refreshFor(IssuedCertificate cert, double rotationFraction) {
    Duration life = Duration.between(cert.notBefore(), cert.notAfter());
    Duration grace = Duration.ofMillis((long) (life.toMillis() * (1 - rotationFraction)));
    Duration refresh = grace.dividedBy(READS_PER_GRACE_PERIOD);
    if (refresh.compareTo(Duration.ofSeconds(1)) < 0) {
      return Duration.ofSeconds(1);
    }
    return refresh.compareTo(MAX_REFRESH) > 0 ? MAX_REFRESH : Duration.ofSeconds(refresh.toSeconds());
  }

  public XdsBootstrap bootstrap() {
    return bootstrap;
  }

  /** The bootstrap file written beside the certificates (what {@code GRPC_XDS_BOOTSTRAP} names). */
  public Path bootstrapFile() {
    return bootstrapFile;
  }

  public CertificateManager certificates() {
    return certificates;
  }

  /** Blocks until {@link #close} (or the thread is interrupted). */
  public void awaitTermination() throws InterruptedException {
    closed.await();
  }

  /**
   * Stops rotating and restores the bootstrap property. The files stay, and grpc-java keeps the
   * bootstrap it has read: it reads it once per process.
   */
  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    closeAll(dnsParts);
    cleanUp(cas, certificates, trustWatcher, proxy, ownScheduler);
    if (uninstall != null) {
      try {
        uninstall.close();
      } catch (Exception e) {
        LOG.log(System.Logger.Level.WARNING, "cannot restore the xDS bootstrap property: " + e.getMessage());
      }
    }
    closed.countDown();
  }

  private static void closeAll(List<AutoCloseable> parts) {
    for (AutoCloseable part : parts) {
      try {
        part.close();
      } catch (Exception e) {
        LOG.log(System.Logger.Level.WARNING, "closing the agent's DNS: " + e);
      }
    }
    parts.clear();
  }

  private static void cleanUp(List<CaClient> cas, CertificateManager certs, weft.agent.cert.TrustBundleWatcher watcher,
      XdsProxy proxy, ScheduledExecutorService own) {
    if (watcher != null) {
      watcher.close();
    }
    if (proxy != null) {
      proxy.close();
    }
    if (certs != null) {
      certs.close();
    }
    if (own != null) {
      own.shutdownNow();
    }
    cas.forEach(CaClient::close);
  }

  /** The agent cannot join the workload to the mesh; the message says why and what to check. */
  public static final class AgentException extends RuntimeException {
    public AgentException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
