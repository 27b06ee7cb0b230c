package weft.xds.view;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import weft.model.AuthorizationPolicy;
import weft.model.DestinationRule;
import weft.model.Gateway;
import weft.model.PeerAuthentication;
import weft.model.Sidecar;
import weft.model.ServiceEntry;
import weft.model.VirtualService;
import weft.dns.alloc.AddressBook;
import weft.dns.alloc.Allocation;
import weft.registry.MeshSnapshot;
import weft.security.trust.TrustBundles;
import weft.xds.security.Identities;
import weft.xds.security.SecurityPolicies;

/**
 * What every proxy view of one snapshot shares (Istio's PushContext): rule indexes by host and by
 * gateway, cluster-local settings, the services each namespace may see, and the parts generated
 * for it ({@link PartCache}). Indexes are built on first use and read by many push threads at
 * once: each is immutable once published, and memo maps are concurrent.
 *
 * <p>Ownership: the {@code Generators} create one per snapshot (carrying the previous one's
 * parts forward, see {@link #next}); views only read it.
 */
public final class PushContext {
  /**
   * Memo maps keyed by something a client chooses (its namespace) stop memoizing past this size:
   * a hostile client must not grow the server's memory, and recomputing is only slower.
   */
  static final int MAX_MEMO = 4096;

  private final MeshSnapshot snapshot;
  private final SecurityPolicies security;
  private final PartCache parts;
  private final AddressBook addressBook;
  /** Where this snapshot's per-trust-domain roots come from (our CA's, MeshConfig's, peers'). */
  private final TrustSource trustSource;
  /** The trust bundles of this snapshot, computed on first use (empty: none known). */
  private volatile java.util.Optional<TrustBundles> trust;
  private volatile Indexes indexes;
  /** The automatic addresses of this snapshot's ServiceEntry hosts; computed on first use. */
  private volatile Allocation allocation;
  private final Map<String, Boolean> clusterLocal = new ConcurrentHashMap<>();
  /** Where JWT issuers' keys come from; read once per key location and snapshot (see {@link #jwks}). */
  private final weft.xds.authn.JwksSource jwksSource;
  private final Map<weft.xds.authn.JwksSource.KeyLocation, weft.xds.authn.JwksSource.Keys> jwks =
      new ConcurrentHashMap<>();
  private final Map<VisibilityKey, Visibility> visibility = new ConcurrentHashMap<>();

  PushContext(MeshSnapshot snapshot, SecurityPolicies security, PartCache parts, AddressBook addressBook) {
    this(snapshot, security, parts, addressBook, TrustSource.NONE);
  }

  PushContext(MeshSnapshot snapshot, SecurityPolicies security, PartCache parts, AddressBook addressBook,
      TrustSource trustSource) {
    this(snapshot, security, parts, addressBook, trustSource, weft.xds.authn.JwksSource.NONE);
  }

  PushContext(MeshSnapshot snapshot, SecurityPolicies security, PartCache parts, AddressBook addressBook,
      TrustSource trustSource, weft.xds.authn.JwksSource jwksSource) {
    this.jwksSource = jwksSource;
    this.snapshot = snapshot;
    this.security = security;
    this.parts = parts;
    this.addressBook = addressBook;
    this.trustSource = trustSource;
  }

  /**
   * Where the roots of each trust domain come from for a snapshot. {@link #NONE}: the control plane
   * holds no CA, so mTLS contexts name the agent's {@code ROOTCA} secret as Istio does.
   */
  @FunctionalInterface
  public interface TrustSource {
    TrustSource NONE = s -> null;

    /** The bundles for {@code snapshot}, or null when this control plane knows none. */
    TrustBundles bundles(MeshSnapshot snapshot);
  }

  /** A context with nothing generated yet whose mTLS contexts validate per trust domain from {@code trust}. */
  public static PushContext of(MeshSnapshot snapshot, AddressBook book, TrustSource trust) {
    return new PushContext(snapshot, SecurityPolicies.of(snapshot), new PartCache(), book, trust);
  }

