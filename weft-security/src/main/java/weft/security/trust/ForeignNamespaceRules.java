package weft.security.trust;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;
import weft.model.AuthorizationPolicy;
import weft.model.ConfigProblem;

/**
 * Findings on ALLOW rules that admit other meshes' workloads without saying so. Istio matches a
 * {@code namespaces} value in any trust domain ({@code .*}{@code /ns/NS/.*}), and Weft keeps that
 * meaning; but once roots of another trust domain are trusted (MeshConfig {@code caCertificates}
 * for a domain that is not ours or an alias, later a federated peer), {@code namespaces: [default]}
 * also lets in that domain's {@code default} namespace. A source that also names {@code principals}
 * or {@code trustDomains} is not reported: it already says which domains it means.
 */
public final class ForeignNamespaceRules {
  /** What the findings name as their origin: the trust that makes the rule reach further. */
  public static final String SOURCE = "trust between meshes";

  private ForeignNamespaceRules() {}

  /**
   * @param policies the mesh's AuthorizationPolicies
   * @param foreignDomains trust domains whose roots are trusted and that are neither ours nor an alias
   * @return one warning per source of an ALLOW rule whose namespaces would admit those domains' identities
   */
  public static List<ConfigProblem> findings(List<AuthorizationPolicy> policies, Collection<String> foreignDomains) {
    if (foreignDomains.isEmpty()) return List.of();
    List<String> foreign = List.copyOf(new TreeSet<>(foreignDomains));
    List<ConfigProblem> out = new ArrayList<>();
    for (AuthorizationPolicy p : policies) {
      String action = p.action() == null || p.action().isEmpty() ? "ALLOW" : p.action();
      if (!action.equals("ALLOW")) continue; // DENY with namespaces denies more, never admits
      for (int i = 0; i < p.rules().size(); i++) {
        List<AuthorizationPolicy.From> froms = p.rules().get(i).from();
        for (int j = 0; j < froms.size(); j++) {
          AuthorizationPolicy.Source s = froms.get(j).source();
          if (s == null || s.namespaces().isEmpty() || !s.principals().isEmpty() || !s.trustDomains().isEmpty()) {
            continue;
          }
          List<String> admitted = foreign.stream().filter(d -> !s.notTrustDomains().contains(d)).toList();
          if (admitted.isEmpty()) continue;
          out.add(ConfigProblem.warning(SOURCE, p.id(), "spec.rules[" + i + "].from[" + j + "].source.namespaces",
              "namespaces " + s.namespaces() + " also admits workloads of trust domain(s) " + admitted
                  + " in those namespaces (Istio matches a namespace in any trust domain, and their roots are "
                  + "trusted): add trustDomains (our own) or principals to this source if only this mesh's "
                  + "workloads are meant"));
        }
      }
    }
    return List.copyOf(out);
  }
}
