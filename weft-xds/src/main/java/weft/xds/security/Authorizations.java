package weft.xds.security;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import weft.model.AuthorizationPolicy;
import weft.model.Labels;

/**
 * The AuthorizationPolicies that apply to a workload, as Istio's ListAuthorizationPolicies picks
 * them for a sidecar or proxyless server: those in its own namespace and in the root namespace
 * whose selector matches its labels or who have none (a root-namespace policy without selector
 * covers the whole mesh; one with a selector covers matching workloads in every namespace).
 * Policies attached by {@code targetRefs} apply to gateways and waypoints only, never here.
 */
public final class Authorizations {
  private Authorizations() {}

  /** The applicable policies in resource-id order. */
  public static List<AuthorizationPolicy> forWorkload(SecurityPolicies policies, String rootNamespace,
      String namespace, Map<String, String> labels, BiConsumer<String, String> drop) {
    List<AuthorizationPolicy> out = new ArrayList<>();
    for (AuthorizationPolicy p : policies.authorizationPolicies()) {
      String ns = p.id().namespace();
      if (!ns.equals(namespace) && !ns.equals(rootNamespace)) continue;
      if (!p.targetRefs().isEmpty()) {
        drop.accept(p.id().toString(), "attached by targetRefs " + p.targetRefs()
            + ", which applies it to gateways and waypoints, not to this workload");
        continue;
      }
      if (p.selector() != null && !Labels.matches(p.selector(), labels)) continue;
      out.add(p);
    }
    return out;
  }
}