  /** Like {@link #uncached(MeshSnapshot, AddressBook)}, validating per trust domain from {@code trust}. */
  public static PushContext uncached(MeshSnapshot snapshot, AddressBook book, TrustSource trust) {
    return new PushContext(snapshot, SecurityPolicies.of(snapshot), PartCache.disabled(), book, trust);
  }

  /**
   * This snapshot's roots per trust domain, or null when the control plane knows none (then the
   * proxies' own {@code ROOTCA} is used). A source that fails counts as none, logged once per snapshot.
   */
  public TrustBundles trustBundles() {
    java.util.Optional<TrustBundles> t = trust;
    if (t == null) {
      TrustBundles b;
      try {
        b = trustSource.bundles(snapshot);
      } catch (RuntimeException e) {
        System.getLogger(PushContext.class.getName()).log(System.Logger.Level.WARNING,
            "trust bundles of snapshot " + snapshot.version() + " cannot be built: " + e.getMessage());
        b = null;
      }
      t = java.util.Optional.ofNullable(b);
      trust = t;
    }
    return t.orElse(null);
  }

  /** A context like {@link #of(MeshSnapshot, AddressBook, TrustSource)} whose JWT keys come from {@code jwks}. */
  public static PushContext of(MeshSnapshot snapshot, AddressBook book, TrustSource trust,
      weft.xds.authn.JwksSource jwks, boolean caching) {
    return new PushContext(snapshot, SecurityPolicies.of(snapshot), caching ? new PartCache() : PartCache.disabled(),
        book, trust, jwks);
  }

  /**
   * The JWT issuers' keys as this snapshot's proxies are sent them: each location is looked up once, so
   * every proxy of the snapshot gets the same keys (a fetch that lands meanwhile comes with the next one).
   */
  public weft.xds.authn.JwksSource jwks() {
    return location -> {
      // Bounded like the other memo maps: past it, lookups go to the source each time.
      if (jwks.size() >= MAX_MEMO) return jwksSource.keys(location);
      return jwks.computeIfAbsent(location, jwksSource::keys);
    };
  }

  /** A context with nothing generated yet. */
  public static PushContext of(MeshSnapshot snapshot) {
    return of(snapshot, new AddressBook());
  }

  /** A context with nothing generated yet, whose automatic addresses start from {@code book}'s memory. */
  public static PushContext of(MeshSnapshot snapshot, AddressBook book) {
    return new PushContext(snapshot, SecurityPolicies.of(snapshot), new PartCache(), book);
  }

  /** A context whose security policies replace the snapshot's (tests, tools); it caches nothing. */
  public static PushContext withSecurity(MeshSnapshot snapshot, SecurityPolicies security) {
    return new PushContext(snapshot, security, PartCache.disabled(), new AddressBook());
  }

  /** A context that generates every part afresh (to compare against cached output). */
  public static PushContext uncached(MeshSnapshot snapshot) {
    return uncached(snapshot, new AddressBook());
  }

  /** Like {@link #uncached(MeshSnapshot)}, with automatic addresses from {@code book}'s memory. */
  public static PushContext uncached(MeshSnapshot snapshot, AddressBook book) {
    return new PushContext(snapshot, SecurityPolicies.of(snapshot), PartCache.disabled(), book);
  }

  /**
   * The context of the snapshot that follows this one, keeping the parts that {@code change}
   * cannot have touched.
   */
  public PushContext next(MeshSnapshot nextSnapshot, weft.registry.ChangeEvent change) {
    PushContext next = new PushContext(nextSnapshot, SecurityPolicies.of(nextSnapshot),
        parts.next(change), addressBook, trustSource, jwksSource);
    // ServiceEntries only change with their hosts' service definitions: otherwise nothing to redo.
    if (!change.full() && change.serviceHosts().isEmpty()) next.allocation = allocation;
    return next;
  }

