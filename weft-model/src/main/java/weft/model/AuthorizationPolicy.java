package weft.model;

import java.util.List;
import java.util.Map;

/**
 * A {@code security.istio.io} AuthorizationPolicy, as written: no defaults are applied and no rule is
 * simplified, since what an absent part means depends on the action and belongs to generators.
 *
 * <ul>
 *   <li>{@code selector} is the workload selector's {@code matchLabels}, or null when the policy applies to
 *       every workload of its namespace (of the mesh, in Istio's root namespace); a selector without labels
 *       is read as null, as Istio reads it.
 *   <li>{@code targetRefs} lists {@code Kind/name} of the Gateway API Gateways or GatewayClasses, Services
 *       (their waypoints) or ServiceEntries the policy is attached to, from {@code targetRefs} or the older
 *       {@code targetRef}. Weft does not implement them yet (the parser warns). A policy with targetRefs
 *       never has a selector and does <em>not</em> apply namespace-wide: it applies to the referenced
 *       gateways and waypoints only, so a generator without targetRef support must skip it.
 *   <li>{@code action} is ALLOW (Istio's default, used when absent), DENY, AUDIT or CUSTOM;
 *       {@code provider} is the extension provider name of a CUSTOM policy, null otherwise.
 *   <li>{@code rules}: a request matches when any rule matches. No rules match nothing, so an ALLOW policy
 *       without rules denies every request to its workloads. An empty rule ({@code {}}) matches every
 *       request. Within a rule, a request must match one of {@code from}, one of {@code to} and every
 *       {@code when}; an empty list there places no constraint.
 *   <li>{@code dryRun}: annotated {@code istio.io/dry-run: "true"}: evaluated for statistics and logs only
 *       (Envoy's shadow rules), never enforced.
 * </ul>
 *
 * <p>Strings in rules use Istio's matching: {@code abc} exact, {@code abc*} prefix, {@code *abc} suffix,
 * {@code *} any non-empty value; a {@code *} elsewhere is a literal character. Paths may instead be URI
 * templates using {@code {*}} and {@code {**}} segments.
 */
public record AuthorizationPolicy(ResourceId id, Map<String, String> selector, List<String> targetRefs,
    String action, String provider, List<Rule> rules, boolean dryRun) implements Resource {
  public AuthorizationPolicy {
    selector = selector == null ? null : Map.copyOf(selector);
    targetRefs = List.copyOf(targetRefs);
    rules = List.copyOf(rules);
  }

  /** An enforced policy (no {@code istio.io/dry-run}). */
  public AuthorizationPolicy(ResourceId id, Map<String, String> selector, List<String> targetRefs, String action,
      String provider, List<Rule> rules) {
    this(id, selector, targetRefs, action, provider, rules, false);
  }

  public record Rule(List<From> from, List<To> to, List<Condition> when) {
    public Rule {
      from = List.copyOf(from);
      to = List.copyOf(to);
      when = List.copyOf(when);
    }
  }

  public record From(Source source) {}

  /**
   * Who sends the request; all non-empty lists must match (each by any of its values, each {@code not}
   * list by none). {@code principals} are peer identities such as {@code cluster.local/ns/default/sa/web};
   * {@code requestPrincipals} are JWT {@code iss/sub}; {@code ipBlocks} are the peer's address,
   * {@code remoteIpBlocks} the client's (X-Forwarded-For or proxy protocol), as IPs or CIDR blocks;
   * {@code serviceAccounts} are {@code namespace/name} or {@code name} (in the policy's namespace).
   */
  public record Source(List<String> principals, List<String> notPrincipals, List<String> requestPrincipals,
      List<String> notRequestPrincipals, List<String> namespaces, List<String> notNamespaces,
      List<String> ipBlocks, List<String> notIpBlocks, List<String> remoteIpBlocks,
      List<String> notRemoteIpBlocks, List<String> serviceAccounts, List<String> notServiceAccounts,
      List<String> trustDomains, List<String> notTrustDomains) {
    public Source {
      principals = List.copyOf(principals);
      notPrincipals = List.copyOf(notPrincipals);
      requestPrincipals = List.copyOf(requestPrincipals);
      notRequestPrincipals = List.copyOf(notRequestPrincipals);
      namespaces = List.copyOf(namespaces);
      notNamespaces = List.copyOf(notNamespaces);
      ipBlocks = List.copyOf(ipBlocks);
      notIpBlocks = List.copyOf(notIpBlocks);
      remoteIpBlocks = List.copyOf(remoteIpBlocks);
      notRemoteIpBlocks = List.copyOf(notRemoteIpBlocks);
      serviceAccounts = List.copyOf(serviceAccounts);
      notServiceAccounts = List.copyOf(notServiceAccounts);
      trustDomains = List.copyOf(trustDomains);
      notTrustDomains = List.copyOf(notTrustDomains);
    }

    /** A source without service account or trust domain constraints. */
    public Source(List<String> principals, List<String> notPrincipals, List<String> requestPrincipals,
        List<String> notRequestPrincipals, List<String> namespaces, List<String> notNamespaces,
        List<String> ipBlocks, List<String> notIpBlocks, List<String> remoteIpBlocks,
        List<String> notRemoteIpBlocks) {
      this(principals, notPrincipals, requestPrincipals, notRequestPrincipals, namespaces, notNamespaces, ipBlocks,
          notIpBlocks, remoteIpBlocks, notRemoteIpBlocks, List.of(), List.of(), List.of(), List.of());
    }
  }

  public record To(Operation operation) {}

  /**
   * What the request does; all non-empty lists must match. {@code ports} are decimal strings; hosts,
   * methods and paths only exist for HTTP.
   */
  public record Operation(List<String> hosts, List<String> notHosts, List<String> ports, List<String> notPorts,
      List<String> methods, List<String> notMethods, List<String> paths, List<String> notPaths) {
    public Operation {
      hosts = List.copyOf(hosts);
      notHosts = List.copyOf(notHosts);
      ports = List.copyOf(ports);
      notPorts = List.copyOf(notPorts);
      methods = List.copyOf(methods);
      notMethods = List.copyOf(notMethods);
      paths = List.copyOf(paths);
      notPaths = List.copyOf(notPaths);
    }
  }

  /**
   * An Istio attribute ({@code source.ip}, {@code request.headers[x-token]}, ...) that must have one of
   * {@code values} (when given) and none of {@code notValues}; at least one of the two is non-empty.
   */
  public record Condition(String key, List<String> values, List<String> notValues) {
    public Condition {
      values = List.copyOf(values);
      notValues = List.copyOf(notValues);
    }
  }
}
