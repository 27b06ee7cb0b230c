package weft.controlplane;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import weft.registry.MeshSnapshot;
import weft.registry.NetworkGateway;
import weft.registry.ServiceView;
import weft.registry.WorkloadEndpoint;

/**
 * The JSON of {@code /debug/topology}, which the page at {@code /ui} draws: networks with their
 * clusters and east-west gateways, and each service's endpoints counted per cluster and network.
 * Cluster sync state and connected proxies stay in {@code /debug/status}; this adds what that
 * document only counts.
 */
final class Topology {
  private Topology() {}

  static Map<String, Object> of(MeshSnapshot s) {
    // Every network anything names: a cluster's, a gateway's, an endpoint's. A cluster's network is
    // often only on its endpoints (a namespace or pod label), and one cluster may span several, so a
    // cluster is in each network it has endpoints or gateways in, and in "" when it has none.
    TreeSet<String> networks = new TreeSet<>();
    Map<String, TreeSet<String>> clusterNetworks = new TreeMap<>();
    for (MeshSnapshot.ClusterStatus c : s.clusters().values()) {
      TreeSet<String> in = clusterNetworks.computeIfAbsent(c.clusterId(), k -> new TreeSet<>());
      if (c.network() != null && !c.network().isEmpty()) in.add(c.network());
    }
    for (List<NetworkGateway> list : s.gateways().values()) {
      for (NetworkGateway g : list) {
        clusterNetworks.computeIfAbsent(g.clusterId(), k -> new TreeSet<>()).add(nullToEmpty(g.network()));
      }
    }
    List<Map<String, Object>> services = new ArrayList<>();
    for (ServiceView v : s.services().values()) {
      // cluster / network → [endpoints, healthy]
      Map<String, int[]> counts = new TreeMap<>();
      Map<String, String[]> keys = new TreeMap<>();
      for (WorkloadEndpoint e : v.endpoints()) {
        String network = nullToEmpty(e.network());
        clusterNetworks.computeIfAbsent(e.clusterId(), k -> new TreeSet<>()).add(network);
        String key = e.clusterId() + "\u0000" + network;
        keys.putIfAbsent(key, new String[] {e.clusterId(), network});
        int[] n = counts.computeIfAbsent(key, k -> new int[2]);
        n[0]++;
        if (e.health() == WorkloadEndpoint.Health.HEALTHY) n[1]++;
      }
      List<Map<String, Object>> at = new ArrayList<>();
      counts.forEach((key, n) -> {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cluster", keys.get(key)[0]);
        m.put("network", keys.get(key)[1]);
        m.put("endpoints", n[0]);
        m.put("healthy", n[1]);
        at.add(m);
      });
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("hostname", v.service().hostname());
      m.put("namespace", v.service().namespace());
      m.put("endpoints", at);
      services.add(m);
    }
    List<Map<String, Object>> gateways = new ArrayList<>();
    for (List<NetworkGateway> list : s.gateways().values()) {
      for (NetworkGateway g : list) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("network", nullToEmpty(g.network()));
        m.put("cluster", g.clusterId());
        m.put("address", g.address());
        m.put("port", g.port());
        gateways.add(m);
      }
    }
    Map<String, List<String>> clusters = new TreeMap<>();
    clusterNetworks.forEach((cluster, in) -> {
      if (in.isEmpty()) in.add("");
      networks.addAll(in);
      clusters.put(cluster, List.copyOf(in));
    });
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("snapshotVersion", s.version());
    out.put("networks", List.copyOf(networks));
    out.put("clusterNetworks", clusters);
    out.put("gateways", gateways);
    out.put("services", services);
    return out;
  }

  private static String nullToEmpty(String s) {
    return s == null ? "" : s;
  }
}
