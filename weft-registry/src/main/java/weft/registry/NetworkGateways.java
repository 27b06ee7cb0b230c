package weft.registry;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import weft.model.K8sService;
import weft.model.MeshNetworks;

/** Finds every network's east-west gateways: a pure function of the clusters and MeshNetworks. */
final class NetworkGateways {
  static final String GATEWAY_PORT_LABEL = "networking.istio.io/gatewayPort";
  /** Istio's east-west gateway port (mTLS passed through by SNI). */
  static final int DEFAULT_GATEWAY_PORT = 15443;

  private NetworkGateways() {}

  static Map<String, List<NetworkGateway>> find(Collection<ClusterState> clusters, MeshNetworks meshNetworks) {
    Map<String, List<NetworkGateway>> out = new TreeMap<>();
    for (ClusterState cluster : clusters) {
      for (K8sService s : cluster.all(K8sService.class)) {
        String network = s.labels().get(HostBuilder.NETWORK_LABEL);
        if (network == null || network.isEmpty()) continue;
        int port = gatewayPort(s);
        for (String address : s.externalAddresses()) {
          out.computeIfAbsent(network, n -> new ArrayList<>())
              .add(new NetworkGateway(network, address, port, cluster.clusterId, Locality.UNKNOWN));
        }
      }
    }
    meshNetworks.networks().forEach((network, spec) -> {
      for (MeshNetworks.Gateway g : spec.gateways()) {
        Locality locality = Locality.parse(g.locality());
        if (g.address() != null && !g.address().isEmpty()) {
          out.computeIfAbsent(network, n -> new ArrayList<>())
              .add(new NetworkGateway(network, g.address(), g.port(), "", locality));
        } else if (g.registryServiceName() != null) {
          for (ClusterState cluster : clusters) {
            for (K8sService s : cluster.all(K8sService.class)) {
              String host = ClusterState.kubernetesHost(s.id().name(), s.id().namespace());
              if (!host.equals(g.registryServiceName())) continue;
              for (String address : s.externalAddresses()) {
                out.computeIfAbsent(network, n -> new ArrayList<>())
                    .add(new NetworkGateway(network, address, g.port(), cluster.clusterId, locality));
              }
            }
          }
        }
      }
    });
    Map<String, List<NetworkGateway>> sorted = new TreeMap<>();
    out.forEach((n, gws) -> sorted.put(n, gws.stream().distinct().sorted().toList()));
    return sorted;
  }

  private static int gatewayPort(K8sService s) {
    String label = s.labels().get(GATEWAY_PORT_LABEL);
    if (label != null) {
      try {
        return Integer.parseInt(label);
      } catch (NumberFormatException e) {
        // a bad label falls back to the standard port, as Istio does
      }
    }
    return DEFAULT_GATEWAY_PORT;
  }
}