  /**
   * The automatic addresses of this snapshot's ServiceEntry hosts (see {@link AddressBook}): the
   * same for every proxy, used by those that proxy DNS.
   */
  public Allocation autoAddresses() {
    Allocation a = allocation;
    if (a == null) {
      // Two threads may both compute it: the book makes both results equal.
      a = addressBook.allocate(snapshot.version(), serviceEntries(snapshot));
      allocation = a;
    }
    return a;
  }

  /**
   * Every ServiceEntry behind a host of the snapshot, once each; and, for each clusterset host
   * (Multi-Cluster Services) that no ServiceImport gives a VIP, an entry that stands for it, so
   * that it gets an address by the same rules (stable, persisted, never given twice).
   */
  static java.util.Collection<ServiceEntry> serviceEntries(MeshSnapshot snapshot) {
    Map<weft.model.ResourceId, ServiceEntry> out = new java.util.LinkedHashMap<>();
    for (weft.registry.ServiceView sv : snapshot.services().values()) {
      ServiceEntry e = sv.service().serviceEntry();
      if (e != null) out.putIfAbsent(e.id(), e);
      ServiceEntry standIn = clustersetStandIn(sv.service());
      if (standIn != null) out.putIfAbsent(standIn.id(), standIn);
    }
    return out.values();
  }

  /**
   * The kind of the entries that stand for clusterset hosts: not a ServiceEntry, so nothing writes
   * a status into one (the ServiceImport that {@code --mcs-controller} writes carries the address).
   */
  public static final String CLUSTERSET_KIND = "ServiceImport";

  private static ServiceEntry clustersetStandIn(weft.registry.MeshService s) {
    weft.registry.MeshService.Mcs mcs = s.mcs();
    if (mcs == null || !mcs.clustersetHost() || mcs.headless() || !s.addresses().isEmpty()) return null;
    List<ServiceEntry.Port> ports = new java.util.ArrayList<>();
    for (weft.registry.MeshService.Port p : s.ports()) {
      ports.add(new ServiceEntry.Port(p.number(), p.protocol(), p.name(), 0));
    }
    // Resolution STATIC: the allocator gives addresses to every resolution but NONE.
    return new ServiceEntry(new weft.model.ResourceId(CLUSTERSET_KIND, s.namespace(), s.name()),
        List.of(s.hostname()), List.of(), ports, "MESH_INTERNAL", "STATIC", List.of(), null, List.of(), List.of());
  }

  public MeshSnapshot snapshot() {
    return snapshot;
  }

  public SecurityPolicies securityPolicies() {
    return security;
  }

  /** Generated parts shared by every view of this snapshot (and carried to the next where still valid). */
  public PartCache parts() {
    return parts;
  }

  Indexes indexes() {
    Indexes i = indexes;
    if (i == null) {
      // Two threads may both build it: it is a pure function of the snapshot, so either result serves.
      i = new Indexes(snapshot);
      indexes = i;
    }
    return i;
  }

  /** Istio's built-in cluster-local hosts, which MeshConfig serviceSettings may override. */
  private static final List<String> DEFAULT_CLUSTER_LOCAL = List.of("kubernetes.default.svc.cluster.local",
      "*.kube-system.svc.cluster.local");

  /**
   * True when a host's endpoints must stay in the proxy's own cluster ({@code serviceSettings.clusterLocal}).
   * An exact host in the settings beats a wildcard; settings beat the built-in defaults.
   */
  public boolean clusterLocal(String host) {
    Boolean known = clusterLocal.get(host);
    if (known != null) return known;
    boolean local = computeClusterLocal(host);
    // Hosts asked about come from the snapshot or from a client's resource names: memoize only the former.
    if (snapshot.service(host) != null) clusterLocal.put(host, local);
    return local;
  }

