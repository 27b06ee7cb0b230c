package weft.xds;

import com.google.protobuf.Any;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import weft.dns.alloc.AddressBook;
import weft.model.ResourceId;
import weft.registry.ChangeEvent;
import weft.registry.MeshSnapshot;
import weft.xds.proxy.Proxy;
import weft.xds.envoygen.EnvoyClusters;
import weft.xds.envoygen.EnvoyListeners;
import weft.xds.envoygen.EnvoyRoutes;
import weft.xds.extend.ProxyExtensions;
import weft.xds.grpcgen.GrpcClusters;
import weft.xds.grpcgen.HostPort;
import weft.xds.eds.Assignments;
import weft.registry.ServiceView;
import weft.xds.view.PushContext;
import weft.xds.grpcgen.GrpcListeners;
import weft.xds.grpcgen.GrpcRoutes;
import weft.xds.nds.NameTables;
import weft.xds.view.ProxyView;

/**
 * Chooses the generator for a type and says which changes a type can ignore. Holds the context of
 * the newest snapshot, whose generated parts every proxy view shares (see {@link PushContext}).
 *
 * <p>Every generator entry point runs inside the same guard: a throw anywhere fails the whole type
 * for that proxy ({@link Generation#failed}), so nothing is sent and the proxy keeps what it has.
 */
public final class Generators {
  private static final System.Logger LOG = System.getLogger(Generators.class.getName());
  private final boolean failoverWithoutOutlierDetection;
  private final GeneratorProbe probe;
  private final boolean caching;
  /** This control plane's memory of automatic addresses, shared by every snapshot's context. */
  private final AddressBook addressBook;
  /** Roots per trust domain for each snapshot's mTLS validation contexts. */
  private final PushContext.TrustSource trustSource;
  /** The JWT issuers' keys for each snapshot's jwt_authn filters. */
  private final weft.xds.authn.JwksSource jwks;
  /** The newest snapshot's context and the one before; replaced only under this object's lock. */
  private volatile PushContext latest;
  private volatile PushContext previous;

  public Generators() {
    this(false);
  }

  /** @param failoverWithoutOutlierDetection apply locality priorities even without outlier detection */
  public Generators(boolean failoverWithoutOutlierDetection) {
    this(failoverWithoutOutlierDetection, GeneratorProbe.NONE, true);
  }

  /**
   * @param probe told at each generator entry point (tests inject failures through it)
   * @param caching share generated parts between proxies and snapshots; off, every resource is
   *     generated afresh from the proxy's own view (to check that caching changes no byte)
   */
  public Generators(boolean failoverWithoutOutlierDetection, GeneratorProbe probe, boolean caching) {
    this(failoverWithoutOutlierDetection, probe, caching, new AddressBook());
  }

  /** @param addressBook where automatic addresses start from (file mode: what the state file held) */
  public Generators(boolean failoverWithoutOutlierDetection, GeneratorProbe probe, boolean caching,
      AddressBook addressBook) {
    this(failoverWithoutOutlierDetection, probe, caching, addressBook, PushContext.TrustSource.NONE);
  }

  /**
   * @param trustSource the roots of each trust domain for a snapshot: Envoy's mTLS contexts then
   *     validate a peer against the roots of its own SPIFFE trust domain only
   */
  public Generators(boolean failoverWithoutOutlierDetection, GeneratorProbe probe, boolean caching,
      AddressBook addressBook, PushContext.TrustSource trustSource) {
    this(failoverWithoutOutlierDetection, probe, caching, addressBook, trustSource, weft.xds.authn.JwksSource.NONE);
  }

  /** @param jwks the JWT issuers' keys the control plane fetched (see {@link weft.xds.authn.JwksFetcher}) */
  public Generators(boolean failoverWithoutOutlierDetection, GeneratorProbe probe, boolean caching,
      AddressBook addressBook, PushContext.TrustSource trustSource, weft.xds.authn.JwksSource jwks) {
    this.jwks = jwks;
    this.failoverWithoutOutlierDetection = failoverWithoutOutlierDetection;
    this.probe = probe;
    this.caching = caching;
    this.addressBook = addressBook;
    this.trustSource = trustSource;
  }

