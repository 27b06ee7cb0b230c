package weft.xds.security;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Istio's rule for principals and trust-domain aliases (MeshConfig {@code trustDomainAliases}): a
 * principal of our trust domain, of an alias, or of {@code cluster.local} (Istio's name for "the
 * local trust domain") stands for the same identity under each of our names; a principal of any
 * other trust domain (a federated mesh's) is matched exactly as written, and one whose trust domain
 * is {@code *} or that does not have the {@code TD/ns/NS/sa/SA} form is left alone.
 *
 * @param trustDomain our trust domain
 * @param aliases its other names
 */
public record TrustDomainAliases(String trustDomain, List<String> aliases) {
  /** Istio's default trust domain, which a policy may use to mean "ours" whatever ours is called. */
  static final String CLUSTER_LOCAL = "cluster.local";
  /** No expansion at all: principals are matched as written. */
  public static final TrustDomainAliases NONE = new TrustDomainAliases(null, List.of());

  public TrustDomainAliases {
    aliases = List.copyOf(aliases);
  }

  /** Each principal, and for ours its twins under every name of our trust domain; order kept, no duplicates. */
  public List<String> expand(List<String> principals) {
    if (trustDomain == null || principals.isEmpty()) return principals;
    List<String> names = new ArrayList<>();
    names.add(trustDomain);
    aliases.forEach(a -> { if (!names.contains(a)) names.add(a); });
    Set<String> out = new LinkedHashSet<>();
    for (String p : principals) {
      String[] parts = p.split("/", -1);
      // Only the full TD/ns/NS/sa/SA form with a literal trust domain names a trust domain to rewrite.
      if (parts.length != 5 || parts[0].isEmpty() || parts[0].contains("*") || !"ns".equals(parts[1])) {
        out.add(p);
        continue;
      }
      String domain = parts[0];
      if (!names.contains(domain) && !domain.equals(CLUSTER_LOCAL)) {
        out.add(p); // a foreign identity: exactly this one
        continue;
      }
      String rest = p.substring(domain.length());
      for (String name : names) out.add(name + rest);
    }
    return List.copyOf(out);
  }
}
