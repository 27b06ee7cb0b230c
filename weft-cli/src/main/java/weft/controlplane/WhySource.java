package weft.controlplane;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import weft.registry.MeshSnapshot;
import weft.registry.ServiceView;
import weft.registry.WorkloadEndpoint;
import weft.xds.dump.ProxyMatch;
import weft.xds.proxy.Proxy;
import weft.xds.server.AdsServer;

/**
 * The source of {@code weft why}: a connected proxy (node id, POD.NAMESPACE, pod name or a unique
 * prefix), else a workload of the snapshot by pod name or address in one cluster, walked as the
 * proxy it would be (an Envoy sidecar, or a proxyless gRPC client when asked).
 */
final class WhySource {
  private WhySource() {}

  /** The proxy, or an error message naming what was tried. */
  record Found(Proxy proxy, String error) {}

  static Found find(AdsServer ads, MeshSnapshot snapshot, String source, String clusterId, boolean proxyless) {
    List<String> ids = ProxyMatch.find(source, ads.proxyIds());
    if (ids.size() == 1) {
      var p = ads.proxy(ids.get(0));
      if (p.isPresent()) return new Found(p.get(), null);
    }
    Map<String, Proxy> workloads = new TreeMap<>();
    for (ServiceView sv : snapshot.services().values()) {
      String ns = sv.service().namespace();
      for (WorkloadEndpoint e : sv.endpoints()) {
        if (!e.clusterId().equals(clusterId) || e.workloadName() == null) continue;
        boolean named = e.workloadName().equals(source) || (e.workloadName() + "." + ns).equals(source);
        if (!named && !e.address().equals(source)) continue;
        String id = (proxyless ? "grpc~" : "sidecar~") + e.address() + "~" + e.workloadName() + "." + ns + "~" + ns
            + ".svc.cluster.local";
        workloads.putIfAbsent(id, new Proxy(id, "sidecar", e.address(), e.workloadName(), ns, clusterId, e.network(),
            e.labels(), e.serviceAccount(), e.locality(), proxyless, ns + ".svc.cluster.local"));
      }
    }
    if (workloads.size() == 1) return new Found(workloads.values().iterator().next(), null);
    if (workloads.size() > 1) {
      return new Found(null, "source " + source + " names " + workloads.size() + " workloads in cluster " + clusterId
          + " " + new ArrayList<>(workloads.keySet()) + "; give POD.NAMESPACE");
    }
    if (ids.size() > 1) {
      return new Found(null, "source " + source + " matches " + ids.size() + " connected proxies " + ids
          + "; give more of the node id");
    }
    return new Found(null, "source " + source + " is neither a connected proxy (see weft proxy-status) nor a pod "
        + "name or address serving a service in cluster " + clusterId + "; name one, or pick the cluster with --cluster");
  }
}
