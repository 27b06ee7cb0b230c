package weft.xds.view;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 *
 * <p>Lookups go through the snapshot's {@link PushContext}, which every view of the snapshot
 * shares; the view itself holds only the proxy, its Sidecar and its drop notes, and belongs to the
 * one thread generating for the proxy. Parts many proxies share are generated on a view built from
 * a key alone ({@link RoutingKey}), so they cannot depend on anything the key lacks; their drop
 * notes are replayed into each view that uses them.
 */
public final class ProxyView {
  private final PushContext context;
  private final Proxy proxy;
  private final Sidecar sidecar;
  private final Map<String, String> dropped = new TreeMap<>();

  /** A view over a context of its own (tests, tools): nothing is shared with other views. */
  public ProxyView(MeshSnapshot snapshot, Proxy proxy) {
    this(PushContext.of(snapshot), proxy);
  }

  /** A view with the given security policies in place of the snapshot's (tests, tools); nothing is cached. */
  public ProxyView(MeshSnapshot snapshot, Proxy proxy, SecurityPolicies security) {
    this(PushContext.withSecurity(snapshot, security), proxy);
  }

  /** A view over the context every view of the snapshot shares. */
  public ProxyView(PushContext context, Proxy proxy) {
    this.context = context;
    this.proxy = proxy;
    this.sidecar = sidecarFor(context, proxy);
  }

  public Proxy proxy() {
    return proxy;
  }

  public MeshSnapshot snapshot() {
    return context.snapshot();
  }

  public PushContext context() {
    return context;
  }

  /**
   * PeerAuthentications and AuthorizationPolicies of the mesh. Unlike routing config they are not
   * filtered by exportTo: which ones apply is decided per workload (weft.xds.security).
   */
  public SecurityPolicies securityPolicies() {
    return context.securityPolicies();
  }

  /** Subject (a host, a resource) → why it was hidden or skipped for this proxy. */
  public Map<String, String> dropped() {
    return dropped;
  }

  public void drop(String subject, String reason) {
    dropped.put(subject, reason);
  }

  /**
   * Everything that decides what a proxy sees of routing and policy config: its kind, namespace,
   * cluster, DNS domain and the labels some selector of the config reads. Two proxies with equal
   * keys get the same listeners, routes and proxyless resources.
   */
  public record RoutingKey(String kind, boolean proxyless, String namespace, String clusterId, String dnsDomain,
      Map<String, String> labels, boolean dnsCapture) {
    public RoutingKey {
      labels = Map.copyOf(labels);
    }

    /** A proxy with only this key's fields: a generator given it cannot read what the key lacks. */
    Proxy asProxy() {
      return new Proxy("", kind, "", "", namespace, clusterId, "", labels, "", weft.registry.Locality.UNKNOWN,
          proxyless, dnsDomain, dnsCapture);
    }
  }

  /**
   * The key's {@code dnsCapture}: a proxy that proxies DNS knows ServiceEntry hosts by their
   * automatic addresses, which its listeners and route domains then name.
   */
  public RoutingKey routingKey() {
    Map<String, String> labels = new TreeMap<>();
    Set<String> read = context.selectorLabelKeys();
    proxy.labels().forEach((k, v) -> {
      if (read.contains(k)) labels.put(k, v);
    });
    String dnsDomain = proxy.dnsDomain() == null ? "" : proxy.dnsDomain();
    return new RoutingKey(proxy.kind(), proxy.proxyless(), proxy.namespace(), proxy.clusterId(), dnsDomain, labels,
        proxy.dnsCapture());
  }

  /**
   * The routing part for {@code name}: from the shared cache when the context caches (generated on
   * a view built from this proxy's {@link RoutingKey} alone), else generated on this view. The drop
   * notes of the part are replayed into this view either way.
   */
  public <T> T routingPart(String generator, String name, java.util.function.Function<ProxyView, T> generate) {
    if (!context.parts().enabled()) return generate.apply(this);
    RoutingKey key = routingKey();
    PartCache.Part<T> part = context.parts().forRouting(new NamedPart(generator, name, key),
        () -> partOf(generate, new ProxyView(context, key.asProxy())));
    part.replay(this);
    return part.value();
  }

