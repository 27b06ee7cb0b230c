package weft.xds;

import com.google.protobuf.Any;
import java.util.Collection;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import weft.model.ResourceId;
import weft.registry.ChangeEvent;
import weft.registry.MeshSnapshot;
import weft.xds.proxy.Proxy;
import weft.xds.envoygen.EnvoyClusters;
import weft.xds.envoygen.EnvoyEndpoints;
import weft.xds.envoygen.EnvoyListeners;
import weft.xds.envoygen.EnvoyRoutes;
import weft.xds.grpcgen.EndpointCache;
import weft.xds.grpcgen.GrpcClusters;
import weft.xds.grpcgen.GrpcEndpoints;
import weft.xds.grpcgen.GrpcListeners;
import weft.xds.grpcgen.GrpcRoutes;
import weft.xds.view.ProxyView;

/** Chooses the generator for a type and says which changes a type can ignore. */
public final class Generators {
  private static final System.Logger LOG = System.getLogger(Generators.class.getName());
  private final EndpointCache endpointCache = new EndpointCache();
  private final boolean failoverWithoutOutlierDetection;

  public Generators() {
    this(false);
  }

  /** @param failoverWithoutOutlierDetection apply locality priorities even without outlier detection */
  public Generators(boolean failoverWithoutOutlierDetection) {
    this.failoverWithoutOutlierDetection = failoverWithoutOutlierDetection;
  }

  public EndpointCache endpointCache() {
    return endpointCache;
  }

  /** A view of the snapshot for one proxy, on which this generator's output for it depends. */
  public ProxyView view(MeshSnapshot snapshot, Proxy proxy) {
    return new ProxyView(snapshot, proxy);
  }

  /**
   * Resources of one type for the requested names, sorted by name; a failure if any part of the
   * generation threw (then nothing of this type may be sent to the proxy).
   */
  public Generation generate(String typeUrl, ProxyView view, Collection<String> names) {
    try {
      return Generation.ok(wrap(generateAny(typeUrl, view, names)));
    } catch (RuntimeException e) {
      return failed(typeUrl, view, e);
    }
  }

  /** Everything of a type the proxy may see, for a wildcard subscription; a failure as above. */
  public Generation generateAll(String typeUrl, ProxyView view) {
    try {
      return Generation.ok(wrap(generateAllAny(typeUrl, view)));
    } catch (RuntimeException e) {
      return failed(typeUrl, view, e);
    }
  }

  private static SortedMap<String, Generated> wrap(SortedMap<String, Any> resources) {
    SortedMap<String, Generated> out = new TreeMap<>();
    resources.forEach((name, any) -> out.put(name, Generated.of(any)));
    return out;
  }

  private SortedMap<String, Any> generateAny(String typeUrl, ProxyView view, Collection<String> names) {
    if (!view.proxy().proxyless() && TypeUrls.isFullState(typeUrl)) {
      // Envoy's listeners and clusters are generated as a whole (they depend on each other's set).
      SortedMap<String, Any> all = generateAllAny(typeUrl, view);
      all.keySet().retainAll(names);
      return all;
    }
    SortedMap<String, Any> out = new TreeMap<>();
    for (String name : names) {
      Any resource = generateOne(typeUrl, view, name);
      if (resource != null) out.put(name, resource);
    }
    return out;
  }

  private SortedMap<String, Any> generateAllAny(String typeUrl, ProxyView view) {
    if (!view.proxy().proxyless()) {
      return switch (typeUrl) {
        case TypeUrls.LISTENER -> EnvoyListeners.all(view);
        case TypeUrls.CLUSTER -> EnvoyClusters.all(view);
        default -> new TreeMap<>();
      };
    }
    // Proxyless clients name what they want; only clusters have a meaningful "all" for them.
    Set<String> names = new TreeSet<>();
    if (typeUrl.equals(TypeUrls.CLUSTER)) {
      for (String host : view.snapshot().services().keySet()) {
        var service = view.service(host);
        if (service == null) continue;
        for (var p : service.service().ports()) names.add(ClusterName.outbound(p.number(), "", host).toString());
      }
    }
    return generateAny(typeUrl, view, names);
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

  private Any generateOne(String typeUrl, ProxyView view, String name) {
    if (!view.proxy().proxyless()) {
      return switch (typeUrl) {
        case TypeUrls.ROUTE -> EnvoyRoutes.generate(view, name);
        case TypeUrls.ENDPOINT -> EnvoyEndpoints.generate(view, name, endpointCache, failoverWithoutOutlierDetection);
        default -> null;
      };
    }
    return switch (typeUrl) {
      case TypeUrls.LISTENER -> GrpcListeners.generate(view, name);
      case TypeUrls.ROUTE -> GrpcRoutes.generate(view, name);
      case TypeUrls.CLUSTER -> GrpcClusters.generate(view, name);
      case TypeUrls.ENDPOINT -> GrpcEndpoints.generate(view, name, endpointCache, failoverWithoutOutlierDetection);
      default -> null;
    };
  }

  /**
   * Whether a change can alter resources of this type for a kind of client. Endpoint-only changes
   * touch EDS alone (the connection adds Envoy's inbound and DNS cases); for proxyless clients
   * routing config never changes listeners, since the fault filter is always there.
   */
  public static boolean affects(String typeUrl, ChangeEvent change, boolean proxyless) {
    if (change.full() || !change.serviceHosts().isEmpty()) return true;
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