  /**
   * A new snapshot was published: its context keeps the previous context's parts that
   * {@code change} cannot have touched (hosts named in it, everything on a config or full change)
   * and drops those of hosts that are gone.
   */
  public synchronized void onSnapshot(MeshSnapshot snapshot, ChangeEvent change) {
    PushContext prev = latest;
    if (prev != null && prev.snapshot() == snapshot) return;
    previous = prev;
    // A change event describes the step from the snapshot just before: parts are carried only
    // across that one step, never across a gap nothing described.
    boolean oneStep = prev != null && snapshot.version() == prev.snapshot().version() + 1;
    latest = oneStep && caching ? prev.next(snapshot, change) : fresh(snapshot);
  }

  private PushContext fresh(MeshSnapshot snapshot) {
    return PushContext.of(snapshot, addressBook, trustSource, jwks, caching);
  }

  /** The shared context of a snapshot. */
  public PushContext context(MeshSnapshot snapshot) {
    PushContext c = latest;
    if (c != null && c.snapshot() == snapshot) return c;
    PushContext p = previous;
    if (p != null && p.snapshot() == snapshot) return p;
    synchronized (this) {
      c = latest;
      if (c != null && c.snapshot() == snapshot) return c;
      // A snapshot no change announced yet (the first, or one published a moment before its event).
      PushContext made = fresh(snapshot);
      if (c == null || snapshot.version() > c.snapshot().version()) {
        previous = c;
        latest = made;
      }
      return made;
    }
  }

  /** A view of the snapshot for one proxy, over the context every proxy's view of it shares. */
  public ProxyView view(MeshSnapshot snapshot, Proxy proxy) {
    return new ProxyView(context(snapshot), proxy);
  }

  /**
   * Resources of one type for the requested names, sorted by name; a failure if any part of the
   * generation threw (then nothing of this type may be sent to the proxy).
   */
  public Generation generate(String typeUrl, ProxyView view, Collection<String> names) {
    try {
      SortedMap<String, Generated> named = generateNamed(typeUrl, view, names);
      // Envoy's listeners and clusters are patched whole in generateEverything (ADD patches need the
      // whole set); for proxyless clients this only records that extensions selecting them do not apply.
      if (typeUrl.equals(TypeUrls.ROUTE) || view.proxy().proxyless()) named = ProxyExtensions.apply(typeUrl, view, named);
      return Generation.ok(named);
    } catch (RuntimeException e) {
      return failed(typeUrl, view, e);
    }
  }

  /** Everything of a type the proxy may see, for a wildcard subscription; a failure as above. */
  public Generation generateAll(String typeUrl, ProxyView view) {
    try {
      SortedMap<String, Generated> all = generateEverything(typeUrl, view);
      if (view.proxy().proxyless()) all = ProxyExtensions.apply(typeUrl, view, all);
      return Generation.ok(all);
    } catch (RuntimeException e) {
      return failed(typeUrl, view, e);
    }
  }

  /** The generator's name for the probe, logs and tests: {@code envoy-clusters}, {@code grpc-routes}… */
  public static String generatorName(String typeUrl, boolean proxyless) {
    if (typeUrl.equals(TypeUrls.NAME_TABLE)) return "name-table";
    if (typeUrl.equals(TypeUrls.SECRET)) return "secrets";
    return (proxyless ? "grpc-" : "envoy-") + switch (typeUrl) {
      case TypeUrls.LISTENER -> "listeners";
      case TypeUrls.ROUTE -> "routes";
      case TypeUrls.CLUSTER -> "clusters";
      case TypeUrls.ENDPOINT -> "endpoints";
      default -> "other";
    };
  }

