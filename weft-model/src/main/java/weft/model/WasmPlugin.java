package weft.model;

import java.util.List;
import java.util.Map;

/**
 * An {@code extensions.istio.io/v1alpha1} WasmPlugin: a WebAssembly module inserted into the HTTP (or
 * network) filter chain of the workloads it selects, at a {@code phase} and {@code priority}.
 *
 * @param selector {@code selector.matchLabels}, or null for every workload of the namespace (the mesh,
 *     in the root namespace)
 * @param targetRefs {@code Kind/name} entries
 * @param url {@code http://}, {@code https://}, {@code file://} or {@code oci://} (a URL without a scheme is
 *     an OCI reference, as in Istio)
 * @param sha256 the module's digest, or empty
 * @param phase AUTHN, AUTHZ, STATS or UNSPECIFIED_PHASE
 * @param priority within a phase, higher first; null when unset (0, then name order)
 * @param pluginConfigJson {@code pluginConfig} as JSON text, or null
 * @param failStrategy FAIL_CLOSE, FAIL_OPEN or FAIL_RELOAD
 * @param type HTTP, NETWORK or UNSPECIFIED_PLUGIN_TYPE (HTTP)
 * @param match traffic selectors; empty matches all traffic
 * @param vmEnv {@code vmConfig.env} inline values by name (HOST values are reported, not sent)
 */
public record WasmPlugin(ResourceId id, Map<String, String> selector, List<String> targetRefs, String url,
    String sha256, String pluginName, String phase, Integer priority, String pluginConfigJson, String failStrategy,
    String type, List<TrafficSelector> match, Map<String, String> vmEnv) implements Resource {
  public WasmPlugin {
    selector = selector == null ? null : Map.copyOf(selector);
    targetRefs = List.copyOf(targetRefs);
    match = List.copyOf(match);
    vmEnv = Map.copyOf(vmEnv);
  }

  /** {@code match[]}: mode UNDEFINED, CLIENT, SERVER or CLIENT_AND_SERVER, and the ports (empty: all). */
  public record TrafficSelector(String mode, List<Integer> ports) {
    public TrafficSelector {
      ports = List.copyOf(ports);
    }
  }

  /** The scheme Istio reads the URL with: {@code oci} when none is given. */
  public String scheme() {
    int colon = url.indexOf("://");
    return colon < 0 ? "oci" : url.substring(0, colon).toLowerCase(java.util.Locale.ROOT);
  }
}
