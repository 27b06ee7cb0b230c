package weft.xds.diag;

import weft.model.AuthorizationPolicy;

/**
 * Whether an authorization rule matches a source judged by its identity and namespace alone:
 * {@code DEPENDS} when the source matches but the rule also checks the request (or the source by
 * address or JWT, which only the request tells).
 */
enum SourceMatch {
  YES, NO, DEPENDS;

  static SourceMatch matches(AuthorizationPolicy.Rule rule, String principal, String namespace) {
    boolean requestDependent = !rule.to().isEmpty() || !rule.when().isEmpty();
    if (rule.from().isEmpty()) return requestDependent ? DEPENDS : YES;
    for (AuthorizationPolicy.From f : rule.from()) {
      AuthorizationPolicy.Source s = f.source();
      if (!s.principals().isEmpty() && (principal == null || s.principals().stream().noneMatch(p -> glob(p, principal)))) {
        continue;
      }
      if (principal != null && s.notPrincipals().stream().anyMatch(p -> glob(p, principal))) continue;
      if (!s.namespaces().isEmpty() && (principal == null || s.namespaces().stream().noneMatch(n -> glob(n, namespace)))) {
        continue;
      }
      if (principal != null && s.notNamespaces().stream().anyMatch(n -> glob(n, namespace))) continue;
      boolean other = !s.requestPrincipals().isEmpty() || !s.ipBlocks().isEmpty() || !s.remoteIpBlocks().isEmpty()
          || !s.serviceAccounts().isEmpty() || !s.trustDomains().isEmpty() || !s.notRequestPrincipals().isEmpty()
          || !s.notIpBlocks().isEmpty() || !s.notRemoteIpBlocks().isEmpty() || !s.notServiceAccounts().isEmpty()
          || !s.notTrustDomains().isEmpty();
      return requestDependent || other ? DEPENDS : YES;
    }
    return NO;
  }

  /** Istio's matching of principals and namespaces: exact, {@code *}, {@code prefix*} or {@code *suffix}. */
  private static boolean glob(String pattern, String value) {
    if (pattern.equals("*")) return !value.isEmpty();
    if (pattern.startsWith("*")) return value.endsWith(pattern.substring(1));
    if (pattern.endsWith("*")) return value.startsWith(pattern.substring(0, pattern.length() - 1));
    return pattern.equals(value);
  }
}
