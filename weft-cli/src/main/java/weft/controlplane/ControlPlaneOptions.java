package weft.controlplane;

import java.nio.file.Path;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * Everything {@code weft control-plane} is started with. Null paths are unset; a port of 0 asks
 * the system for a free one (tests). Start from {@link #forConfigDir}, {@link #forKubeconfig} or
 * {@link #forConfigKubeconfig}
 * and change fields with the {@code with} methods.
 *
 * @param initialSyncWait how long start-up waits for remote clusters before serving without them
 * @param remoteConfigDirs further clusters given as folders of YAML (cluster id → folder): VMs, or a
 *     cluster whose state another tool writes out
 * @param xdsSendTimeout how long an xDS stream may leave a push waiting for its client to read before it
 *     is closed ({@code --xds-send-timeout})
 * @param configKubeconfig an external control plane's config cluster ({@code --config-kubeconfig}): its
 *     API server holds the mesh config and the remote secrets, and there is no local cluster; instead of
 *     {@code configDir} and {@code kubeconfig}
 * @param leader how instances elect the one that writes back to the API server
 * @param dns the control plane's own DNS server ({@code --dns-port}); null when it answers none
 * @param mcs Kubernetes Multi-Cluster Services ({@code --mcs}, {@code --mcs-host}, {@code
 *     --mcs-cluster-local}, {@code --mcs-controller}); all off by default
 * @param inCluster this cluster is the pod's own ({@code --in-cluster}); null otherwise
 */
public record ControlPlaneOptions(Path configDir, Path kubeconfig, String clusterId, String network,
    String systemNamespace, Path meshConfig, Path meshNetworks, Path remoteSecretsDir, Path stateDir, int xdsPort,
    int monitoringPort, boolean localityFailoverWithoutOutlierDetection, Duration initialSyncWait,
    java.util.Map<String, Path> remoteConfigDirs, Ca ca, Duration xdsSendTimeout, Path configKubeconfig,
    Leader leader, Dns dns, Federation federation, weft.registry.McsSettings mcs, InCluster inCluster) {

  /**
   * This cluster is the one the process runs in ({@code --in-cluster}): its API server and credentials
   * come from the pod's environment and its mounted service-account folder.
   */
  public record InCluster(java.util.Map<String, String> environment, Path serviceAccountDir) {
    public InCluster {
      environment = java.util.Map.copyOf(environment);
      java.util.Objects.requireNonNull(serviceAccountDir, "serviceAccountDir");
    }

    /** This process's own environment and the kubelet's mount. */
    public static InCluster ofThisPod() {
      return new InCluster(System.getenv(), weft.registry.kube.InClusterConfig.SERVICE_ACCOUNT_DIR);
    }
  }

  /** Without Multi-Cluster Services, not in a pod's own cluster. */
  public ControlPlaneOptions(Path configDir, Path kubeconfig, String clusterId, String network,
      String systemNamespace, Path meshConfig, Path meshNetworks, Path remoteSecretsDir, Path stateDir, int xdsPort,
      int monitoringPort, boolean localityFailoverWithoutOutlierDetection, Duration initialSyncWait,
      java.util.Map<String, Path> remoteConfigDirs, Ca ca, Duration xdsSendTimeout, Path configKubeconfig,
      Leader leader, Dns dns, Federation federation) {
    this(configDir, kubeconfig, clusterId, network, systemNamespace, meshConfig, meshNetworks, remoteSecretsDir,
        stateDir, xdsPort, monitoringPort, localityFailoverWithoutOutlierDetection, initialSyncWait, remoteConfigDirs,
        ca, xdsSendTimeout, configKubeconfig, leader, dns, federation, weft.registry.McsSettings.OFF, null);
  }

  /** With Multi-Cluster Services; not in a pod's own cluster. */
  public ControlPlaneOptions(Path configDir, Path kubeconfig, String clusterId, String network,
      String systemNamespace, Path meshConfig, Path meshNetworks, Path remoteSecretsDir, Path stateDir, int xdsPort,
      int monitoringPort, boolean localityFailoverWithoutOutlierDetection, Duration initialSyncWait,
      java.util.Map<String, Path> remoteConfigDirs, Ca ca, Duration xdsSendTimeout, Path configKubeconfig,
      Leader leader, Dns dns, Federation federation, weft.registry.McsSettings mcs) {
    this(configDir, kubeconfig, clusterId, network, systemNamespace, meshConfig, meshNetworks, remoteSecretsDir,
        stateDir, xdsPort, monitoringPort, localityFailoverWithoutOutlierDetection, initialSyncWait, remoteConfigDirs,
        ca, xdsSendTimeout, configKubeconfig, leader, dns, federation, mcs, null);
  }

  public ControlPlaneOptions withMcs(weft.registry.McsSettings settings) {
    return new ControlPlaneOptions(configDir, kubeconfig, clusterId, network, systemNamespace, meshConfig,
        meshNetworks, remoteSecretsDir, stateDir, xdsPort, monitoringPort, localityFailoverWithoutOutlierDetection,
        initialSyncWait, remoteConfigDirs, ca, xdsSendTimeout, configKubeconfig, leader, dns, federation, settings,
        inCluster);
  }

  /** {@code --in-cluster}: instead of {@code configDir} and {@code kubeconfig}. */
  public ControlPlaneOptions withInCluster(InCluster pod) {
    return new ControlPlaneOptions(configDir, kubeconfig, clusterId, network, systemNamespace, meshConfig,
        meshNetworks, remoteSecretsDir, stateDir, xdsPort, monitoringPort, localityFailoverWithoutOutlierDetection,
        initialSyncWait, remoteConfigDirs, ca, xdsSendTimeout, configKubeconfig, leader, dns, federation, mcs, pod);
  }

  /**
   * Leader election among instances on one config cluster: the Lease {@code leaseName} in the system
   * namespace, held as {@code timings} say ({@code --leader-lease-duration}, {@code
   * --leader-renew-deadline}, {@code --leader-retry-period}); {@code identity} null means the host
   * name and a random suffix.
   */
  public record Leader(String leaseName, weft.registry.leader.LeaseTimings timings, String identity) {
    public static final Leader DEFAULTS = new Leader("weft-leader", weft.registry.leader.LeaseTimings.ISTIO_DEFAULTS,
        null);

    public Leader {
      java.util.Objects.requireNonNull(leaseName, "leaseName");
      java.util.Objects.requireNonNull(timings, "timings");
    }
  }

  /** Without a bundle endpoint or federated peers. */
  public ControlPlaneOptions(Path configDir, Path kubeconfig, String clusterId, String network,
      String systemNamespace, Path meshConfig, Path meshNetworks, Path remoteSecretsDir, Path stateDir, int xdsPort,
      int monitoringPort, boolean localityFailoverWithoutOutlierDetection, Duration initialSyncWait,
      java.util.Map<String, Path> remoteConfigDirs, Ca ca, Duration xdsSendTimeout, Path configKubeconfig,
      Leader leader, Dns dns) {
    this(configDir, kubeconfig, clusterId, network, systemNamespace, meshConfig, meshNetworks, remoteSecretsDir,
        stateDir, xdsPort, monitoringPort, localityFailoverWithoutOutlierDetection, initialSyncWait, remoteConfigDirs,
        ca, xdsSendTimeout, configKubeconfig, leader, dns, Federation.DEFAULTS);
  }

  /**
   * Trust with other meshes: our SPIFFE bundle endpoint ({@code --bundle-port}, -1 = off; 0 = any free
   * port) under {@code profile} ({@code --bundle-profile}), with {@code tlsDir} ({@code --bundle-tls-dir})
   * for https_web; the refresh hint we publish; the Web PKI roots used to check https_web peers ({@code
   * --bundle-web-roots}, null = the JDK's); and the bounds on how often a peer is refetched.
   */
  public record Federation(int bundlePort, weft.security.federation.BundleEndpointProfile profile, Path tlsDir,
      Duration refreshHint, Path webRoots, Duration minRefresh, Duration maxRefresh, Duration meshRefresh,
      String importSuffix) {
    /** How often a peer mesh's export list is fetched ({@code --mesh-refresh}). */
    public static final Duration MESH_REFRESH = Duration.ofSeconds(30);
    /** Imports are named NAME.NS.svc.MESH_ID.SUFFIX ({@code --mesh-import-suffix}). */
    public static final String IMPORT_SUFFIX = "global";
    public static final Federation DEFAULTS = new Federation(-1,
        weft.security.federation.BundleEndpointProfile.HTTPS_SPIFFE, null, Duration.ofMinutes(5), null,
        weft.security.federation.PeerBundles.MIN_REFRESH, weft.security.federation.PeerBundles.MAX_REFRESH);

    public Federation {
      java.util.Objects.requireNonNull(profile, "profile");
      java.util.Objects.requireNonNull(refreshHint, "refreshHint");
      java.util.Objects.requireNonNull(minRefresh, "minRefresh");
      java.util.Objects.requireNonNull(maxRefresh, "maxRefresh");
      if (meshRefresh == null) meshRefresh = MESH_REFRESH;
      if (importSuffix == null) importSuffix = IMPORT_SUFFIX;
      if (meshRefresh.toMillis() < 100) {
        throw new IllegalArgumentException("--mesh-refresh must be at least 0.1 s, got " + meshRefresh.toMillis() + " ms");
      }
      if (!weft.security.meshes.MeshNames.isDnsName(importSuffix)) {
        throw new IllegalArgumentException("--mesh-import-suffix '" + weft.model.text.ClientText.forLog(importSuffix)
            + "' is not a DNS name (lower-case labels, e.g. global)");
      }
    }

    /** Peer meshes at the default interval and suffix. */
    public Federation(int bundlePort, weft.security.federation.BundleEndpointProfile profile, Path tlsDir,
        Duration refreshHint, Path webRoots, Duration minRefresh, Duration maxRefresh) {
      this(bundlePort, profile, tlsDir, refreshHint, webRoots, minRefresh, maxRefresh, MESH_REFRESH, IMPORT_SUFFIX);
    }

    /** How often peer meshes' export lists are fetched, and the suffix of imported names. */
    public Federation withMeshImports(Duration refresh, String suffix) {
      return new Federation(bundlePort, profile, tlsDir, refreshHint, webRoots, minRefresh, maxRefresh, refresh, suffix);
    }

    public Federation withBundleEndpoint(int port, weft.security.federation.BundleEndpointProfile p, Path dir) {
      return new Federation(port, p, dir, refreshHint, webRoots, minRefresh, maxRefresh, meshRefresh, importSuffix);
    }

    public Federation withWebRoots(Path file) {
      return new Federation(bundlePort, profile, tlsDir, refreshHint, file, minRefresh, maxRefresh, meshRefresh,
          importSuffix);
    }

    public Federation withRefresh(Duration hint, Duration min, Duration max) {
      return new Federation(bundlePort, profile, tlsDir, hint, webRoots, min, max, meshRefresh, importSuffix);
    }
  }

  public ControlPlaneOptions withFederation(Federation settings) {
    return new ControlPlaneOptions(configDir, kubeconfig, clusterId, network, systemNamespace, meshConfig,
        meshNetworks, remoteSecretsDir, stateDir, xdsPort, monitoringPort, localityFailoverWithoutOutlierDetection,
        initialSyncWait, remoteConfigDirs, ca, xdsSendTimeout, configKubeconfig, leader, dns, settings, mcs,
        inCluster);
  }

  /** Without an external config cluster, with the default leader election, without DNS. */
  public ControlPlaneOptions(Path configDir, Path kubeconfig, String clusterId, String network,
      String systemNamespace, Path meshConfig, Path meshNetworks, Path remoteSecretsDir, Path stateDir, int xdsPort,
      int monitoringPort, boolean localityFailoverWithoutOutlierDetection, Duration initialSyncWait,
      java.util.Map<String, Path> remoteConfigDirs, Ca ca, Duration xdsSendTimeout) {
    this(configDir, kubeconfig, clusterId, network, systemNamespace, meshConfig, meshNetworks, remoteSecretsDir,
        stateDir, xdsPort, monitoringPort, localityFailoverWithoutOutlierDetection, initialSyncWait, remoteConfigDirs,
        ca, xdsSendTimeout, null, Leader.DEFAULTS, null);
  }

  /**
   * The control plane answering DNS ({@code --dns-port}, {@code --dns-client}): where it listens (UDP
   * and TCP; port 0 = any free port), which source blocks stand for which cluster and namespace, and
   * where names the mesh does not own are forwarded (none: refused).
   */
  public record Dns(InetSocketAddress address, java.util.List<DnsClientRule> clients,
      java.util.List<InetSocketAddress> upstreams) {
    public Dns {
      java.util.Objects.requireNonNull(address, "address");
      clients = java.util.List.copyOf(clients);
      upstreams = java.util.List.copyOf(upstreams);
    }
  }

  public ControlPlaneOptions withDns(Dns settings) {
    return new ControlPlaneOptions(configDir, kubeconfig, clusterId, network, systemNamespace, meshConfig,
        meshNetworks, remoteSecretsDir, stateDir, xdsPort, monitoringPort, localityFailoverWithoutOutlierDetection,
        initialSyncWait, remoteConfigDirs, ca, xdsSendTimeout, configKubeconfig, leader, settings, federation, mcs,
        inCluster);
  }

  /** With the default xDS send timeout. */
  public ControlPlaneOptions(Path configDir, Path kubeconfig, String clusterId, String network,
      String systemNamespace, Path meshConfig, Path meshNetworks, Path remoteSecretsDir, Path stateDir, int xdsPort,
      int monitoringPort, boolean localityFailoverWithoutOutlierDetection, Duration initialSyncWait,
      java.util.Map<String, Path> remoteConfigDirs, Ca ca) {
    this(configDir, kubeconfig, clusterId, network, systemNamespace, meshConfig, meshNetworks, remoteSecretsDir,
        stateDir, xdsPort, monitoringPort, localityFailoverWithoutOutlierDetection, initialSyncWait, remoteConfigDirs,
        ca, weft.xds.server.AdsServer.DEFAULT_SEND_TIMEOUT);
  }

  /**
   * The CA and the TLS port (xDS and CSR API). {@code tokens} is file mode's list of allowed
   * tokens; without it, callers are checked by TokenReview on their own cluster. {@code xdsAuth}
   * is what an xDS client on the secure port must prove ({@code --xds-auth}).
   *
   * @param selfSignedRoot sign with a self-signed root in {@code dir} that the control plane did not
   *     make itself ({@code --ca-self-signed-root}); otherwise such a directory is refused
   */
  public record Ca(Path dir, Path tokens, int securePort, weft.security.auth.XdsAuthMode xdsAuth,
      boolean selfSignedRoot) {
    public Ca {
      java.util.Objects.requireNonNull(xdsAuth, "xdsAuth");
    }

    /** The default: a client certificate or a token. */
    public Ca(Path dir, Path tokens, int securePort) {
      this(dir, tokens, securePort, weft.security.auth.XdsAuthMode.ANY, false);
    }

    public Ca withXdsAuth(weft.security.auth.XdsAuthMode mode) {
      return new Ca(dir, tokens, securePort, mode, selfSignedRoot);
    }

    public Ca withSelfSignedRoot(boolean allowed) {
      return new Ca(dir, tokens, securePort, xdsAuth, allowed);
    }
  }

  public ControlPlaneOptions withCa(Ca settings) {
    return new ControlPlaneOptions(configDir, kubeconfig, clusterId, network, systemNamespace, meshConfig,
        meshNetworks, remoteSecretsDir, stateDir, xdsPort, monitoringPort, localityFailoverWithoutOutlierDetection,
        initialSyncWait, remoteConfigDirs, settings, xdsSendTimeout, configKubeconfig, leader, dns, federation, mcs,
        inCluster);
  }

  public ControlPlaneOptions {
    remoteConfigDirs = java.util.Map.copyOf(remoteConfigDirs);
    java.util.Objects.requireNonNull(xdsSendTimeout, "xdsSendTimeout");
    java.util.Objects.requireNonNull(leader, "leader");
    java.util.Objects.requireNonNull(federation, "federation");
    mcs = mcs == null ? weft.registry.McsSettings.OFF : mcs;
  }

  /**
   * An external control plane: the config cluster is the API server {@code configKubeconfig} reaches
   * (named {@code --cluster-id}); every workload cluster comes from a remote secret.
   */
  public static ControlPlaneOptions forConfigKubeconfig(Path configKubeconfig) {
    return forConfigDir(null).withConfigKubeconfig(configKubeconfig);
  }

  public ControlPlaneOptions withConfigKubeconfig(Path file) {
    return new ControlPlaneOptions(configDir, kubeconfig, clusterId, network, systemNamespace, meshConfig,
        meshNetworks, remoteSecretsDir, stateDir, xdsPort, monitoringPort, localityFailoverWithoutOutlierDetection,
        initialSyncWait, remoteConfigDirs, ca, xdsSendTimeout, file, leader, dns, federation, mcs,
        inCluster);
  }

  public ControlPlaneOptions withLeader(Leader election) {
    return new ControlPlaneOptions(configDir, kubeconfig, clusterId, network, systemNamespace, meshConfig,
        meshNetworks, remoteSecretsDir, stateDir, xdsPort, monitoringPort, localityFailoverWithoutOutlierDetection,
        initialSyncWait, remoteConfigDirs, ca, xdsSendTimeout, configKubeconfig, election, dns, federation, mcs, inCluster);
  }

  public ControlPlaneOptions withXdsSendTimeout(Duration timeout) {
    return new ControlPlaneOptions(configDir, kubeconfig, clusterId, network, systemNamespace, meshConfig,
        meshNetworks, remoteSecretsDir, stateDir, xdsPort, monitoringPort, localityFailoverWithoutOutlierDetection,
        initialSyncWait, remoteConfigDirs, ca, timeout, configKubeconfig, leader, dns, federation, mcs,
        inCluster);
  }

  public ControlPlaneOptions withRemoteConfigDirs(java.util.Map<String, Path> dirs) {
    return new ControlPlaneOptions(configDir, kubeconfig, clusterId, network, systemNamespace, meshConfig,
        meshNetworks, remoteSecretsDir, stateDir, xdsPort, monitoringPort, localityFailoverWithoutOutlierDetection,
        initialSyncWait, dirs, ca, xdsSendTimeout, configKubeconfig, leader, dns, federation, mcs,
        inCluster);
  }

  public static ControlPlaneOptions forConfigDir(Path configDir) {
    return new ControlPlaneOptions(configDir, null, "cluster1", "", "istio-system", null, null, null, null, 15010,
        15014, false, Duration.ofSeconds(30), java.util.Map.of(), null);
  }

  public static ControlPlaneOptions forKubeconfig(Path kubeconfig) {
    return forConfigDir(null).withKubeconfig(kubeconfig);
  }

  public ControlPlaneOptions withKubeconfig(Path file) {
    return new ControlPlaneOptions(configDir, file, clusterId, network, systemNamespace, meshConfig, meshNetworks,
        remoteSecretsDir, stateDir, xdsPort, monitoringPort, localityFailoverWithoutOutlierDetection, initialSyncWait,
        remoteConfigDirs, ca, xdsSendTimeout, configKubeconfig, leader, dns, federation, mcs,
        inCluster);
  }

  public ControlPlaneOptions withCluster(String id, String net) {
    return new ControlPlaneOptions(configDir, kubeconfig, id, net, systemNamespace, meshConfig, meshNetworks,
        remoteSecretsDir, stateDir, xdsPort, monitoringPort, localityFailoverWithoutOutlierDetection, initialSyncWait,
        remoteConfigDirs, ca, xdsSendTimeout, configKubeconfig, leader, dns, federation, mcs,
        inCluster);
  }

  public ControlPlaneOptions withPorts(int xds, int monitoring) {
    return new ControlPlaneOptions(configDir, kubeconfig, clusterId, network, systemNamespace, meshConfig,
        meshNetworks, remoteSecretsDir, stateDir, xds, monitoring, localityFailoverWithoutOutlierDetection,
        initialSyncWait, remoteConfigDirs, ca, xdsSendTimeout, configKubeconfig, leader, dns, federation, mcs,
        inCluster);
  }

  public ControlPlaneOptions withMeshConfig(Path file) {
    return new ControlPlaneOptions(configDir, kubeconfig, clusterId, network, systemNamespace, file, meshNetworks,
        remoteSecretsDir, stateDir, xdsPort, monitoringPort, localityFailoverWithoutOutlierDetection, initialSyncWait,
        remoteConfigDirs, ca, xdsSendTimeout, configKubeconfig, leader, dns, federation, mcs,
        inCluster);
  }

  public ControlPlaneOptions withRemoteSecrets(Path secretsDir, Path state, Duration syncWait) {
    return new ControlPlaneOptions(configDir, kubeconfig, clusterId, network, systemNamespace, meshConfig,
        meshNetworks, secretsDir, state, xdsPort, monitoringPort, localityFailoverWithoutOutlierDetection, syncWait, remoteConfigDirs, ca, xdsSendTimeout, configKubeconfig, leader, dns, federation, mcs,
        inCluster);
  }
}
