package weft.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import weft.controlplane.ControlPlane;
import weft.controlplane.ControlPlaneOptions;

@Command(name = "control-plane", mixinStandardHelpOptions = true,
    description = "Serve xDS for the mesh described by a config folder (the embedded default).")
final class ControlPlaneCommand implements Callable<Integer> {
  @Option(names = "--config-dir", description = "This cluster's state as YAML files (the embedded default); watched.")
  Path configDir;

  @Option(names = "--kubeconfig", description = "Or: this cluster is a Kubernetes API server (its config cluster).")
  Path kubeconfig;

  @Option(names = "--remote-secrets-dir", description = "YAML files of Istio-format remote Secrets; watched.")
  Path remoteSecretsDir;

  @Option(names = "--remote-config-dir", paramLabel = "CLUSTER_ID=DIR",
      description = "A further cluster given as a folder of YAML files (VMs, or state written by another tool); repeatable.")
  java.util.Map<String, Path> remoteConfigDirs = new java.util.LinkedHashMap<>();

  @Option(names = "--state-dir", description = "Last known state of each cluster, kept across restarts.")
  Path stateDir;

  @Option(names = "--initial-sync-wait", defaultValue = "30",
      description = "Seconds start-up waits for remote clusters before serving without them (default ${DEFAULT-VALUE}).")
  long initialSyncWaitSeconds;

  @Option(names = "--cluster-id", defaultValue = "cluster1", description = "This cluster's id (default ${DEFAULT-VALUE}).")
  String clusterId;

  @Option(names = "--network", defaultValue = "", description = "Network of this cluster's endpoints when nothing else names one.")
  String network;

  @Option(names = "--system-namespace", defaultValue = "istio-system", description = "Default ${DEFAULT-VALUE}.")
  String systemNamespace;

  @Option(names = "--mesh-config", description = "Istio MeshConfig YAML; watched.")
  Path meshConfig;

  @Option(names = "--mesh-networks", description = "Istio MeshNetworks YAML; watched.")
  Path meshNetworks;

  @Option(names = "--ca-dir", description = "Plugged-in CA files (Istio's names), or where a self-signed root is made "
      + "once and kept. Turns on the CA and the secure port.")
  Path caDir;

  @Option(names = "--ca-tokens", description = "File mode: YAML list of {token, namespace, serviceAccount} allowed "
      + "to ask for certificates (otherwise tokens are checked by TokenReview on the caller's cluster).")
  Path caTokens;

  @Option(names = "--xds-auth", paramLabel = "MODE", description = "What the secure port requires of an xDS client: "
      + "certificate (a workload certificate from the mesh CA), token (a bearer token, checked as the CSR API checks "
      + "it), any (either; the default) or none (no check: node metadata is trusted).")
  String xdsAuth;

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--secure-port", defaultValue = "15012", description = "xDS and CA over TLS (default ${DEFAULT-VALUE}).")
  int securePort;

  @Option(names = "--xds-port", defaultValue = "15010", description = "Plaintext xDS (default ${DEFAULT-VALUE}).")
  int xdsPort;

  @Option(names = "--monitoring-port", defaultValue = "15014", description = "/ready, /metrics, /debug/status (default ${DEFAULT-VALUE}).")
  int monitoringPort;

  @Option(names = "--locality-failover-without-outlier-detection",
      description = "Apply locality failover priorities even where a DestinationRule sets no outlier detection "
          + "(Istio never does; clients then move on only when a whole locality fails).")
  boolean failoverWithoutOutlierDetection;

  @Override
  public Integer call() throws Exception {
    if ((configDir == null) == (kubeconfig == null)) {
      throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
          "give exactly one of --config-dir (a folder of YAML files) or --kubeconfig (a Kubernetes API server)");
    }
    weft.security.auth.XdsAuthMode auth = weft.security.auth.XdsAuthMode.ANY;
    if (xdsAuth != null) {
      try {
        auth = weft.security.auth.XdsAuthMode.parse(xdsAuth);
      } catch (IllegalArgumentException e) {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
      }
      if (caDir == null) {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(),
            "--xds-auth sets what the secure port requires, and only --ca-dir turns the secure port on");
      }
    }
    ControlPlane cp = ControlPlane.start(new ControlPlaneOptions(configDir, kubeconfig, clusterId, network,
        systemNamespace, meshConfig, meshNetworks, remoteSecretsDir, stateDir, xdsPort, monitoringPort,
        failoverWithoutOutlierDetection, java.time.Duration.ofSeconds(initialSyncWaitSeconds), remoteConfigDirs,
        caDir == null ? null : new ControlPlaneOptions.Ca(caDir, caTokens, securePort, auth)));
    Runtime.getRuntime().addShutdownHook(new Thread(cp::close, "weft-shutdown"));
    cp.awaitTermination();
    return 0;
  }
}
