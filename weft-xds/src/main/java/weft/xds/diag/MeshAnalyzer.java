package weft.xds.diag;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import weft.model.ConfigProblem;
import weft.model.DestinationRule;
import weft.model.LocalityLbSetting;
import weft.model.ResourceId;
import weft.model.VirtualService;
import weft.registry.MeshService;
import weft.registry.MeshSnapshot;
import weft.registry.ServiceView;
import weft.registry.WorkloadEndpoint;
import weft.xds.grpcgen.Policies;
import weft.xds.view.Hosts;

/**
 * The analyzers of {@code weft analyze}: pure functions of an {@link AnalysisInput}, each adding
 * findings with a stable {@link AnalyzerCode}. The result is sorted (most serious first) and has
 * no duplicates.
 */
public final class MeshAnalyzer {
  private MeshAnalyzer() {}

  public static List<Finding> analyze(AnalysisInput in) {
    Set<Finding> out = new TreeSet<>();
    configProblems(in, out);
    ProxyDrops.summarise(in.proxies(), out);
    localityFailover(in, out);
    networks(in.snapshot(), out);
    clusters(in.snapshot(), out);
    trustDomains(in, out);
    routing(in, out);
    virtualServiceConflicts(in, out);
    destinationRuleConflicts(in, out);
    duplicateNames(in, out);
    return List.copyOf(out);
  }

  /** Every configuration problem, by its severity alone: new kinds of problem need no change here. */
  private static void configProblems(AnalysisInput in, Set<Finding> out) {
    for (ConfigProblem p : in.problems()) {
      AnalyzerCode code = p.severity() == ConfigProblem.Severity.ERROR ? AnalyzerCode.WEFT0001 : AnalyzerCode.WEFT0002;
      String field = p.field() == null || p.field().isEmpty() ? "" : "field " + p.field() + ": ";
      out.add(Finding.of(code, p.resource() == null ? "" : p.resource().toString(), p.file(), field + p.message()));
    }
  }

  /** True for a problem that kept a whole file or document from being read (istioctl's parse error). */
  public static boolean unreadable(ConfigProblem p) {
    return p.severity() == ConfigProblem.Severity.ERROR && p.resource() == null;
  }

  /**
   * Locality failover (priorities) needs outlier detection: without it clients never learn to leave
   * a priority, so Weft (like Istio) does not apply it. Said once per DestinationRule and level.
   */
  private static void localityFailover(AnalysisInput in, Set<Finding> out) {
    if (in.failoverWithoutOutlierDetection()) return;
    for (DestinationRule dr : in.snapshot().config().destinationRules()) {
      Set<Integer> ports = new TreeSet<>(List.of(0));
      List<String> subsets = new ArrayList<>(List.of(""));
      collectPorts(dr.trafficPolicy(), ports);
      for (DestinationRule.Subset s : dr.subsets()) {
        subsets.add(s.name());
        collectPorts(s.trafficPolicy(), ports);
      }
      Set<String> levels = new TreeSet<>();
      for (int port : ports) {
        for (String subset : subsets) {
          DestinationRule.LoadBalancer lb = Policies.pick(dr, port, subset, DestinationRule.TrafficPolicy::loadBalancer);
          LocalityLbSetting setting = lb == null ? null : lb.localityLbSetting();
          if (!failover(setting)) continue;
          if (Policies.pick(dr, port, subset, DestinationRule.TrafficPolicy::outlierDetection) != null) continue;
          levels.add((subset.isEmpty() ? "" : "subset " + subset) + (port == 0 ? "" : (subset.isEmpty() ? "" : " ")
              + "port " + port));
        }
      }
      if (levels.isEmpty()) continue;
      // The whole rule lacks it: naming the subsets and ports that inherit that says nothing more.
      if (levels.contains("")) levels.clear();
      out.add(Finding.of(AnalyzerCode.WEFT0201, dr.id().toString(), origin(in, dr.id()),
          "localityLbSetting sets failover for host " + dr.host() + (levels.isEmpty() ? "" : " (" + String.join(", ",
              levels) + ")") + " but no outlierDetection applies, so failover is not applied; add trafficPolicy."
              + "outlierDetection, or run the control plane with --locality-failover-without-outlier-detection"));
    }
    LocalityLbSetting mesh = in.snapshot().meshConfig().localityLbSetting();
    if (failover(mesh)) {
      List<String> without = new ArrayList<>();
      for (ServiceView sv : in.snapshot().services().values()) {
        String host = sv.service().hostname();
        boolean detected = in.snapshot().config().destinationRules().stream()
            .anyMatch(dr -> Hosts.matches(Hosts.resolve(dr.host(), dr.id().namespace()), host)
                && dr.trafficPolicy() != null && dr.trafficPolicy().outlierDetection() != null);
        if (!detected) without.add(host);
      }
      if (!without.isEmpty()) {
        out.add(Finding.of(AnalyzerCode.WEFT0201, "MeshConfig localityLbSetting", "", "mesh-wide failover is set but "
            + without.size() + " host(s) have no DestinationRule with outlierDetection, so failover is not applied "
            + "to them: " + abbreviate(without)));
      }
    }
  }

