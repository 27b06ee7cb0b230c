package weft.model;

import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * A {@code security.istio.io} PeerAuthentication: which mutual-TLS mode the selected workloads accept on
 * inbound connections.
 *
 * <p>{@code selector} is the workload selector's {@code matchLabels}, or null when the policy applies to
 * every workload of its namespace (to the whole mesh in Istio's root namespace); a selector without labels
 * is read as null, as Istio reads it. {@code mode} is UNSET (inherit from the namespace or mesh policy;
 * PERMISSIVE when there is none), DISABLE, PERMISSIVE or STRICT; UNSET when {@code mtls} or its mode is
 * absent. {@code portLevelMtls} maps a workload (container) port, not a Service port, to its mode, in port
 * order; it is only ever non-empty with a selector.
 */
public record PeerAuthentication(ResourceId id, Map<String, String> selector, String mode,
    Map<Integer, String> portLevelMtls) implements Resource {
  public PeerAuthentication {
    selector = selector == null ? null : Map.copyOf(selector);
    portLevelMtls = Collections.unmodifiableMap(new TreeMap<>(portLevelMtls));
  }
}