  private SortedMap<String, Generated> generateNamed(String typeUrl, ProxyView view, Collection<String> names) {
    boolean proxyless = view.proxy().proxyless();
    if (typeUrl.equals(TypeUrls.SECRET)) {
      // Per proxy and never shared: who may have a Secret depends on the identity it proved.
      probe.entering(generatorName(typeUrl, proxyless));
      return weft.xds.sds.SecretResources.generated(view, names);
    }
    if (typeUrl.equals(TypeUrls.NAME_TABLE)) {
      SortedMap<String, Generated> table = nameTable(view);
      table.keySet().retainAll(names);
      return table;
    }
    if (typeUrl.equals(TypeUrls.LISTENER)) weft.xds.proxyconfig.ProxyConfigs.note(view);
    if (!proxyless && TypeUrls.isFullState(typeUrl)) {
      // Envoy's listeners and clusters are generated as a whole (they depend on each other's set).
      SortedMap<String, Generated> all = generateEverything(typeUrl, view);
      all.keySet().retainAll(names);
      return all;
    }
    probe.entering(generatorName(typeUrl, proxyless));
    if (proxyless && typeUrl.equals(TypeUrls.LISTENER)) weft.xds.telemetry.ListenerTelemetry.noteProxyless(view);
    if (typeUrl.equals(TypeUrls.ENDPOINT) && names.size() >= MESH_WIDE_FROM) {
      // A full-mesh sidecar's assignments: the same for every proxy with an equal key, so the
      // thousand lookups behind them are made once per snapshot, not once per proxy.
      List<String> listed = names instanceof List<String> l ? l : List.copyOf(names);
      return view.meshWidePart(generatorName(typeUrl, proxyless), listed,
          v -> Collections.unmodifiableSortedMap(generateEach(typeUrl, v, listed)));
    }
    return generateEach(typeUrl, view, names);
  }

  /** From how many names a request's assignments are shared whole between proxies. */
  static final int MESH_WIDE_FROM = 32;

  private SortedMap<String, Generated> generateEach(String typeUrl, ProxyView view, Collection<String> names) {
    SortedMap<String, Generated> out = new TreeMap<>();
    for (String name : names) {
      Generated resource = generateOne(typeUrl, view, name);
      if (resource != null) out.put(name, resource);
    }
    return out;
  }

  private SortedMap<String, Generated> generateEverything(String typeUrl, ProxyView view) {
    if (typeUrl.equals(TypeUrls.NAME_TABLE)) return nameTable(view);
    // Secrets are sent by name only (as Istio does): a wildcard asks for none.
    if (typeUrl.equals(TypeUrls.SECRET)) return new TreeMap<>();
    if (!view.proxy().proxyless()) {
      probe.entering(generatorName(typeUrl, false));
      // EnvoyFilters and WasmPlugins apply last, on what the shared parts made (see ProxyExtensions).
      return switch (typeUrl) {
        case TypeUrls.LISTENER -> ProxyExtensions.apply(typeUrl, view, EnvoyListeners.generated(view));
        case TypeUrls.CLUSTER -> ProxyExtensions.apply(typeUrl, view, EnvoyClusters.generated(view));
        default -> new TreeMap<>();
      };
    }
    // Proxyless clients name what they want; only clusters have a meaningful "all" for them.
    Set<String> names = new TreeSet<>();
    if (typeUrl.equals(TypeUrls.CLUSTER)) {
      for (ServiceView service : view.visibleServices()) {
        String host = service.service().hostname();
        for (var p : service.service().ports()) names.add(ClusterName.outbound(p.number(), "", host).toString());
      }
    }
    return generateNamed(typeUrl, view, names);
  }

  /** The name table of a proxy that proxies DNS; nothing for the others (the same for Envoy and proxyless). */
  private SortedMap<String, Generated> nameTable(ProxyView view) {
    probe.entering(generatorName(TypeUrls.NAME_TABLE, view.proxy().proxyless()));
    return NameTables.generated(view);
  }

  /**
   * A generator threw: nothing of this type goes to the proxy, which keeps what it has. Logged with
   * the proxy; the connection records the reason per proxy and counts it.
   */
  private static Generation failed(String typeUrl, ProxyView view, RuntimeException e) {
    String reason = "internal error while generating " + TypeUrls.shortName(typeUrl) + ": " + e;
    LOG.log(System.Logger.Level.ERROR, "generating " + TypeUrls.shortName(typeUrl) + " for "
        + weft.model.text.ClientText.forLog(view.proxy().id()) + " failed; nothing of this type is sent until a later change generates it cleanly", e);
    return Generation.failed(reason);
  }

