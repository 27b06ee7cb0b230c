package weft.xds.grpcgen;

import com.google.protobuf.Any;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import weft.registry.ServiceView;

/**
 * Endpoint assignments are the hot path: one endpoint change goes to every proxy watching the
 * service, and most of those proxies see the same assignment. Entries are keyed by the
 * {@link ServiceView} instance, which the registry replaces only when the host changes, so a new
 * snapshot invalidates exactly the hosts it touched.
 */
public final class EndpointCache {
  private record Entry(ServiceView view, Object policy, Map<String, Generated> variants) {}

  /** An assignment and, when the generator dropped something, why. */
  public record Generated(Any resource, String dropped) {}

  private final Map<String, Entry> byHost = new ConcurrentHashMap<>();

  /**
   * @param policy the DestinationRule in force (subsets), compared by identity like the view
   * @param variant everything else the assignment depends on (cluster name, the proxy's network…)
   */
  public Generated get(String host, ServiceView view, Object policy, String variant, Supplier<Generated> build) {
    Entry e = byHost.compute(host, (h, old) ->
        old != null && old.view == view && old.policy == policy ? old : new Entry(view, policy, new ConcurrentHashMap<>()));
    return e.variants.computeIfAbsent(variant, v -> build.get());
  }

  /** Drops hosts that no longer exist, so the cache never outgrows the mesh. */
  public void retainHosts(java.util.Set<String> hosts) {
    byHost.keySet().retainAll(hosts);
  }
}
