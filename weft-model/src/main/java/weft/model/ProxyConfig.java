package weft.model;

import java.util.Map;

/**
 * A {@code networking.istio.io} ProxyConfig (v1beta1): settings for the proxies it selects. In the
 * root namespace without selector it is mesh-wide, elsewhere without one it covers its namespace,
 * with a selector those workloads; the most specific setting of each field wins (Istio's order).
 *
 * @param selector {@code selector.matchLabels}; null when none
 * @param concurrency worker threads; null when unset (0 means one per core, as in Istio)
 * @param image {@code image.imageType} (default, debug, distroless); null when unset
 * @param environmentVariables variables for the proxy's process, in written order
 */
public record ProxyConfig(ResourceId id, Map<String, String> selector, Integer concurrency, String image,
    Map<String, String> environmentVariables) implements Resource {
  public ProxyConfig {
    selector = selector == null || selector.isEmpty() ? null : Map.copyOf(selector);
    environmentVariables = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(environmentVariables));
  }
}
