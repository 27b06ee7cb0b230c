package weft.model;

import java.util.List;
import java.util.Map;

/**
 * A {@code security.istio.io} RequestAuthentication: which JWT issuers the selected workloads accept.
 * Weft reads, checks and keeps it (so a later version can enforce it, and so tools see it) but does not
 * enforce it yet; the parser says so with a warning.
 *
 * <p>{@code selector} is the workload selector's {@code matchLabels}, or null for every workload of the
 * namespace (the mesh, in the root namespace); {@code targetRefs} lists {@code Kind/name} as for
 * {@link AuthorizationPolicy}. {@code issuers} are the rules' issuers, in order.
 */
public record RequestAuthentication(ResourceId id, Map<String, String> selector, List<String> targetRefs,
    List<String> issuers) implements Resource {
  public RequestAuthentication {
    selector = selector == null ? null : Map.copyOf(selector);
    targetRefs = List.copyOf(targetRefs);
    issuers = List.copyOf(issuers);
  }
}
