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
 * covers the whole mesh; one with a selector covers matching workloads in every namespace). Gateways'
 * pods are workloads too. A policy attached by {@code targetRefs} applies to the pods of the Gateway
 * API Gateway it names ({@link PolicyAttachment}), never to sidecars.
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
        // Attached rather than selected: to this proxy only if it is a pod of a named Gateway.
        if (PolicyAttachment.attached(p.targetRefs(), ns, namespace, labels, why -> drop.accept(p.id().toString(), why))) {
          out.add(p);
        }
        continue;
      }
      if (p.selector() != null && !Labels.matches(p.selector(), labels)) continue;
      out.add(p);
    }
    return out;
  }
}
