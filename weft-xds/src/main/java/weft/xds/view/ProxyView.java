package weft.xds.view;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import weft.model.DestinationRule;
import weft.model.Labels;
import weft.model.Sidecar;
import weft.model.VirtualService;
import weft.registry.MeshService;
import weft.registry.MeshSnapshot;
import weft.registry.ServiceView;
import weft.xds.proxy.Proxy;
import weft.xds.security.SecurityPolicies;

/**
 * What one proxy may see of one snapshot: services, routing rules and policies, after exportTo and
 * Sidecar egress rules. Everything it hides or skips is recorded with the reason, for
 * {@code /debug/status} and later diagnostics.
 */
public final class ProxyView {
  private final MeshSnapshot snapshot;
  private final Proxy proxy;
  private final Sidecar sidecar;
  private final SecurityPolicies security;
  private final Map<String, String> dropped = new TreeMap<>();

  public ProxyView(MeshSnapshot snapshot, Proxy proxy) {
    this(snapshot, proxy, SecurityPolicies.of(snapshot));
  }

  /** A view with the given security policies in place of the snapshot's (tests, tools). */
  public ProxyView(MeshSnapshot snapshot, Proxy proxy, SecurityPolicies security) {
    this.snapshot = snapshot;
    this.proxy = proxy;
    this.sidecar = sidecarFor(snapshot, proxy);
    this.security = security;
  }

  public Proxy proxy() {
    return proxy;
  }

  public MeshSnapshot snapshot() {
    return snapshot;
  }

  /**
   * PeerAuthentications and AuthorizationPolicies of the mesh. Unlike routing config they are not
   * filtered by exportTo: which ones apply is decided per workload (weft.xds.security).
   */
  public SecurityPolicies securityPolicies() {
    return security;
  }

  /** Subject (a host, a resource) → why it was hidden or skipped for this proxy. */
  public Map<String, String> dropped() {
    return dropped;
  }

  public void drop(String subject, String reason) {
    dropped.put(subject, reason);
  }

  /** The service if this proxy may see it, else null with the reason recorded. */
  public ServiceView service(String host) {
    ServiceView view = snapshot.service(host);
    if (view == null) {
      drop(host, "no service with this hostname in any cluster");
      return null;
    }
    MeshService s = view.service();
    if (!s.exportedTo(proxy.namespace())) {
      drop(host, "not exported to namespace " + proxy.namespace() + " (exportTo " + s.exportTo() + ")");
      return null;
    }
    if (!s.clusters().contains(proxy.clusterId()) && clusterLocal(host)) {
      drop(host, "cluster-local in " + s.clusters() + "; this proxy is in cluster " + proxy.clusterId());
      return null;
    }
    if (sidecar != null && !egressAllows(s)) {
      drop(host, "not in the egress hosts of " + sidecar.id());
      return null;
    }
    return view;
  }

  /** Istio's built-in cluster-local hosts, which MeshConfig serviceSettings may override. */
  private static final List<String> DEFAULT_CLUSTER_LOCAL = List.of("kubernetes.default.svc.cluster.local",
      "*.kube-system.svc.cluster.local");

  /**
   * True when a host's endpoints must stay in the proxy's own cluster ({@code serviceSettings.clusterLocal}).
   * An exact host in the settings beats a wildcard; settings beat the built-in defaults.
   */
  public boolean clusterLocal(String host) {
    Boolean wildcard = null;
    for (var settings : snapshot.meshConfig().serviceSettings()) {
      for (String h : settings.hosts()) {
        if (h.equals(host)) return settings.clusterLocal();
        if (wildcard == null && Hosts.matches(h, host)) wildcard = settings.clusterLocal();
      }
    }
    if (wildcard != null) return wildcard;
    return DEFAULT_CLUSTER_LOCAL.stream().anyMatch(h -> Hosts.matches(h, host));
  }

  /** The VirtualService for a host that applies to sidecars and proxyless clients (gateway {@code mesh}). */
  public VirtualService virtualService(String host) {
    List<VirtualService> candidates = new ArrayList<>();
    for (VirtualService vs : snapshot.config().virtualServices()) {
      if (!vs.gateways().isEmpty() && !vs.gateways().contains("mesh")) continue;
      if (!visible(vs.exportTo(), vs.id().namespace(), snapshot.meshConfig().defaultVirtualServiceExportTo())) continue;
      for (String h : vs.hosts()) {
        if (Hosts.matches(Hosts.resolve(h, vs.id().namespace()), host)) {
          candidates.add(vs);
          break;
        }
      }
    }
    if (candidates.isEmpty()) return null;
    candidates.sort(namespacePreference(v -> v.id().namespace(), host, v -> exactHost(v.hosts(), v.id().namespace(), host)));
    for (int i = 1; i < candidates.size(); i++) {
      drop(candidates.get(i).id().toString(), "another VirtualService for " + host + " takes precedence: "
          + candidates.get(0).id());
    }
    return candidates.get(0);
  }

