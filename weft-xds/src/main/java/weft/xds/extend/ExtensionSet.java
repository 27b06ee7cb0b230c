package weft.xds.extend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import weft.model.EnvoyFilter;
import weft.model.Labels;
import weft.model.WasmPlugin;
import weft.registry.MeshSnapshot;
import weft.xds.proxy.Proxy;

/**
 * The EnvoyFilters and WasmPlugins that apply to one proxy, in the order they apply, with what of
 * the proxy their matches read (its kind and Istio version). Two proxies with equal sets get the
 * same patched resources from the same generated ones, so it is the cache key of patched output:
 * proxies that share unpatched parts (an equal routing key) but differ in the filters selecting them
 * never share patched parts.
 *
 * <p>EnvoyFilter order is Istio's (pilot's PushContext.EnvoyFilters): by {@code priority}, lower
 * first; at equal priority the root namespace's before the workload namespace's; then by creation
 * time; then by name and namespace. WasmPlugins are ordered per phase by priority, higher first,
 * then by namespace and name (Istio's deterministic tie-break).
 */
public record ExtensionSet(String proxyKind, String istioVersion, List<EnvoyFilter> envoyFilters,
    List<WasmPlugin> wasmPlugins) {
  public ExtensionSet {
    envoyFilters = List.copyOf(envoyFilters);
    wasmPlugins = List.copyOf(wasmPlugins);
  }

  public boolean isEmpty() {
    return envoyFilters.isEmpty() && wasmPlugins.isEmpty();
  }

  public boolean router() {
    return "router".equals(proxyKind);
  }

  /** What applies to {@code proxy} in {@code snapshot}. */
  public static ExtensionSet of(MeshSnapshot snapshot, Proxy proxy) {
    MeshSnapshot.MeshConfiguration config = snapshot.config();
    String root = snapshot.meshConfig().rootNamespace();
    List<EnvoyFilter> filters = new ArrayList<>();
    for (EnvoyFilter f : config.envoyFilters()) {
      if (f.targetRefs().isEmpty() && selects(f.id().namespace(), f.selector(), root, proxy)) filters.add(f);
    }
    filters.sort(Comparator.<EnvoyFilter>comparingInt(EnvoyFilter::priority)
        .thenComparing(f -> f.id().namespace().equals(root) ? 0 : 1)
        .thenComparingLong(EnvoyFilter::createdEpochSecond)
        .thenComparing(f -> f.id().name() + "." + f.id().namespace()));
    List<WasmPlugin> plugins = new ArrayList<>();
    for (WasmPlugin p : config.wasmPlugins()) {
      boolean attached = p.targetRefs().isEmpty() ? selects(p.id().namespace(), p.selector(), root, proxy)
          : targetsGateway(p, proxy);
      if (attached) plugins.add(p);
    }
    plugins.sort(Comparator.<WasmPlugin>comparingInt(p -> p.priority() == null ? 0 : -p.priority())
        .thenComparing(p -> p.id().namespace())
        .thenComparing(p -> p.id().name()));
    return new ExtensionSet(proxy.kind(), proxy.istioVersion(), filters, plugins);
  }

  /**
   * A resource in the root namespace applies mesh-wide, one in the proxy's namespace to it; a
   * selector narrows by labels. An EnvoyFilter with {@code targetRefs} is for waypoints, which Weft
   * does not run: it selects no proxy (Istio's sidecars skip it too).
   */
  private static boolean selects(String namespace, java.util.Map<String, String> selector, String root, Proxy proxy) {
    if (!namespace.equals(root) && !namespace.equals(proxy.namespace())) return false;
    return selector == null || Labels.matches(selector, proxy.labels());
  }

  /** Istio's label on the pods of a Gateway API gateway: a {@code Gateway/NAME} target ref selects them. */
  static final String GATEWAY_NAME_LABEL = "gateway.networking.k8s.io/gateway-name";

  /** A WasmPlugin attached to a Gateway API gateway of its namespace, by the gateway-name label of its pods. */
  private static boolean targetsGateway(WasmPlugin p, Proxy proxy) {
    if (!p.id().namespace().equals(proxy.namespace())) return false;
    String gateway = proxy.labels().get(GATEWAY_NAME_LABEL);
    return gateway != null && p.targetRefs().contains("Gateway/" + gateway);
  }
}