  private static void collectPorts(DestinationRule.TrafficPolicy p, Set<Integer> ports) {
    if (p == null) return;
    for (DestinationRule.TrafficPolicy pl : p.portLevelSettings()) ports.add(pl.port());
  }

  private static boolean failover(LocalityLbSetting s) {
    return s != null && !Boolean.FALSE.equals(s.enabled()) && s.distribute().isEmpty()
        && (!s.failover().isEmpty() || !s.failoverPriority().isEmpty());
  }

  /**
   * Networks: where a mesh spans several, a network with endpoints and no east-west gateway cannot
   * be reached from the others; and one address and port in one network must be one workload.
   */
  private static void networks(MeshSnapshot s, Set<Finding> out) {
    Map<String, Set<String>> clustersByNetwork = new TreeMap<>();
    Map<String, Set<String>> workloadsAt = new TreeMap<>();
    Map<String, Set<String>> hostsAt = new TreeMap<>();
    for (ServiceView sv : s.services().values()) {
      for (WorkloadEndpoint e : sv.endpoints()) {
        clustersByNetwork.computeIfAbsent(e.network(), n -> new TreeSet<>()).add(e.clusterId());
        if (e.unixSocketPath() != null) continue;
        String at = (e.network().isEmpty() ? "the default network" : "network " + e.network()) + "|" + e.address()
            + ":" + e.port();
        String workload = e.clusterId() + "/" + (e.workloadName() == null ? sv.service().namespace() + "/?" + e.address()
            : sv.service().namespace() + "/" + e.workloadName());
        workloadsAt.computeIfAbsent(at, k -> new TreeSet<>()).add(workload);
        hostsAt.computeIfAbsent(at, k -> new TreeSet<>()).add(sv.service().hostname());
      }
    }
    // Endpoints without a network are taken as reachable from every network (Istio's rule).
    Set<String> named = new TreeSet<>(clustersByNetwork.keySet());
    named.remove("");
    if (named.size() > 1) {
      for (Map.Entry<String, Set<String>> n : clustersByNetwork.entrySet()) {
        if (n.getKey().isEmpty() || s.gateways().containsKey(n.getKey())) continue;
        String name = n.getKey();
        out.add(Finding.of(AnalyzerCode.WEFT0301, "network " + name, "cluster " + String.join(",", n.getValue()),
            "endpoints in clusters " + n.getValue() + " are on this network, which has no east-west gateway: clients in "
                + "networks " + others(named, n.getKey()) + " cannot reach them. Label a gateway Service with "
                + "topology.istio.io/network=" + name + " (or list one in MeshNetworks)"));
      }
    }
    workloadsAt.forEach((at, workloads) -> {
      if (workloads.size() < 2) return;
      int bar = at.indexOf('|');
      out.add(Finding.of(AnalyzerCode.WEFT0302, "address " + at.substring(bar + 1), at.substring(0, bar),
          "workloads " + workloads + " all serve " + at.substring(bar + 1) + " in " + at.substring(0, bar)
              + " (hosts " + hostsAt.get(at) + "): connections for one reach the other. Give each workload its own "
              + "address, or put the clusters on different networks"));
    });
  }

