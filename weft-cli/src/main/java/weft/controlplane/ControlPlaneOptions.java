package weft.controlplane;

import java.nio.file.Path;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * Everything {@code weft control-plane} is started with. Null paths are unset; a port of 0 asks
 * the system for a free one (tests). Start from {@link #forConfigDir} or {@link #forKubeconfig}
 * and change fields with the {@code with} methods.
 *
 * @param initialSyncWait how long start-up waits for remote clusters before serving without them
 * @param remoteConfigDirs further clusters given as folders of YAML (cluster id → folder): VMs, or a
 *     cluster whose state another tool writes out
 * @param xdsSendTimeout how long an xDS stream may leave a push waiting for its client to read before it
 *     is closed ({@code --xds-send-timeout})
 */
public record ControlPlaneOptions(Path configDir, Path kubeconfig, String clusterId, String network,
    String systemNamespace, Path meshConfig, Path meshNetworks, Path remoteSecretsDir, Path stateDir, int xdsPort,
    int monitoringPort, boolean localityFailoverWithoutOutlierDetection, Duration initialSyncWait,
    java.util.Map<String, Path> remoteConfigDirs, Ca ca, Duration xdsSendTimeout, Dns dns) {

  /** Without DNS ({@code --dns-port} unset). */
  public ControlPlaneOptions(Path configDir, Path kubeconfig, String clusterId, String network,
      String systemNamespace, Path meshConfig, Path meshNetworks, Path remoteSecretsDir, Path stateDir, int xdsPort,
      int monitoringPort, boolean localityFailoverWithoutOutlierDetection, Duration initialSyncWait,
      java.util.Map<String, Path> remoteConfigDirs, Ca ca, Duration xdsSendTimeout) {
    this(configDir, kubeconfig, clusterId, network, systemNamespace, meshConfig, meshNetworks, remoteSecretsDir,
        stateDir, xdsPort, monitoringPort, localityFailoverWithoutOutlierDetection, initialSyncWait, remoteConfigDirs,
        ca, xdsSendTimeout, null);
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
        initialSyncWait, remoteConfigDirs, ca, xdsSendTimeout, settings);
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
        initialSyncWait, remoteConfigDirs, settings, xdsSendTimeout, dns);
  }

  public ControlPlaneOptions {
    remoteConfigDirs = java.util.Map.copyOf(remoteConfigDirs);
    java.util.Objects.requireNonNull(xdsSendTimeout, "xdsSendTimeout");
  }

  public ControlPlaneOptions withXdsSendTimeout(Duration timeout) {
    return new ControlPlaneOptions(configDir, kubeconfig, clusterId, network, systemNamespace, meshConfig,
        meshNetworks, remoteSecretsDir, stateDir, xdsPort, monitoringPort, localityFailoverWithoutOutlierDetection,
        initialSyncWait, remoteConfigDirs, ca, timeout, dns);
  }

  public ControlPlaneOptions withRemoteConfigDirs(java.util.Map<String, Path> dirs) {
    return new ControlPlaneOptions(configDir, kubeconfig, clusterId, network, systemNamespace, meshConfig,
        meshNetworks, remoteSecretsDir, stateDir, xdsPort, monitoringPort, localityFailoverWithoutOutlierDetection,
        initialSyncWait, dirs, ca, xdsSendTimeout, dns);
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
        remoteConfigDirs, ca, xdsSendTimeout, dns);
  }

  public ControlPlaneOptions withCluster(String id, String net) {
    return new ControlPlaneOptions(configDir, kubeconfig, id, net, systemNamespace, meshConfig, meshNetworks,
        remoteSecretsDir, stateDir, xdsPort, monitoringPort, localityFailoverWithoutOutlierDetection, initialSyncWait,
        remoteConfigDirs, ca, xdsSendTimeout, dns);
  }

  public ControlPlaneOptions withPorts(int xds, int monitoring) {
    return new ControlPlaneOptions(configDir, kubeconfig, clusterId, network, systemNamespace, meshConfig,
        meshNetworks, remoteSecretsDir, stateDir, xds, monitoring, localityFailoverWithoutOutlierDetection,
        initialSyncWait, remoteConfigDirs, ca, xdsSendTimeout, dns);
  }

  public ControlPlaneOptions withMeshConfig(Path file) {
    return new ControlPlaneOptions(configDir, kubeconfig, clusterId, network, systemNamespace, file, meshNetworks,
        remoteSecretsDir, stateDir, xdsPort, monitoringPort, localityFailoverWithoutOutlierDetection, initialSyncWait,
        remoteConfigDirs, ca, xdsSendTimeout, dns);
  }

  public ControlPlaneOptions withRemoteSecrets(Path secretsDir, Path state, Duration syncWait) {
    return new ControlPlaneOptions(configDir, kubeconfig, clusterId, network, systemNamespace, meshConfig,
        meshNetworks, secretsDir, state, xdsPort, monitoringPort, localityFailoverWithoutOutlierDetection, syncWait, remoteConfigDirs, ca, xdsSendTimeout, dns);
  }
}
