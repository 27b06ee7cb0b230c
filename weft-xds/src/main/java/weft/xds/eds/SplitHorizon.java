package weft.xds.eds;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import weft.registry.Locality;
import weft.registry.NetworkGateway;
import weft.registry.WorkloadEndpoint;

/**
 * Istio's partitioned (split-horizon) endpoint view for one consumer network: endpoints of its own
 * network stay as they are; those of another network that has gateways are replaced, per
 * locality, by that network's gateways, each weighted by the endpoints it stands for; a network
 * without gateways is taken as directly reachable. Only mTLS-capable endpoints may cross networks,
 * since the gateway passes mTLS through to the workload.
 */
public final class SplitHorizon {
  static final String TLS_MODE_LABEL = "security.istio.io/tlsMode";

  private SplitHorizon() {}

  /**
   * @param proxyNetwork the consumer's network ("" when it names none: then everything is local)
   * @param servicePort the service port the endpoints serve (gateway endpoints carry it too)
   * @param keepWithoutGateway send endpoints of a network without gateways as directly reachable
   *     (Istio's rule for Envoy); otherwise leave them out
   * @param notes receives a line for everything dropped or flagged, for /debug/status
   */
  public static List<WorkloadEndpoint> apply(List<WorkloadEndpoint> endpoints, String proxyNetwork,
      Map<String, List<NetworkGateway>> gateways, int servicePort, boolean keepWithoutGateway, List<String> notes) {
    if (proxyNetwork.isEmpty()) return endpoints;
    // Every gateway's share must be whole: scale all weights by the least common multiple of the
    // gateway counts of the networks that take part.
    int scale = 1;
    for (WorkloadEndpoint e : endpoints) {
      List<NetworkGateway> gws = remoteGateways(e, proxyNetwork, gateways);
      if (!gws.isEmpty()) scale = lcm(scale, gws.size());
    }
    List<WorkloadEndpoint> out = new ArrayList<>();
    // locality → network → weight of mTLS endpoints there that the gateways stand for
    Map<Locality, Map<String, Integer>> behindGateways = new TreeMap<>();
    int plaintextDropped = 0;
    TreeMap<String, Integer> noGateway = new TreeMap<>();
    for (WorkloadEndpoint e : endpoints) {
      if (e.network().isEmpty() || e.network().equals(proxyNetwork)) {
        out.add(scaled(e, scale));
        continue;
      }
      List<NetworkGateway> gws = remoteGateways(e, proxyNetwork, gateways);
      if (gws.isEmpty()) {
        noGateway.merge(e.network(), 1, Integer::sum);
        if (keepWithoutGateway) out.add(scaled(e, scale));
      } else if (!"istio".equals(e.labels().get(TLS_MODE_LABEL))) {
        plaintextDropped++;
      } else {
        behindGateways.computeIfAbsent(e.locality(), l -> new TreeMap<>())
            .merge(e.network(), LocalityLb.weight(e), Integer::sum);
      }
    }
    int s = scale;
    behindGateways.forEach((locality, byNetwork) -> byNetwork.forEach((network, weight) -> {
      List<NetworkGateway> gws = gateways.get(network);
      for (NetworkGateway gw : gws) {
        out.add(new WorkloadEndpoint(gw.address(), servicePort, gw.port(),
            Map.of(TLS_MODE_LABEL, "istio", "topology.istio.io/network", network,
                "topology.istio.io/cluster", gw.clusterId()),
            gw.clusterId(), network, locality, "", WorkloadEndpoint.Health.HEALTHY, weight * s / gws.size(),
            "gateway"));
      }
    }));
    if (plaintextDropped > 0) {
      notes.add(plaintextDropped + " endpoint(s) of other networks without mTLS left out: only workloads with a "
          + "proxy (security.istio.io/tlsMode=istio) can be reached through a gateway");
    }
    noGateway.forEach((network, n) -> notes.add("network " + network + " has no gateway: its " + n + " endpoint(s) "
        + (keepWithoutGateway ? "are sent as directly reachable, as Istio does; add an east-west gateway if they are not"
            : "are left out for this proxyless client")));
    return out;
  }

  private static List<NetworkGateway> remoteGateways(WorkloadEndpoint e, String proxyNetwork,
      Map<String, List<NetworkGateway>> gateways) {
    if (e.network().isEmpty() || e.network().equals(proxyNetwork)) return List.of();
    return gateways.getOrDefault(e.network(), List.of());
  }

  private static WorkloadEndpoint scaled(WorkloadEndpoint e, int scale) {
    if (scale == 1) return e;
    return new WorkloadEndpoint(e.address(), e.servicePort(), e.port(), e.labels(), e.clusterId(), e.network(),
        e.locality(), e.serviceAccount(), e.health(), LocalityLb.weight(e) * scale, e.workloadName());
  }

  private static int lcm(int a, int b) {
    return a / gcd(a, b) * b;
  }

  private static int gcd(int a, int b) {
    return b == 0 ? a : gcd(b, a % b);
  }
}
