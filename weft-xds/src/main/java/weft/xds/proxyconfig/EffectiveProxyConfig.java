package weft.xds.proxyconfig;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The ProxyConfig in force for one proxy: each field from the most specific resource that sets it.
 *
 * @param concurrency worker threads; null when no resource sets it
 * @param image {@code image.imageType}; null when unset
 * @param environmentVariables merged by name, a more specific resource's value winning
 * @param sources the resources that contributed, least specific first ({@code namespace/name})
 */
public record EffectiveProxyConfig(Integer concurrency, String image, Map<String, String> environmentVariables,
    List<String> sources) {
  public static final EffectiveProxyConfig NONE = new EffectiveProxyConfig(null, null, Map.of(), List.of());

  public EffectiveProxyConfig {
    environmentVariables = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(environmentVariables));
    sources = List.copyOf(sources);
  }

  /** The JSON shape shown per proxy in {@code /debug/status}. */
  public Map<String, Object> toMap() {
    Map<String, Object> out = new LinkedHashMap<>();
    if (concurrency != null) out.put("concurrency", concurrency);
    if (image != null) out.put("image", Map.of("imageType", image));
    if (!environmentVariables.isEmpty()) out.put("environmentVariables", environmentVariables);
    out.put("from", sources);
    return out;
  }
}
