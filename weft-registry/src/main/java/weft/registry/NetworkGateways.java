package weft.registry;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import weft.model.K8sService;
import weft.model.MeshNetworks;
import weft.model.Resource;

/**
 * Finds every network's east-west gateways, one cluster at a time: each part is a pure function
 * of one cluster's state and MeshNetworks, so the registry redoes only the cluster whose gateway
 * Services changed and merges the parts.
 */
final class NetworkGateways {
  static final String GATEWAY_PORT_LABEL = "networking.istio.io/gatewayPort";
  /** Istio's east-west gateway port (mTLS passed through by SNI). */
  static final int DEFAULT_GATEWAY_PORT = 15443;
  /** A total order, so that the merged lists do not depend on the order clusters were redone in. */
  private static final Comparator<NetworkGateway> ORDER = Comparator.<NetworkGateway>naturalOrder()
      .thenComparing(NetworkGateway::clusterId).thenComparing(NetworkGateway::locality);

  private NetworkGateways() {}

  /** The network a Service's label names, or null: such a Service is a gateway candidate. */
  static String networkOf(K8sService s) {
    String network = s.labels().get(HostBuilder.NETWORK_LABEL);
    return network == null || network.isEmpty() ? null : network;
  }

  /**
   * Whether a change of this resource can change its cluster's gateways: only a Service with the
   * network label (gateway by label) or with external addresses (a MeshNetworks
   * {@code registryServiceName} gateway has no label) can. Anything else leaves them alone.
   */
  static boolean canChange(Resource r) {
    return r instanceof K8sService s && (networkOf(s) != null || !s.externalAddresses().isEmpty());
  }

  /**
   * The gateways one cluster provides: its Services labelled with a network (their external
   * addresses), and MeshNetworks gateways given by {@code registryServiceName} for the networks
   * whose {@code fromRegistry} names this cluster. Istio looks such a Service up only in the
   * registries of its network: a same-named Service in another cluster is not that network's gateway.
   */
  static List<NetworkGateway> ofCluster(ClusterState cluster, MeshNetworks meshNetworks) {
    List<NetworkGateway> out = new ArrayList<>();
    for (K8sService s : cluster.networkLabelledServices()) {
      String network = networkOf(s);
      int port = gatewayPort(s);
      for (String address : s.externalAddresses()) {
        out.add(new NetworkGateway(network, address, port, cluster.clusterId, Locality.UNKNOWN));
      }
    }
    meshNetworks.networks().forEach((network, spec) -> {
      if (!fromRegistry(spec, cluster.clusterId)) return;
      for (MeshNetworks.Gateway g : spec.gateways()) {
        if (hasAddress(g) || g.registryServiceName() == null) continue;
        K8sService s = cluster.kubernetesService(g.registryServiceName());
        if (s == null) continue;
        Locality locality = Locality.parse(g.locality());
        for (String address : s.externalAddresses()) {
          out.add(new NetworkGateway(network, address, g.port(), cluster.clusterId, locality));
        }
      }
    });
    return List.copyOf(out);
  }

  /** MeshNetworks gateways given by address: they belong to no cluster. */
  static List<NetworkGateway> byAddress(MeshNetworks meshNetworks) {
    List<NetworkGateway> out = new ArrayList<>();
    meshNetworks.networks().forEach((network, spec) -> {
      for (MeshNetworks.Gateway g : spec.gateways()) {
        if (hasAddress(g)) {
          out.add(new NetworkGateway(network, g.address(), g.port(), "", Locality.parse(g.locality())));
        }
      }
    });
    return List.copyOf(out);
  }

  /** network → its gateways from every part, without duplicates, sorted; immutable. */
  static Map<String, List<NetworkGateway>> merge(Collection<List<NetworkGateway>> parts) {
    Map<String, List<NetworkGateway>> byNetwork = new TreeMap<>();
    for (List<NetworkGateway> part : parts) {
      for (NetworkGateway g : part) byNetwork.computeIfAbsent(g.network(), n -> new ArrayList<>()).add(g);
    }
    Map<String, List<NetworkGateway>> out = new TreeMap<>();
    byNetwork.forEach((n, gws) -> out.put(n, gws.stream().distinct().sorted(ORDER).toList()));
    return Map.copyOf(out);
  }

  /** Every network's gateways from scratch: what the registry's per-cluster parts must add up to. */
  static Map<String, List<NetworkGateway>> find(Collection<ClusterState> clusters, MeshNetworks meshNetworks) {
    List<List<NetworkGateway>> parts = new ArrayList<>();
    for (ClusterState c : clusters) parts.add(ofCluster(c, meshNetworks));
    parts.add(byAddress(meshNetworks));
    return merge(parts);
  }

  private static boolean fromRegistry(MeshNetworks.Network spec, String clusterId) {
    for (MeshNetworks.EndpointSource source : spec.endpoints()) {
      if (clusterId.equals(source.fromRegistry())) return true;
    }
    return false;
  }

  private static boolean hasAddress(MeshNetworks.Gateway g) {
    return g.address() != null && !g.address().isEmpty();
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
