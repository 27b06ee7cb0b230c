package weft.xds;

import com.google.protobuf.Any;
import java.util.Collection;
import java.util.SortedMap;
import java.util.TreeMap;
import weft.registry.ChangeEvent;
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

  /** Resources of one type for the requested names, sorted by name. */
  public SortedMap<String, Any> generate(String typeUrl, ProxyView view, Collection<String> names) {
    SortedMap<String, Any> out = new TreeMap<>();
    for (String name : names) {
      try {
        Any resource = generateOne(typeUrl, view, name);
        if (resource != null) out.put(name, resource);
      } catch (RuntimeException e) {
        // One bad resource must not cost the proxy the others; the reason shows in /debug/status.
        LOG.log(System.Logger.Level.ERROR, "generating " + TypeUrls.shortName(typeUrl) + " " + name + " for "
            + view.proxy().id() + " failed", e);
        view.drop(name, "internal error while generating: " + e);
      }
    }
    return out;
  }

  /**
   * Everything of a type the proxy may see, for a wildcard subscription. Proxyless clients name
   * what they want, so for them only clusters have a meaningful "all": every visible service port.
   */
  public SortedMap<String, Any> generateAll(String typeUrl, ProxyView view) {
    java.util.Set<String> names = new java.util.TreeSet<>();
    if (typeUrl.equals(TypeUrls.CLUSTER)) {
      for (String host : view.snapshot().services().keySet()) {
        var service = view.service(host);
        if (service == null) continue;
        for (var p : service.service().ports()) names.add(ClusterName.outbound(p.number(), "", host).toString());
      }
    }
    return generate(typeUrl, view, names);
  }

  private Any generateOne(String typeUrl, ProxyView view, String name) {
    return switch (typeUrl) {
      case TypeUrls.LISTENER -> GrpcListeners.generate(view, name);
      case TypeUrls.ROUTE -> GrpcRoutes.generate(view, name);
      case TypeUrls.CLUSTER -> GrpcClusters.generate(view, name);
      case TypeUrls.ENDPOINT -> GrpcEndpoints.generate(view, name, endpointCache, failoverWithoutOutlierDetection);
      default -> null;
    };
  }

  /**
   * Whether a change can alter resources of this type. Endpoint-only changes touch EDS alone;
   * routing config never changes listeners (the fault filter is always there).
   */
  public static boolean affects(String typeUrl, ChangeEvent change) {
    if (change.full() || !change.serviceHosts().isEmpty()) return true;
    boolean sidecar = change.configs().stream().anyMatch(id -> id.kind().equals("Sidecar"));
    if (sidecar) return true;
    boolean vs = change.configs().stream().anyMatch(id -> id.kind().equals("VirtualService"));
    boolean dr = change.configs().stream().anyMatch(id -> id.kind().equals("DestinationRule"));
    return switch (typeUrl) {
      case TypeUrls.ENDPOINT -> !change.endpointHosts().isEmpty() || dr;
      case TypeUrls.CLUSTER -> dr;
      case TypeUrls.ROUTE -> vs || dr;
      default -> false;
    };
  }
}
