package weft.xds.diag;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import weft.registry.MeshSnapshot;
import weft.registry.ServiceView;
import weft.registry.WorkloadEndpoint;
import weft.xds.ClusterName;
import weft.xds.Generation;
import weft.xds.Generators;
import weft.xds.TypeUrls;
import weft.xds.proxy.Proxy;
import weft.xds.view.ProxyView;

/**
 * Offline, no proxy is connected: each workload of the snapshot stands for one, once as an Envoy
 * sidecar and once as a proxyless gRPC client, and is generated everything it could ask for. Their
 * drop notes are what connected proxies would record, from the same generators.
 */
public final class SimulatedProxies {
  private SimulatedProxies() {}

  /** One report per workload and kind of client, in id order. */
  public static List<AnalysisInput.ProxyReport> reports(MeshSnapshot snapshot, Generators generators) {
    List<AnalysisInput.ProxyReport> out = new ArrayList<>();
    for (Proxy proxy : proxies(snapshot)) {
      ProxyView view = generators.view(snapshot, proxy);
      Map<String, String> nacks = new TreeMap<>();
      generate(generators, view, nacks);
      out.add(new AnalysisInput.ProxyReport(proxy.id(), view.dropped(), List.copyOf(nacks.values())));
    }
    return out;
  }

  /** A sidecar and a proxyless client for each workload (cluster, namespace, name) that serves a host. */
  static List<Proxy> proxies(MeshSnapshot snapshot) {
    Map<String, Proxy> byId = new TreeMap<>();
    for (ServiceView sv : snapshot.services().values()) {
      String ns = sv.service().namespace();
      for (WorkloadEndpoint e : sv.endpoints()) {
        if (e.workloadName() == null || e.unixSocketPath() != null) continue;
        String pod = e.workloadName() + "." + ns;
        String sidecar = "sidecar~" + e.address() + "~" + pod + "~" + ns + ".svc.cluster.local";
        byId.putIfAbsent(e.clusterId() + "|" + sidecar, new Proxy(sidecar, "sidecar", e.address(), e.workloadName(), ns,
            e.clusterId(), e.network(), e.labels(), e.serviceAccount(), e.locality(), false, ns + ".svc.cluster.local"));
        String grpc = "grpc~" + e.address() + "~" + pod + "~" + ns + ".svc.cluster.local";
        byId.putIfAbsent(e.clusterId() + "|" + grpc, new Proxy(grpc, "sidecar", e.address(), e.workloadName(), ns,
            e.clusterId(), e.network(), e.labels(), e.serviceAccount(), e.locality(), true, ns + ".svc.cluster.local"));
      }
    }
    return List.copyOf(byId.values());
  }

  private static void generate(Generators generators, ProxyView view, Map<String, String> failures) {
    Set<String> clusters = new TreeSet<>();
    if (!view.proxy().proxyless()) {
      record(failures, generators.generateAll(TypeUrls.LISTENER, view));
      Generation c = generators.generateAll(TypeUrls.CLUSTER, view);
      record(failures, c);
      clusters.addAll(c.resources().keySet());
      Set<String> routes = new TreeSet<>();
      for (ServiceView sv : view.visibleServices()) sv.service().ports().forEach(p -> routes.add(String.valueOf(p.number())));
      record(failures, generators.generate(TypeUrls.ROUTE, view, routes));
    } else {
      Set<String> targets = new TreeSet<>();
      for (ServiceView sv : view.visibleServices()) {
        for (var p : sv.service().ports()) {
          targets.add(sv.service().hostname() + ":" + p.number());
          clusters.add(ClusterName.outbound(p.number(), "", sv.service().hostname()).toString());
        }
      }
      record(failures, generators.generate(TypeUrls.LISTENER, view, targets));
      Generation routes = generators.generate(TypeUrls.ROUTE, view, targets);
      record(failures, routes);
      // The clusters the routes name (subsets included), as a client would ask for them.
      for (var any : routes.anys().values()) clusters.addAll(RouteClusters.named(any));
      record(failures, generators.generate(TypeUrls.CLUSTER, view, clusters));
    }
    Set<String> eds = new TreeSet<>();
    for (String c : clusters) if (c.startsWith("outbound|")) eds.add(c);
    record(failures, generators.generate(TypeUrls.ENDPOINT, view, eds));
  }

  private static void record(Map<String, String> failures, Generation g) {
    if (g.failed()) failures.put(g.failure(), g.failure());
  }
}
