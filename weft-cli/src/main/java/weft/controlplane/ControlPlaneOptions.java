package weft.controlplane;

import java.nio.file.Path;

/**
 * Everything {@code weft control-plane} is started with. Null paths are unset; a port of 0 asks
 * the system for a free one (tests).
 */
public record ControlPlaneOptions(Path configDir, String clusterId, String network, String systemNamespace,
    Path meshConfig, Path meshNetworks, int xdsPort, int monitoringPort,
    boolean localityFailoverWithoutOutlierDetection) {

  public static ControlPlaneOptions forConfigDir(Path configDir) {
    return new ControlPlaneOptions(configDir, "cluster1", "", "istio-system", null, null, 15010, 15014, false);
  }

  public ControlPlaneOptions withPorts(int xds, int monitoring) {
    return new ControlPlaneOptions(configDir, clusterId, network, systemNamespace, meshConfig, meshNetworks, xds,
        monitoring, localityFailoverWithoutOutlierDetection);
  }

  public ControlPlaneOptions withMeshConfig(Path file) {
    return new ControlPlaneOptions(configDir, clusterId, network, systemNamespace, file, meshNetworks, xdsPort,
        monitoringPort, localityFailoverWithoutOutlierDetection);
  }
}
