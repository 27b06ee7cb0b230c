package weft.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;

@Command(name = "control-plane", mixinStandardHelpOptions = true, showDefaultValues = true,
    description = "Serve xDS for the mesh described by a config folder (the embedded default) or a Kubernetes "
        + "API server.")
final class ControlPlaneCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--config-dir", paramLabel = "DIR", description = {
      "This cluster's state as YAML files (the embedded default); watched.",
      "Default: none; give this or --kubeconfig."})
  Path configDir;

  @Option(names = "--kubeconfig", paramLabel = "FILE", description = {
      "Or: this cluster is a Kubernetes API server (its config cluster); the kubeconfig's current context is used.",
      "Default: none; give this or --config-dir."})
  Path kubeconfig;

  @Option(names = "--in-cluster", defaultValue = "false", description = {
      "Or: this cluster is the one this pod runs in: its API server from KUBERNETES_SERVICE_HOST and "
          + "KUBERNETES_SERVICE_PORT, the pod's service-account token (re-read as the kubelet rotates it) and CA. "
          + "The way deploy/ runs Weft. Replaces --config-dir and --kubeconfig."})
  boolean inCluster;

  /** Where --in-cluster reads the address and the service-account files (tests stand in for a pod). */
  java.util.function.Supplier<ControlPlaneOptions.InCluster> pod = ControlPlaneOptions.InCluster::ofThisPod;

  @Option(names = "--config-kubeconfig", paramLabel = "FILE", description = {
      "Or: an external control plane. FILE reaches the config cluster, whose API server holds the mesh config "
          + "(Istio kinds, the istio ConfigMap) and the remote secrets; there is no local cluster: every workload "
          + "cluster, the config cluster's own included, comes from a remote secret. --cluster-id names the config "
          + "cluster. Replaces --config-dir and --kubeconfig.",
      "Default: none."})
  Path configKubeconfig;

  @Option(names = "--leader-lease-name", paramLabel = "NAME", defaultValue = "weft-leader", description =
      "The Lease (in --system-namespace of the config cluster) whose holder is the one instance that writes back "
      + "to the API server.")
  String leaderLeaseName;

  @Option(names = "--leader-lease-duration", paramLabel = "SECONDS", defaultValue = "30",
      converter = OptionValues.Seconds.class, description = "How long the lease lasts after its last renewal; another "
      + "instance takes over at most this long plus --leader-retry-period after the leader's last renewal.")
  Duration leaderLeaseDuration;

  @Option(names = "--leader-renew-deadline", paramLabel = "SECONDS", defaultValue = "15",
      converter = OptionValues.Seconds.class, description = "A leader that has not renewed its lease for this long "
      + "stops writing (before the lease can pass to another instance); shorter than --leader-lease-duration.")
  Duration leaderRenewDeadline;

  @Option(names = "--leader-retry-period", paramLabel = "SECONDS", defaultValue = "7.5",
      converter = OptionValues.Seconds.class, description = "The longest wait between two attempts to take or renew "
      + "the lease; shorter than --leader-renew-deadline.")
  Duration leaderRetryPeriod;

  @Option(names = "--remote-secrets-dir", paramLabel = "DIR", description = {
      "YAML files of Istio-format remote Secrets; watched.", "Default: none."})
  Path remoteSecretsDir;

  @Option(names = "--remote-config-dir", paramLabel = "CLUSTER_ID=DIR", description = {
      "A further cluster given as a folder of YAML files (VMs, or state written by another tool); repeatable.",
      "Default: none."})
  Map<String, Path> remoteConfigDirs = new LinkedHashMap<>();

  @Option(names = "--state-dir", paramLabel = "DIR", description = {
      "Last known state of each cluster, and (file mode) the automatic addresses of ServiceEntry hosts, kept "
          + "across restarts (made if missing).", "Default: none (nothing kept)."})
  Path stateDir;

  @Option(names = "--dns-port", paramLabel = "PORT", converter = OptionValues.PortOrAny.class, description = {
      "Answer DNS for mesh names on this port (UDP and TCP, all addresses; 0: any free port, logged), with the view "
          + "of a proxy of the cluster and namespace each source stands for (--dns-client).",
      "Default: off."})
  Integer dnsPort;

  @Option(names = "--bundle-port", paramLabel = "PORT", converter = OptionValues.PortOrAny.class, description = {
      "Serve this mesh's SPIFFE trust bundle (HTTPS, GET on any path) on this port, for federated meshes (0: any "
          + "free port, logged). Needs --ca-dir.",
      "Default: off."})
  Integer bundlePort;

  @Option(names = "--bundle-profile", paramLabel = "PROFILE", defaultValue = "https_spiffe", description = {
      "How the bundle endpoint proves itself: https_spiffe (a certificate from our CA with the control plane's "
          + "SPIFFE id, spiffe://TRUST_DOMAIN/ns/SYSTEM_NS/sa/istiod) or https_web (--bundle-tls-dir)."})
  String bundleProfile;

  @Option(names = "--bundle-tls-dir", paramLabel = "DIR", description = {
      "The https_web endpoint's tls.crt (certificate chain, PEM) and tls.key: a Web PKI certificate for its host.",
      "Default: none."})
  Path bundleTlsDir;

  @Option(names = "--bundle-refresh-hint", paramLabel = "SECONDS", defaultValue = "300", description = {
      "The spiffe_refresh_hint our bundle carries: how often peers should fetch it again."})
  long bundleRefreshHintSeconds;

  @Option(names = "--bundle-web-roots", paramLabel = "FILE", description = {
      "PEM roots that vouch for https_web bundle endpoints of peers (a private PKI).", "Default: the JDK's roots."})
  Path bundleWebRoots;

  @Option(names = "--mesh-refresh", paramLabel = "SECONDS", defaultValue = "30", description = {
      "How often each peer mesh (MeshFederation) is asked what it exports to us; a failed fetch keeps the last "
          + "list."})
  double meshRefreshSeconds;

  @Option(names = "--mesh-import-suffix", paramLabel = "SUFFIX", defaultValue = "global", description = {
      "Services imported from peer meshes are named NAME.NS.svc.MESH_ID.SUFFIX."})
  String meshImportSuffix;

  @Option(names = "--dns-client", paramLabel = "CIDR=CLUSTER_ID/NAMESPACE", description = {
      "Queries from this block are answered as for a proxy of that cluster and namespace; the most specific block "
          + "wins; repeatable. Other sources get this cluster's view from namespace default.", "Default: none."})
  java.util.List<String> dnsClients = new java.util.ArrayList<>();

  @Option(names = "--dns-upstream", paramLabel = "HOST[:PORT]", description = {
      "Where --dns-port forwards names the mesh does not own (IP literals); repeatable.",
      "Default: the nameservers of /etc/resolv.conf."})
  java.util.List<String> dnsUpstreams = new java.util.ArrayList<>();

  @Option(names = "--initial-sync-wait", paramLabel = "SECONDS", defaultValue = "30",
      converter = OptionValues.NonNegative.class,
      description = "How long start-up waits, in all, for its clusters to sync before serving without them "
          + "(0: do not wait).")
  long initialSyncWaitSeconds;

  @Option(names = "--cluster-id", paramLabel = "ID", defaultValue = "cluster1", description = "This cluster's id.")
  String clusterId;

  @Option(names = "--network", paramLabel = "ID", defaultValue = "",
      description = "Network of this cluster's endpoints when nothing else names one (empty: none).")
  String network;

  @Option(names = "--system-namespace", paramLabel = "NS", defaultValue = "istio-system",
      description = "Where remote secrets, the network label and CA secrets live.")
  String systemNamespace;

  @Option(names = "--mesh-config", paramLabel = "FILE", description = {
      "Istio MeshConfig YAML (or the istio ConfigMap); watched.", "Default: none (Istio's defaults)."})
  Path meshConfig;

  @Option(names = "--mesh-networks", paramLabel = "FILE", description = {
      "Istio MeshNetworks YAML; watched.", "Default: none."})
  Path meshNetworks;

  @Option(names = "--ca-dir", paramLabel = "DIR", description = {
      "Plugged-in CA files (Istio's names), or where a self-signed root is made once and kept. "
          + "Turns on the CA and the secure port.", "Default: none (no CA, no secure port)."})
  Path caDir;

  @Option(names = "--ca-self-signed-root", defaultValue = "false", description = "Sign workload certificates with "
      + "a self-signed root in --ca-dir that this control plane did not make (for example one from weft ca "
      + "init-root). Refused without it: give each cluster an intermediate (weft ca intermediate) and keep the root "
      + "offline.")
  boolean caSelfSignedRoot;

  @Option(names = "--ca-tokens", paramLabel = "FILE", description = {
      "File mode: YAML list of {token, namespace, serviceAccount} allowed to ask for certificates.",
      "Default: none (tokens are checked by TokenReview on the caller's cluster)."})
  Path caTokens;

  @Option(names = "--xds-auth", paramLabel = "MODE", defaultValue = "any", description = "What the secure port "
      + "requires of an xDS client: certificate (a workload certificate from the mesh CA), token (a bearer token, "
      + "checked as the CSR API checks it), any (either) or none (no check: node metadata is trusted).")
  String xdsAuth;

  @Option(names = "--secure-port", paramLabel = "PORT", defaultValue = "15012",
      converter = OptionValues.PortOrAny.class, description = "xDS and CA over TLS (0: any free port, logged).")
  int securePort;

  @Option(names = "--xds-port", paramLabel = "PORT", defaultValue = "15010", converter = OptionValues.PortOrAny.class,
      description = "Plaintext xDS (0: any free port, logged).")
  int xdsPort;

  @Option(names = "--xds-send-timeout", paramLabel = "SECONDS", defaultValue = "60",
      converter = OptionValues.Positive.class,
      description = "Close an xDS stream whose client has read nothing for this long while a push waits for it.")
  long xdsSendTimeoutSeconds;

  @Option(names = "--workload-entry-grace-period", paramLabel = "SECONDS", defaultValue = "10",
      converter = OptionValues.NonNegative.class,
      description = "How long an auto-registered WorkloadEntry outlives its proxy's last stream (Istio's "
          + "PILOT_WORKLOAD_ENTRY_GRACE_PERIOD); a proxy that reconnects in time keeps it.")
  long workloadEntryGraceSeconds;

  @Option(names = "--monitoring-port", paramLabel = "PORT", defaultValue = "15014",
      converter = OptionValues.PortOrAny.class,
      description = "/ready, /healthz, /metrics, /debug/status (0: any free port, logged).")
  int monitoringPort;

  @Option(names = "--locality-failover-without-outlier-detection", defaultValue = "false",
      description = "Apply locality failover priorities even where a DestinationRule sets no outlier detection "
          + "(Istio never does; clients then move on only when a whole locality fails).")
  boolean failoverWithoutOutlierDetection;

  /** The DNS settings, or null when --dns-port is off; a bad --dns-* value is a usage error. */
  @Option(names = "--mcs", defaultValue = "false", description = {
      "Kubernetes Multi-Cluster Services discovery (Istio's ENABLE_MCS_SERVICE_DISCOVERY): a cluster's endpoints of",
      "NAME.NS.svc.cluster.local reach other clusters only while a ServiceExport of the Service exists there."})
  boolean mcs;

  @Option(names = "--mcs-host", defaultValue = "false", description = {
      "Serve NAME.NS.svc.clusterset.local (Istio's ENABLE_MCS_HOST) for every exported Service: the endpoints of",
      "every exporting cluster and no other; VIP from the ServiceImport, else allocated."})
  boolean mcsHost;

  @Option(names = "--mcs-cluster-local", defaultValue = "false", description = {
      "Keep NAME.NS.svc.cluster.local in the caller's cluster (Istio's ENABLE_MCS_CLUSTER_LOCAL); only the",
      "clusterset.local name crosses clusters."})
  boolean mcsClusterLocal;

  @Option(names = "--mcs-controller", defaultValue = "false", description = {
      "Act as the MCS controller: the leader writes ServiceImports (with their VIPs) into every cluster and",
      "ServiceExport status conditions (Valid, Conflict)."})
  boolean mcsController;

  private ControlPlaneOptions.Dns dns() {
    if (dnsPort == null) {
      if (!dnsClients.isEmpty() || !dnsUpstreams.isEmpty()) {
        throw new ParameterException(spec.commandLine(), "--dns-client and --dns-upstream need --dns-port");
      }
      return null;
    }
    java.util.List<weft.controlplane.DnsClientRule> rules = new java.util.ArrayList<>();
    java.util.List<java.net.InetSocketAddress> upstreams = new java.util.ArrayList<>();
    try {
      for (String c : dnsClients) rules.add(weft.controlplane.DnsClientRule.parse(c));
      for (String u : dnsUpstreams) upstreams.add(weft.dns.server.ResolvConf.parseAddress(u));
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage().startsWith("--") ? e.getMessage()
          : "--dns-upstream " + e.getMessage());
    }
    if (dnsUpstreams.isEmpty()) {
      try {
        upstreams.addAll(weft.dns.server.ResolvConf.nameservers(Path.of("/etc/resolv.conf")));
      } catch (IOException e) {
        // No resolv.conf: names the mesh does not own are refused, which the log says.
        System.getLogger(ControlPlaneCommand.class.getName()).log(System.Logger.Level.WARNING, "--dns-port: "
            + "/etc/resolv.conf cannot be read (" + e.getMessage() + "); names outside the mesh are refused; give "
            + "--dns-upstream");
      }
    }
    return new ControlPlaneOptions.Dns(new java.net.InetSocketAddress(dnsPort), rules, upstreams);
  }

  /** The bundle endpoint and peer settings; a bad --bundle-* value is a usage error. */
  private ControlPlaneOptions.Federation federation() {
    weft.security.federation.BundleEndpointProfile profile;
    try {
      profile = weft.security.federation.BundleEndpointProfile.parse(bundleProfile);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "--bundle-profile: " + e.getMessage());
    }
    if (bundlePort != null && caDir == null) {
      throw new ParameterException(spec.commandLine(), "--bundle-port serves our CA's roots; give --ca-dir too");
    }
    if (profile == weft.security.federation.BundleEndpointProfile.HTTPS_WEB && bundlePort != null
        && bundleTlsDir == null) {
      throw new ParameterException(spec.commandLine(), "--bundle-profile https_web needs --bundle-tls-dir");
    }
    if (bundleRefreshHintSeconds < 1) {
      throw new ParameterException(spec.commandLine(), "--bundle-refresh-hint must be at least 1 second");
    }
    Paths.requireFolder("--bundle-tls-dir", bundleTlsDir, "the folder of tls.crt and tls.key");
    Paths.requireFile("--bundle-web-roots", bundleWebRoots, "a PEM file of roots");
    ControlPlaneOptions.Federation d = ControlPlaneOptions.Federation.DEFAULTS;
    return d.withBundleEndpoint(bundlePort == null ? -1 : bundlePort, profile, bundleTlsDir)
        .withWebRoots(bundleWebRoots)
        .withRefresh(Duration.ofSeconds(bundleRefreshHintSeconds), d.minRefresh(), d.maxRefresh())
        .withMeshImports(meshRefresh(), meshImportSuffix);
  }

  private Duration meshRefresh() {
    if (!(meshRefreshSeconds >= 1) || meshRefreshSeconds > 86_400) {
      throw new ParameterException(spec.commandLine(), "--mesh-refresh must be 1..86400 seconds");
    }
    if (!weft.security.meshes.MeshNames.isDnsName(meshImportSuffix)) {
      throw new ParameterException(spec.commandLine(), "--mesh-import-suffix '"
          + weft.model.text.ClientText.forLog(meshImportSuffix) + "' is not a DNS name, e.g. global");
    }
    return Duration.ofMillis((long) (meshRefreshSeconds * 1000));
  }

  /** The options the flags give, checked; a bad flag is a usage error. */
  ControlPlaneOptions options() {
    if (configKubeconfig != null && (configDir != null || kubeconfig != null)) {
      throw new ParameterException(spec.commandLine(), "--config-kubeconfig replaces "
          + (configDir != null ? "--config-dir" : "--kubeconfig") + ": an external control plane has no local "
          + "cluster (the config cluster's API server holds the mesh config and the remote secrets that add every "
          + "workload cluster); give only --config-kubeconfig, or drop it");
    }
    if (inCluster && (configDir != null || kubeconfig != null || configKubeconfig != null)) {
      throw new ParameterException(spec.commandLine(), "--in-cluster replaces "
          + (configDir != null ? "--config-dir" : kubeconfig != null ? "--kubeconfig" : "--config-kubeconfig")
          + ": this cluster is the one the pod runs in; give only one of them");
    }
    if (!inCluster && configKubeconfig == null && (configDir == null) == (kubeconfig == null)) {
      throw new ParameterException(spec.commandLine(), "give exactly one of --config-dir (a folder of YAML files), "
          + "--kubeconfig (a Kubernetes API server) or --config-kubeconfig (an external control plane's config "
          + "cluster)");
    }
    weft.registry.leader.LeaseTimings leaseTimings;
    try {
      leaseTimings = new weft.registry.leader.LeaseTimings(leaderLeaseDuration, leaderRenewDeadline,
          leaderRetryPeriod);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    if (caTokens != null && caDir == null) {
      throw new ParameterException(spec.commandLine(), "--ca-tokens needs --ca-dir (it turns the CA on)");
    }
    weft.security.auth.XdsAuthMode auth;
    try {
      auth = weft.security.auth.XdsAuthMode.parse(xdsAuth);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    if (auth != weft.security.auth.XdsAuthMode.ANY && caDir == null) {
      throw new ParameterException(spec.commandLine(),
          "--xds-auth sets what the secure port requires, and only --ca-dir turns the secure port on");
    }
    if (caTokens != null && caDir == null) {
      throw new ParameterException(spec.commandLine(), "--ca-tokens needs --ca-dir (it turns the CA on)");
    }
    Paths.requireFolder("--config-dir", configDir, "the folder of this cluster's YAML files");
    Paths.requireFile("--kubeconfig", kubeconfig, "this cluster's kubeconfig");
    Paths.requireFile("--config-kubeconfig", configKubeconfig, "the config cluster's kubeconfig");
    Paths.requireFolder("--remote-secrets-dir", remoteSecretsDir, "the folder of remote Secret YAML files");
    remoteConfigDirs.forEach((id, dir) -> Paths.requireFolder("--remote-config-dir " + id + "=", dir,
        "the folder of that cluster's YAML files"));
    Paths.requireFile("--mesh-config", meshConfig, "a MeshConfig YAML file");
    Paths.requireFile("--mesh-networks", meshNetworks, "a MeshNetworks YAML file");
    Paths.requireFile("--ca-tokens", caTokens, "the YAML list of allowed tokens");
    Paths.requireFolderOrAbsent("--ca-dir", caDir);
    if (stateDir != null) {
      Paths.requireFolderOrAbsent("--state-dir", stateDir);
      try {
        Files.createDirectories(stateDir);
      } catch (IOException e) {
        throw new CommandFailure("--state-dir " + stateDir + ": cannot make the folder (" + e + ")", e);
      }
    }
    ControlPlaneOptions.Dns dns = dns();
    ControlPlaneOptions.Federation federation = federation();
    ControlPlaneOptions options = new ControlPlaneOptions(configDir, kubeconfig, clusterId, network,
        systemNamespace, meshConfig, meshNetworks, remoteSecretsDir, stateDir, xdsPort, monitoringPort,
        failoverWithoutOutlierDetection, Duration.ofSeconds(initialSyncWaitSeconds), remoteConfigDirs,
        caDir == null ? null : new ControlPlaneOptions.Ca(caDir, caTokens, securePort, auth, caSelfSignedRoot),
        Duration.ofSeconds(xdsSendTimeoutSeconds), configKubeconfig,
        new ControlPlaneOptions.Leader(leaderLeaseName, leaseTimings, null), dns, federation,
        new weft.registry.McsSettings(mcs, mcsHost, mcsClusterLocal, mcsController), inCluster ? pod.get() : null);
    return options;
  }

  @Override
  public Integer call() throws Exception {
    ControlPlane cp = ControlPlane.start(options());
    cp.ads().autoRegistration().gracePeriod(Duration.ofSeconds(workloadEntryGraceSeconds));
    Runtime.getRuntime().addShutdownHook(new Thread(cp::close, "weft-shutdown"));
    cp.awaitTermination();
    return 0;
  }
}