  /** Like {@link #routingPart} for a part that also reads the endpoints of one service. */
  public <T> T hostPart(String generator, String name, ServiceView service,
      java.util.function.Function<ProxyView, T> generate) {
    if (!context.parts().enabled()) return generate.apply(this);
    RoutingKey key = routingKey();
    PartCache.Part<T> part = context.parts().forHost(context.snapshot(), service, new NamedPart(generator, name, key),
        () -> partOf(generate, new ProxyView(context, key.asProxy())));
    part.replay(this);
    return part.value();
  }

  private record NamedPart(String generator, String name, RoutingKey key) {}

  /**
   * What a whole response of assignments or outbound clusters reads of a proxy: its routing key,
   * and what assignments read besides (network, locality, the networks it asked to see, and the
   * labels some {@code failoverPriority} names), and whether it proved its identity (a cluster whose
   * DestinationRule names a credentialName is only sent to one that did). A full-mesh sidecar's
   * thousand assignments are the same for every proxy with an equal key.
   */
  public record MeshWideKey(RoutingKey routing, String network, weft.registry.Locality locality,
      List<String> networkView, Map<String, String> failoverLabels, boolean servedSecrets) {
    public MeshWideKey {
      networkView = List.copyOf(networkView);
      failoverLabels = Map.copyOf(failoverLabels);
    }

    /** A proxy with only this key's fields: a generator given it cannot read what the key lacks. */
    Proxy asProxy() {
      Map<String, String> labels = new TreeMap<>(routing.labels());
      labels.putAll(failoverLabels);
      // A proxy that proved its identity is in the namespace its node names (NodeClaims), so the
      // routing key's namespace is the verified one.
      return new Proxy("", routing.kind(), "", "", routing.namespace(), routing.clusterId(), network, labels, "",
          locality, routing.proxyless(), routing.dnsDomain(), routing.dnsCapture(), networkView, "", "",
          servedSecrets ? routing.namespace() : "");
    }
  }

  public MeshWideKey meshWideKey() {
    Map<String, String> failover = new TreeMap<>();
    Set<String> read = context.failoverLabelKeys();
    proxy.labels().forEach((k, v) -> {
      if (read.contains(k)) failover.put(k, v);
    });
    return new MeshWideKey(routingKey(), proxy.network(), proxy.locality(), proxy.networkView(), failover,
        proxy.servedSecrets());
  }

  /**
   * A whole response for {@code names} (null: everything the proxy sees): from the snapshot's
   * cache when the context caches (generated on a view built from this proxy's
   * {@link MeshWideKey} alone), else generated on this view; drop notes replayed either way.
   */
  public <T> T meshWidePart(String generator, List<String> names, java.util.function.Function<ProxyView, T> generate) {
    if (!context.parts().enabled()) return generate.apply(this);
    MeshWideKey key = meshWideKey();
    PartCache.Part<T> part = context.parts().forSnapshot(new WholePart(generator, names, key),
        () -> partOf(generate, new ProxyView(context, key.asProxy())));
    part.replay(this);
    return part.value();
  }

  private record WholePart(String generator, List<String> names, MeshWideKey key) {}

  /** Runs a generator on {@code on} and keeps what it dropped with what it made. */
  public static <T> PartCache.Part<T> partOf(java.util.function.Function<ProxyView, T> generate, ProxyView on) {
    T value = generate.apply(on);
    java.util.List<PartCache.Drop> drops = new java.util.ArrayList<>();
    on.dropped().forEach((s, r) -> drops.add(new PartCache.Drop(s, r)));
    return new PartCache.Part<>(value, drops);
  }

  /** The service if this proxy may see it, else null with the reason recorded. */
  public ServiceView service(String host) {
    ServiceView view = context.snapshot().service(host);
    if (view == null) {
      drop(host, "no service with this hostname in any cluster");
      return null;
    }
    String hidden = hiddenBecause(view.service());
    if (hidden != null) {
      drop(host, hidden);
      return null;
    }
    return view;
  }