  /**
   * The VirtualServices bound to the gateway {@code namespace/name} that this proxy's namespace may
   * see (exportTo), sorted by id: what a router serves for that gateway's servers.
   */
  public List<VirtualService> virtualServicesForGateway(String gateway) {
    List<VirtualService> out = new ArrayList<>();
    for (VirtualService vs : snapshot.config().virtualServices()) {
      boolean bound = false;
      for (String g : vs.gateways()) {
        if (Hosts.gatewayKey(g, vs.id().namespace()).equals(gateway)) {
          bound = true;
          break;
        }
      }
      if (bound && visible(vs.exportTo(), vs.id().namespace(), snapshot.meshConfig().defaultVirtualServiceExportTo())) {
        out.add(vs);
      }
    }
    return out;
  }

  /** The DestinationRule for a host: the proxy's namespace first, then the service's, then the root namespace. */
  public DestinationRule destinationRule(String host) {
    List<DestinationRule> candidates = new ArrayList<>();
    for (DestinationRule dr : snapshot.config().destinationRules()) {
      if (!Hosts.matches(Hosts.resolve(dr.host(), dr.id().namespace()), host)) continue;
      if (!visible(dr.exportTo(), dr.id().namespace(), snapshot.meshConfig().defaultDestinationRuleExportTo())) continue;
      if (dr.workloadSelector() != null && !(dr.id().namespace().equals(proxy.namespace())
          && Labels.matches(dr.workloadSelector(), proxy.labels()))) continue;
      candidates.add(dr);
    }
    if (candidates.isEmpty()) return null;
    candidates.sort(namespacePreference(d -> d.id().namespace(), host,
        d -> exactHost(List.of(d.host()), d.id().namespace(), host)));
    return candidates.get(0);
  }

  private <T> Comparator<T> namespacePreference(java.util.function.Function<T, String> ns, String host,
      java.util.function.Predicate<T> exact) {
    ServiceView sv = snapshot.service(host);
    String serviceNs = sv == null ? "" : sv.service().namespace();
    String root = snapshot.meshConfig().rootNamespace();
    Comparator<T> byExact = Comparator.comparing(t -> exact.test(t) ? 0 : 1);
    return byExact.thenComparing(t -> {
      String n = ns.apply(t);
      if (n.equals(proxy.namespace())) return 0;
      if (n.equals(serviceNs)) return 1;
      if (n.equals(root)) return 2;
      return 3;
    });
  }

  private static boolean exactHost(List<String> hosts, String ns, String host) {
    return hosts.stream().anyMatch(h -> Hosts.resolve(h, ns).equals(host));
  }

  private boolean visible(List<String> exportTo, String ownNamespace, List<String> meshDefault) {
    List<String> list = exportTo.isEmpty() ? meshDefault : exportTo;
    for (String e : list) {
      if (e.equals("*") || e.equals(proxy.namespace()) || (e.equals(".") && ownNamespace.equals(proxy.namespace()))) {
        return true;
      }
    }
    return false;
  }

  private boolean egressAllows(MeshService s) {
    for (Sidecar.Egress egress : sidecar.egress()) {
      for (String entry : egress.hosts()) {
        int slash = entry.indexOf('/');
        String ns = entry.substring(0, slash);
        String dns = entry.substring(slash + 1);
        boolean nsOk = ns.equals("*") || (ns.equals(".") ? sidecar.id().namespace().equals(s.namespace())
            : !ns.equals("~") && ns.equals(s.namespace()));
        if (nsOk && Hosts.matches(dns, s.hostname())) return true;
      }
    }
    return false;
  }

  /** Istio's choice: a selector-matching Sidecar in the proxy's namespace, else its namespace-wide one, else the root one. */
  private static Sidecar sidecarFor(MeshSnapshot snapshot, Proxy proxy) {
    Sidecar namespaceWide = null;
    Sidecar root = null;
    String rootNs = snapshot.meshConfig().rootNamespace();
    for (Sidecar s : snapshot.config().sidecars()) {
      String ns = s.id().namespace();
      if (ns.equals(proxy.namespace())) {
        if (s.workloadSelector() != null) {
          if (Labels.matches(s.workloadSelector(), proxy.labels())) return s;
        } else if (namespaceWide == null) {
          namespaceWide = s;
        }
      } else if (ns.equals(rootNs) && s.workloadSelector() == null && root == null) {
        root = s;
      }
    }
    return namespaceWide != null ? namespaceWide : root;
  }

  public Sidecar sidecar() {
    return sidecar;
  }
}