  private static List<String> others(Set<String> networks, String network) {
    List<String> out = new ArrayList<>();
    for (String n : networks) if (!n.equals(network)) out.add(n);
    return out;
  }

  /** A cluster never synced cannot be reached; a stale one serves its last known state. */
  private static void clusters(MeshSnapshot s, Set<Finding> out) {
    for (MeshSnapshot.ClusterStatus c : s.clusters().values()) {
      if (!c.synced()) {
        out.add(Finding.of(AnalyzerCode.WEFT0401, "cluster " + c.clusterId(), "", "never synced: the control plane "
            + "cannot read this cluster's API server" + (c.stale() ? " (" + c.staleReason() + ")" : "") + "; check its "
            + "remote secret (server address, credentials) and that the API server is reachable from the control plane"));
      } else if (c.stale()) {
        out.add(Finding.of(AnalyzerCode.WEFT0402, "cluster " + c.clusterId(), "", "state is stale: " + c.staleReason()
            + "; its last known endpoints keep serving. Check the remote secret's kubeconfig and the API server"));
      }
    }
  }

  /** Workloads of clusters with different trust domains reject each other's certificates. */
  private static void trustDomains(AnalysisInput in, Set<Finding> out) {
    List<Map.Entry<String, AnalysisInput.TrustDomain>> all = new ArrayList<>(new TreeMap<>(in.trustDomains()).entrySet());
    for (int i = 0; i < all.size(); i++) {
      for (int j = i + 1; j < all.size(); j++) {
        AnalysisInput.TrustDomain a = all.get(i).getValue();
        AnalysisInput.TrustDomain b = all.get(j).getValue();
        if (a.trustDomain().equals(b.trustDomain()) || a.aliases().contains(b.trustDomain())
            && b.aliases().contains(a.trustDomain())) {
          continue;
        }
        out.add(Finding.of(AnalyzerCode.WEFT0403, "clusters " + all.get(i).getKey() + " and " + all.get(j).getKey(), "",
            "trust domain " + a.trustDomain() + " in " + all.get(i).getKey() + ", " + b.trustDomain() + " in "
                + all.get(j).getKey() + ": mTLS between them fails on the peer's identity. Use one trust domain, or "
                + "list each in the other's MeshConfig trustDomainAliases"));
      }
    }
  }