  /** Why this proxy may not see the service, or null when it may. */
  private String hiddenBecause(MeshService s) {
    String host = s.hostname();
    if (!s.exportedTo(proxy.namespace())) {
      return "not exported to namespace " + proxy.namespace() + " (exportTo " + s.exportTo() + ")";
    }
    if (!s.clusters().contains(proxy.clusterId()) && clusterLocal(host)) {
      return "cluster-local in " + s.clusters() + "; this proxy is in cluster " + proxy.clusterId();
    }
    if (sidecar != null && !egressAllows(s)) return "not in the egress hosts of " + sidecar.id();
    return null;
  }

  /**
   * Every service this proxy may see, in hostname order; the reasons for the hidden ones are
   * recorded. Computed once per snapshot for each namespace, Sidecar and cluster, and shared.
   */
  public List<ServiceView> visibleServices() {
    PushContext.VisibilityKey key = new PushContext.VisibilityKey(proxy.namespace(),
        sidecar == null ? null : sidecar.id(), proxy.clusterId());
    PushContext.Visibility v = context.visibility(key, () -> {
      List<ServiceView> visible = new ArrayList<>();
      Map<String, String> hidden = new TreeMap<>();
      for (ServiceView sv : context.snapshot().services().values()) {
        String why = hiddenBecause(sv.service());
        if (why == null) {
          visible.add(sv);
        } else {
          hidden.put(sv.service().hostname(), why);
        }
      }
      return new PushContext.Visibility(List.copyOf(visible), java.util.Collections.unmodifiableMap(hidden));
    });
    dropped.putAll(v.dropped());
    return v.services();
  }

  /**
   * The services this proxy may see through one egress listener of its Sidecar: those
   * {@link #visibleServices} lets through that the listener's own hosts import (Istio builds each
   * egress listener's listeners and routes from its own hosts; clusters from all of them).
   */
  public List<ServiceView> visibleServices(Sidecar.Egress egress) {
    List<ServiceView> out = new ArrayList<>();
    for (ServiceView sv : visibleServices()) {
      if (egressAllows(sv.service(), egress)) out.add(sv);
    }
    return out;
  }

  /**
   * Istio's GetEgressListenerForRDS: the Sidecar's egress listener on {@code port}, else its
   * catch-all (the one without a port), else null; null as well without a Sidecar or egress listeners.
   */
  public Sidecar.Egress egressFor(int port) {
    if (sidecar == null) return null;
    for (Sidecar.Egress e : sidecar.egress()) {
      if (e.port() == 0 || e.port() == port) return e;
    }
    return null;
  }

  /**
   * True when a host's endpoints must stay in the proxy's own cluster ({@code serviceSettings.clusterLocal}).
   * An exact host in the settings beats a wildcard; settings beat the built-in defaults.
   */
  public boolean clusterLocal(String host) {
    return context.clusterLocal(host);
  }

  /** The VirtualService for a host that applies to sidecars and proxyless clients (gateway {@code mesh}). */
  public VirtualService virtualService(String host) {
    PushContext.Indexes ix = context.indexes();
    List<VirtualService> candidates = new ArrayList<>();
    List<String> defaults = context.snapshot().meshConfig().defaultVirtualServiceExportTo();
    for (VirtualService vs : ix.meshVsByHost.getOrDefault(host, List.of())) {
      if (visible(vs.exportTo(), vs.id().namespace(), defaults)) candidates.add(vs);
    }
    for (VirtualService vs : ix.meshVsWildcard) {
      if (!visible(vs.exportTo(), vs.id().namespace(), defaults)) continue;
      for (String h : vs.hosts()) {
        if (Hosts.matches(Hosts.resolve(h, vs.id().namespace()), host)) {
          candidates.add(vs);
          break;
        }
      }
    }
    if (candidates.isEmpty()) return null;
    // The snapshot lists config by id; keep that order among equals, as the full scan did.
    candidates.sort(Comparator.comparing(VirtualService::id));
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
    List<String> defaults = context.snapshot().meshConfig().defaultVirtualServiceExportTo();
    for (VirtualService vs : context.indexes().vsByGateway.getOrDefault(gateway, List.of())) {
      if (visible(vs.exportTo(), vs.id().namespace(), defaults)) out.add(vs);
    }
    return out;
  }