  /**
   * One named resource. Parts that many proxies share are taken from the context's cache, keyed
   * by what they depend on: a service's clusters and assignments by host, listeners and routes by
   * the proxy's routing key. Per-proxy ones (a router's, a proxyless server's inbound listener)
   * are generated for the proxy alone.
   */
  private Generated generateOne(String typeUrl, ProxyView view, String name) {
    if (!view.proxy().proxyless()) {
      return switch (typeUrl) {
        case TypeUrls.ROUTE -> EnvoyRoutes.generated(view, name);
        case TypeUrls.ENDPOINT -> Assignments.generated(view, name, view.context().parts(),
            Assignments.NetworkRule.SPLIT_HORIZON, failoverWithoutOutlierDetection);
        default -> null;
      };
    }
    return switch (typeUrl) {
      case TypeUrls.LISTENER -> name.startsWith(GrpcListeners.INBOUND_PREFIX)
          ? packed(GrpcListeners.generate(view, name))
          : routing(view, "grpc-listeners", name, HostPort.hostOf(name), v -> GrpcListeners.generate(v, name));
      case TypeUrls.ROUTE -> routing(view, "grpc-routes", name, HostPort.hostOf(name), v -> GrpcRoutes.generate(v, name));
      case TypeUrls.CLUSTER -> grpcCluster(view, name);
      case TypeUrls.ENDPOINT -> Assignments.generated(view, name, view.context().parts(),
          Assignments.NetworkRule.OWN_NETWORK_ONLY, failoverWithoutOutlierDetection);
      default -> null;
    };
  }

  private static Generated packed(Any any) {
    return any == null ? null : Generated.of(any);
  }

  /** A part that reads service definitions and config: shared when its host exists (names are the client's). */
  private static Generated routing(ProxyView view, String generator, String name, String host,
      java.util.function.Function<ProxyView, Any> generate) {
    if (host == null || view.snapshot().service(host) == null) return packed(generate.apply(view));
    return view.routingPart(generator, name, v -> packed(generate.apply(v)));
  }

  /** A proxyless cluster reads its service's endpoints (SANs, auto mTLS): shared per host. */
  private static Generated grpcCluster(ProxyView view, String name) {
    ClusterName cn = ClusterName.parse(name);
    ServiceView service = cn == null ? null : view.snapshot().service(cn.host());
    if (service == null) return packed(GrpcClusters.generate(view, name));
    return view.hostPart("grpc-clusters", name, service, v -> packed(GrpcClusters.generate(v, name)));
  }
  /**
   * Whether a change can alter resources of this type for a kind of client. Endpoint-only changes
   * touch EDS alone (the connection adds Envoy's inbound and DNS cases); for proxyless clients
   * routing config never changes listeners, since the fault filter is always there. Secrets change
   * SDS alone. A name table follows endpoints too (headless services' pod IPs); an unchanged table is not sent again.
   */
  /** The kinds whose change can change a Gateway API listener's verified certificates. */
  private static final java.util.Set<String> GATEWAY_API_KINDS = java.util.Set.of("KubernetesGateway",
      "ReferenceGrant");

  public static boolean affects(String typeUrl, ChangeEvent change, boolean proxyless) {
    // SDS reads Secrets (and ReferenceGrants); Secrets are read by nothing else.
    // Gateway API objects decide which certificates a gateway may have (kubernetes-gateway://).
    if (typeUrl.equals(TypeUrls.SECRET)) {
      return change.full() || !change.secrets().isEmpty()
          || change.configs().stream().anyMatch(id -> GATEWAY_API_KINDS.contains(id.kind()));
    }
    if (change.secretsOnly()) return false;
    if (change.full() || !change.serviceHosts().isEmpty()) return true;
    if (typeUrl.equals(TypeUrls.NAME_TABLE)) return !change.isEmpty();
    boolean vs = false;
    boolean dr = false;
    boolean gateway = false;
    for (ResourceId id : change.configs()) {
      switch (id.kind()) {
        case "VirtualService" -> vs = true;
        case "DestinationRule" -> dr = true;
        case "Gateway" -> gateway = true;
        default -> {
          return true; // Sidecar, security policy, a whole cluster's config: anything may change.
        }
      }
    }
    return switch (typeUrl) {
      case TypeUrls.ENDPOINT -> !change.endpointHosts().isEmpty() || dr;
      case TypeUrls.CLUSTER -> dr;
      case TypeUrls.ROUTE -> vs || dr || gateway;
      // Envoy listeners carry TCP routes, gateway servers and per-subset SNI chains.
      case TypeUrls.LISTENER -> !proxyless && (vs || dr || gateway);
      default -> false;
    };
  }
}