  private boolean computeClusterLocal(String host) {
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

  /** Who may see which services: a proxy's namespace, the Sidecar in force for it and its cluster. */
  record VisibilityKey(String namespace, weft.model.ResourceId sidecar, String clusterId) {}

  /** The services a {@link VisibilityKey} sees, in hostname order, and why the others are hidden. */
  record Visibility(List<weft.registry.ServiceView> services, Map<String, String> dropped) {}

  Visibility visibility(VisibilityKey key, java.util.function.Supplier<Visibility> compute) {
    Visibility v = visibility.get(key);
    if (v != null) return v;
    v = compute.get();
    if (visibility.size() < MAX_MEMO) visibility.putIfAbsent(key, v);
    return v;
  }

  /** The snapshot's DestinationRule with this id; null for null (no rule in force). */
  public DestinationRule destinationRule(weft.model.ResourceId id) {
    if (id == null) return null;
    DestinationRule dr = indexes().drById.get(id);
    if (dr == null) throw new IllegalStateException("no DestinationRule " + id + " in snapshot " + snapshot.version());
    return dr;
  }

  /** Label keys some selector or source match of the config reads; other labels cannot change any output. */
  public Set<String> selectorLabelKeys() {
    return indexes().selectorLabelKeys;
  }

  /**
   * Every label a {@code failoverPriority} (of any DestinationRule, at any level, or of the mesh)
   * names: the only labels of a proxy its endpoint assignments can depend on.
   */
  public Set<String> failoverLabelKeys() {
    return indexes().failoverLabelKeys;
  }

  /**
   * Every subset name any DestinationRule defines for {@code host} (exact or wildcard host, any
   * namespace): a superset of the subsets any proxy's rule in force can name, so the cluster names
   * {@code outbound|PORT|SUBSET|HOST} built from them cover every name a proxy may watch for the host.
   */
  public Set<String> subsetNames(String host) {
    Indexes ix = indexes();
    Set<String> out = new TreeSet<>();
    for (DestinationRule dr : ix.drByHost.getOrDefault(host, List.of())) {
      for (DestinationRule.Subset s : dr.subsets()) out.add(s.name());
    }
    for (DestinationRule dr : ix.drWildcard) {
      if (!Hosts.matches(Hosts.resolve(dr.host(), dr.id().namespace()), host)) continue;
      for (DestinationRule.Subset s : dr.subsets()) out.add(s.name());
    }
    return out;
  }

  /** The config indexed for lookups by host and gateway; immutable once built. */
  static final class Indexes {
    /** VirtualServices that apply to sidecars (gateway {@code mesh}), by resolved exact host. */
    final Map<String, List<VirtualService>> meshVsByHost = new HashMap<>();
    /** The same, with a wildcard host ({@code *} or {@code *.suffix}). */
    final List<VirtualService> meshVsWildcard = new ArrayList<>();
    final Map<String, List<DestinationRule>> drByHost = new HashMap<>();
    final Map<weft.model.ResourceId, DestinationRule> drById = new HashMap<>();
    final List<DestinationRule> drWildcard = new ArrayList<>();
    /** VirtualServices by the {@code namespace/name} of each gateway they bind to. */
    final Map<String, List<VirtualService>> vsByGateway = new HashMap<>();
    final Map<String, List<Sidecar>> sidecarsByNamespace = new HashMap<>();
    final Set<String> selectorLabelKeys;
    final Set<String> failoverLabelKeys;

    Indexes(MeshSnapshot snapshot) {
      var config = snapshot.config();
      // Delegates are resolved once per snapshot: every generator then sees plain VirtualServices.
      var merged = weft.model.Delegation.merge(config.virtualServices(),
          snapshot.meshConfig().defaultVirtualServiceExportTo());
      for (VirtualService vs : merged.virtualServices()) {
        if (vs.gateways().isEmpty() || vs.gateways().contains("mesh")) {
          boolean wildcard = false;
          Set<String> exact = new TreeSet<>();
          for (String h : vs.hosts()) {
            String resolved = Hosts.resolve(h, vs.id().namespace());
            if (resolved.startsWith("*")) {
              wildcard = true;
            } else {
              exact.add(resolved);
            }
          }
          if (wildcard) {
            meshVsWildcard.add(vs);
          } else {
            for (String h : exact) meshVsByHost.computeIfAbsent(h, k -> new ArrayList<>()).add(vs);
          }
        }
        Set<String> bound = new TreeSet<>();
        for (String g : vs.gateways()) bound.add(Hosts.gatewayKey(g, vs.id().namespace()));
        for (String g : bound) vsByGateway.computeIfAbsent(g, k -> new ArrayList<>()).add(vs);
      }
      for (DestinationRule dr : config.destinationRules()) {
        drById.put(dr.id(), dr);
        String resolved = Hosts.resolve(dr.host(), dr.id().namespace());
        if (resolved.startsWith("*")) {
          drWildcard.add(dr);
        } else {
          drByHost.computeIfAbsent(resolved, k -> new ArrayList<>()).add(dr);
        }
      }
      for (Sidecar s : config.sidecars()) {
        sidecarsByNamespace.computeIfAbsent(s.id().namespace(), k -> new ArrayList<>()).add(s);
      }
      Set<String> keys = new TreeSet<>();
      keys.add(Identities.TLS_MODE_LABEL);
      for (Sidecar s : config.sidecars()) if (s.workloadSelector() != null) keys.addAll(s.workloadSelector().keySet());
      for (DestinationRule dr : config.destinationRules()) {
        if (dr.workloadSelector() != null) keys.addAll(dr.workloadSelector().keySet());
      }
      for (Gateway g : config.gateways()) keys.addAll(g.selector().keySet());
      for (PeerAuthentication pa : config.peerAuthentications()) if (pa.selector() != null) keys.addAll(pa.selector().keySet());
      for (AuthorizationPolicy ap : config.authorizationPolicies()) {
        if (ap.selector() != null) keys.addAll(ap.selector().keySet());
      }
      for (weft.model.RequestAuthentication ra : config.requestAuthentications()) {
        if (ra.selector() != null) keys.addAll(ra.selector().keySet());
      }
      for (VirtualService vs : config.virtualServices()) {
        for (VirtualService.HttpRoute r : vs.http()) for (var m : r.match()) keys.addAll(m.sourceLabels().keySet());
        for (VirtualService.TcpRoute r : vs.tcp()) for (var m : r.match()) keys.addAll(m.sourceLabels().keySet());
      }
      selectorLabelKeys = Set.copyOf(keys);
      Set<String> failover = new TreeSet<>();
      var mesh = snapshot.meshConfig().localityLbSetting();
      if (mesh != null) addFailoverLabels(mesh, failover);
      for (DestinationRule dr : config.destinationRules()) {
        addFailoverLabels(dr.trafficPolicy(), failover);
        for (DestinationRule.Subset s : dr.subsets()) addFailoverLabels(s.trafficPolicy(), failover);
      }
      failoverLabelKeys = Set.copyOf(failover);
    }

    private static void addFailoverLabels(DestinationRule.TrafficPolicy policy, Set<String> out) {
      if (policy == null) return;
      if (policy.loadBalancer() != null && policy.loadBalancer().localityLbSetting() != null) {
        addFailoverLabels(policy.loadBalancer().localityLbSetting(), out);
      }
      for (DestinationRule.TrafficPolicy port : policy.portLevelSettings()) addFailoverLabels(port, out);
    }

    /** A {@code key=value} entry names its key; the value is matched, but the label is still read. */
    private static void addFailoverLabels(weft.model.LocalityLbSetting setting, Set<String> out) {
      for (String entry : setting.failoverPriority()) {
        int eq = entry.indexOf('=');
        out.add(eq < 0 ? entry : entry.substring(0, eq));
        out.add(entry);
      }
    }
  }
}