  /** VirtualServices and DestinationRules against the hosts that exist, their subsets and their exportTo. */
  private static void routing(AnalysisInput in, Set<Finding> out) {
    MeshSnapshot s = in.snapshot();
    Set<String> namespaces = new TreeSet<>();
    for (ServiceView sv : s.services().values()) namespaces.add(sv.service().namespace());
    for (VirtualService vs : s.config().virtualServices()) {
      String ns = vs.id().namespace();
      namespaces.add(ns);
      boolean mesh = vs.gateways().isEmpty() || vs.gateways().contains("mesh");
      String origin = origin(in, vs.id());
      if (mesh) {
        for (String h : vs.hosts()) {
          String host = Hosts.resolve(h, ns);
          if (!host.contains("*") && s.service(host) == null) {
            out.add(Finding.of(AnalyzerCode.WEFT0501, vs.id().toString(), origin, "host " + host + " is served by no "
                + "cluster (no Service or ServiceEntry declares it): the VirtualService has no effect for it"));
          }
        }
      }
      Set<String> reported = new TreeSet<>();
      for (VirtualService.RouteDestination d : destinations(vs)) {
        String host = Hosts.resolve(d.destination().host(), ns);
        if (host.contains("*") || !reported.add(host + "|" + d.destination().subset())) continue;
        ServiceView target = s.service(host);
        if (target == null) {
          out.add(Finding.of(AnalyzerCode.IST0101, vs.id().toString(), origin, "Referenced host not found: \"" + host
              + "\"; requests routed there fail. Declare it (Service or ServiceEntry) or fix the destination"));
          continue;
        }
        String subset = d.destination().subset();
        if (subset != null && !subset.isEmpty() && !subsetDefined(s, host, subset)) {
          out.add(Finding.of(AnalyzerCode.IST0101, vs.id().toString(), origin, "Referenced host+subset in "
              + "destinationrule not found: \"" + host + "+" + subset + "\"; requests routed there fail. Define subset "
              + subset + " in a DestinationRule for " + host));
        }
        if (mesh) exportTo(in, vs, target.service(), namespaces, origin, out);
      }
    }
    for (DestinationRule dr : s.config().destinationRules()) {
      String host = Hosts.resolve(dr.host(), dr.id().namespace());
      if (!host.contains("*") && s.service(host) == null) {
        out.add(Finding.of(AnalyzerCode.WEFT0501, dr.id().toString(), origin(in, dr.id()), "host " + host
            + " is served by no cluster (no Service or ServiceEntry declares it): the DestinationRule has no effect"));
      }
    }
  }

  private static List<VirtualService.RouteDestination> destinations(VirtualService vs) {
    List<VirtualService.RouteDestination> out = new ArrayList<>();
    vs.http().forEach(r -> out.addAll(r.route()));
    vs.tcp().forEach(r -> out.addAll(r.route()));
    vs.tls().forEach(r -> out.addAll(r.route()));
    return out;
  }

  private static boolean subsetDefined(MeshSnapshot s, String host, String subset) {
    for (DestinationRule dr : s.config().destinationRules()) {
      if (!Hosts.matches(Hosts.resolve(dr.host(), dr.id().namespace()), host)) continue;
      if (Policies.subset(dr, subset) != null) return true;
    }
    return false;
  }

  /** The namespaces a mesh VirtualService applies to must see the hosts it routes to. */
  private static void exportTo(AnalysisInput in, VirtualService vs, MeshService target, Set<String> namespaces,
      String origin, Set<Finding> out) {
    List<String> exportTo = vs.exportTo().isEmpty() ? in.snapshot().meshConfig().defaultVirtualServiceExportTo()
        : vs.exportTo();
    Set<String> applies = new TreeSet<>();
    for (String e : exportTo) {
      if (e.equals("*")) applies.addAll(namespaces);
      else if (e.equals(".")) applies.add(vs.id().namespace());
      else if (!e.equals("~")) applies.add(e);
    }
    List<String> hidden = new ArrayList<>();
    for (String ns : applies) if (!target.exportedTo(ns)) hidden.add(ns);
    if (hidden.isEmpty()) return;
    out.add(Finding.of(AnalyzerCode.WEFT0504, vs.id().toString(), origin, "routes to " + target.hostname()
        + ", which is exported only to " + new TreeSet<>(target.exportTo()) + ": proxies in " + hidden
        + " get this route but cannot see the host, so their requests fail. Widen the service's exportTo "
        + "(networking.istio.io/exportTo) or narrow the VirtualService's"));
  }