  /** The DestinationRule for a host: the proxy's namespace first, then the service's, then the root namespace. */
  public DestinationRule destinationRule(String host) {
    PushContext.Indexes ix = context.indexes();
    List<DestinationRule> candidates = new ArrayList<>();
    for (DestinationRule dr : ix.drByHost.getOrDefault(host, List.of())) {
      if (applies(dr)) candidates.add(dr);
    }
    for (DestinationRule dr : ix.drWildcard) {
      if (Hosts.matches(Hosts.resolve(dr.host(), dr.id().namespace()), host) && applies(dr)) candidates.add(dr);
    }
    if (candidates.isEmpty()) return null;
    candidates.sort(Comparator.comparing(DestinationRule::id));
    candidates.sort(namespacePreference(d -> d.id().namespace(), host,
        d -> exactHost(List.of(d.host()), d.id().namespace(), host)));
    return candidates.get(0);
  }

  private boolean applies(DestinationRule dr) {
    if (!visible(dr.exportTo(), dr.id().namespace(), context.snapshot().meshConfig().defaultDestinationRuleExportTo())) {
      return false;
    }
    return dr.workloadSelector() == null || (dr.id().namespace().equals(proxy.namespace())
        && Labels.matches(dr.workloadSelector(), proxy.labels()));
  }

  private <T> Comparator<T> namespacePreference(java.util.function.Function<T, String> ns, String host,
      java.util.function.Predicate<T> exact) {
    ServiceView sv = context.snapshot().service(host);
    String serviceNs = sv == null ? "" : sv.service().namespace();
    String root = context.snapshot().meshConfig().rootNamespace();
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

  /**
   * Istio's egress hosts: an entry {@code ns/dns} imports, an entry {@code ~ns/dns} excludes (a bare
   * {@code ~} namespace meaning every namespace); a host is visible through a listener when some entry
   * imports it and none excludes it.
   */
  private boolean egressAllows(MeshService s) {
    // A Sidecar without egress listeners (one that sets only outboundTrafficPolicy, say) keeps
    // Istio's default egress, every namespace's hosts.
    if (sidecar.egress().isEmpty()) return true;
    for (Sidecar.Egress egress : sidecar.egress()) {
      if (egressAllows(s, egress)) return true;
    }
    return false;
  }

  /** Whether one egress listener's hosts import the service (and none of them excludes it). */
  private boolean egressAllows(MeshService s, Sidecar.Egress egress) {
    boolean imported = false;
    boolean excluded = false;
    for (String entry : egress.hosts()) {
      int slash = entry.indexOf('/');
      String ns = entry.substring(0, slash);
      String dns = entry.substring(slash + 1);
      boolean exclusion = ns.startsWith("~");
      if (exclusion) ns = ns.length() == 1 ? "*" : ns.substring(1);
      boolean nsOk = ns.equals("*") || (ns.equals(".") ? sidecar.id().namespace().equals(s.namespace())
          : ns.equals(s.namespace()));
      if (!nsOk || !Hosts.matches(dns, s.hostname())) continue;
      if (exclusion) excluded = true; else imported = true;
    }
    return imported && !excluded;
  }


  /** Istio's choice: a selector-matching Sidecar in the proxy's namespace, else its namespace-wide one, else the root one. */
  private static Sidecar sidecarFor(PushContext context, Proxy proxy) {
    Sidecar namespaceWide = null;
    Map<String, List<Sidecar>> byNamespace = context.indexes().sidecarsByNamespace;
    for (Sidecar s : byNamespace.getOrDefault(proxy.namespace(), List.of())) {
      if (s.workloadSelector() != null) {
        if (Labels.matches(s.workloadSelector(), proxy.labels())) return s;
      } else if (namespaceWide == null) {
        namespaceWide = s;
      }
    }
    if (namespaceWide != null) return namespaceWide;
    String rootNs = context.snapshot().meshConfig().rootNamespace();
    if (rootNs.equals(proxy.namespace())) return null;
    for (Sidecar s : byNamespace.getOrDefault(rootNs, List.of())) {
      if (s.workloadSelector() == null) return s;
    }
    return null;
  }

  public Sidecar sidecar() {
    return sidecar;
  }
}