  /** Istio's IST0109: mesh VirtualServices naming one host; a proxy uses only one of them. */
  private static void virtualServiceConflicts(AnalysisInput in, Set<Finding> out) {
    Map<String, List<VirtualService>> byHost = new TreeMap<>();
    for (VirtualService vs : in.snapshot().config().virtualServices()) {
      if (!vs.gateways().isEmpty() && !vs.gateways().contains("mesh")) continue;
      for (String h : new TreeSet<>(vs.hosts())) {
        byHost.computeIfAbsent(Hosts.resolve(h, vs.id().namespace()), k -> new ArrayList<>()).add(vs);
      }
    }
    byHost.forEach((host, list) -> {
      if (list.size() < 2) return;
      List<String> names = list.stream().map(v -> v.id().namespace() + "/" + v.id().name()).toList();
      for (VirtualService vs : list) {
        out.add(Finding.of(AnalyzerCode.IST0109, vs.id().toString(), origin(in, vs.id()), "The VirtualServices "
            + names + " associated with mesh gateway define the same host " + host + ": each proxy uses one of them "
            + "(Weft does not merge them). Merge them into a single resource"));
      }
    });
  }

  /**
   * Weft (like Istio for conflicting fields) uses one DestinationRule per host and namespace: the
   * first by name. Several without a workload selector in one namespace for one host means the
   * others are ignored.
   */
  private static void destinationRuleConflicts(AnalysisInput in, Set<Finding> out) {
    Map<String, List<DestinationRule>> byHostAndNamespace = new TreeMap<>();
    for (DestinationRule dr : in.snapshot().config().destinationRules()) {
      if (dr.workloadSelector() != null) continue;
      byHostAndNamespace.computeIfAbsent(Hosts.resolve(dr.host(), dr.id().namespace()) + " in namespace "
          + dr.id().namespace(), k -> new ArrayList<>()).add(dr);
    }
    byHostAndNamespace.forEach((key, drs) -> {
      if (drs.size() < 2) return;
      drs.sort(java.util.Comparator.comparing(DestinationRule::id));
      List<String> ignored = drs.subList(1, drs.size()).stream().map(d -> d.id().toString()).toList();
      for (DestinationRule dr : drs.subList(1, drs.size())) {
        out.add(Finding.of(AnalyzerCode.WEFT0502, dr.id().toString(), origin(in, dr.id()), "DestinationRules "
            + drs.stream().map(d -> d.id().name()).toList() + " all apply to host " + key + "; " + drs.get(0).id()
            + " is used and " + ignored + " ignored (they are not merged). Merge them into one"));
      }
    });
  }

  private static void duplicateNames(AnalysisInput in, Set<Finding> out) {
    for (Map.Entry<ResourceId, List<ResourceOrigin>> e : new TreeMap<>(in.origins()).entrySet()) {
      Map<String, List<String>> byCluster = new LinkedHashMap<>();
      for (ResourceOrigin o : e.getValue()) {
        if (o.file() != null) byCluster.computeIfAbsent(o.clusterId(), c -> new ArrayList<>()).add(o.file());
      }
      byCluster.forEach((cluster, files) -> {
        if (files.size() < 2) return;
        out.add(Finding.of(AnalyzerCode.WEFT0503, e.getKey().toString(), cluster + ":" + files.get(files.size() - 1),
            "declared in " + files.size() + " files of cluster " + cluster + " " + files + "; only the last ("
                + files.get(files.size() - 1) + ") serves. Keep one"));
      });
    }
  }

  /** The serving declaration of a resource (the last file of the first cluster that has it), or empty. */
  static String origin(AnalysisInput in, ResourceId id) {
    List<ResourceOrigin> origins = in.origins().get(id);
    if (origins == null || origins.isEmpty()) return "";
    ResourceOrigin first = origins.get(0);
    ResourceOrigin serving = first;
    for (ResourceOrigin o : origins) if (o.clusterId().equals(first.clusterId())) serving = o;
    return serving.toString();
  }

  static String abbreviate(List<String> items) {
    return items.size() <= 5 ? String.join(", ", items)
        : String.join(", ", items.subList(0, 5)) + " and " + (items.size() - 5) + " more";
  }
}
