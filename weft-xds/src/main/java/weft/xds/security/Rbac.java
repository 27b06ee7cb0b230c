package weft.xds.security;

import com.google.protobuf.Any;
import io.envoyproxy.envoy.config.core.v3.CidrRange;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import weft.model.AuthorizationPolicy;
import weft.model.AuthorizationPolicy.Condition;
import weft.model.AuthorizationPolicy.From;
import weft.model.AuthorizationPolicy.Operation;
import weft.model.AuthorizationPolicy.Rule;
import weft.model.AuthorizationPolicy.Source;
import weft.model.AuthorizationPolicy.To;
import weft.xds.proxy.Proxy;
import weft.xds.view.ProxyView;

/**
 * AuthorizationPolicies as Envoy RBAC, the way Istio's authz builder translates them: CUSTOM first
 * ({@link ExtAuthz}: an RBAC that only selects, and the ext_authz filter that asks the provider; a
 * CUSTOM policy whose provider cannot be used joins the DENY rules and so fails closed), then, after
 * authentication, an AUDIT RBAC (action LOG), a DENY RBAC (DENY policies) and an ALLOW RBAC (ALLOW
 * policies). No ALLOW policy means no ALLOW
 * filter, which allows everything; an ALLOW policy without rules adds a policy that never matches,
 * which allows nothing. A dry-run policy ({@code istio.io/dry-run}) goes to its filter's shadow rules,
 * with Istio's stat prefixes, and is never enforced. grpc-java has neither audit logs nor shadow
 * statistics: on proxyless servers AUDIT and dry-run policies are skipped and recorded. Each rule becomes policy {@code ns[NS]-policy[NAME]-rule[I]}: any of
 * its sources (principals ANDed per {@code from}) and any of its operations (permissions ANDed per
 * {@code to}), with the {@code when} conditions added to each; {@code not} values become
 * {@code not_id}/{@code not_rule}.
 *
 * <p>A value the target cannot check (an HTTP attribute on a TCP chain, a {@code grpc-} header for
 * grpc-java, Envoy filter metadata) skips the whole rule in an ALLOW policy, so it allows less, and
 * is dropped from a DENY rule, so it denies more: Istio's rule for TCP chains. Request principals
 * and other JWT attributes ({@code request.auth.*}) match the payloads Envoy's {@code jwt_authn}
 * verified ({@link JwtMatchers}). grpc-java has no JWT filter, so on a proxyless server they cannot be
 * checked and follow the same rule: an ALLOW rule that needs them allows nothing, a DENY rule loses
 * them and denies more; never a silent allow. Everything skipped is recorded.
 *
 * <p>grpc-java's RbacFilter reads ALLOW and DENY rules with and/or/not, any, authenticated
 * principal names, direct and remote IPs, headers, url_path, destination IP and port, and
 * requested server name; anything else (metadata) never matches, and an unknown rule makes the whole
 * listener invalid, so this builder emits nothing else. It also rejects two HTTP filters with one
 * name, hence distinct names for the DENY and ALLOW filters.
 */
public final class Rbac {
  /** Filter names: Istio's grpc generator names the DENY filter apart, which grpc-java requires. */
  public static final String HTTP_FILTER = "envoy.filters.http.rbac";
  public static final String HTTP_DENY_FILTER = "envoy.filters.http.rbac.DENY";
  public static final String NETWORK_FILTER = "envoy.filters.network.rbac";
  public static final String NETWORK_DENY_FILTER = "envoy.filters.network.rbac.DENY";
  public static final String HTTP_AUDIT_FILTER = "envoy.filters.http.rbac.AUDIT";
  public static final String NETWORK_AUDIT_FILTER = "envoy.filters.network.rbac.AUDIT";
  /** Istio's stat prefixes of dry-run (shadow) rules, which its tooling reads. */
  static final String DRY_RUN_ALLOW = "istio_dry_run_allow_";
  static final String DRY_RUN_DENY = "istio_dry_run_deny_";
  /** Istio's stat prefix for TCP RBAC (RBACTCPFilterStatPrefix); Envoy requires one. */
  static final String TCP_STAT_PREFIX = "tcp.";

  /** Where the rules are enforced, which decides what can be checked. */
  public enum Target {
    /** grpc-java's RBAC HTTP filter on a proxyless server. */
    PROXYLESS,
    /** Envoy's RBAC HTTP filter on an HTTP filter chain. */
    HTTP,
    /** Envoy's RBAC network filter on a TCP filter chain. */
    TCP
  }

  /**
   * The RBAC configurations for a workload; any may be null. {@code audit} has action LOG (AUDIT
   * policies); {@code shadowDeny} and {@code shadowAllow} hold the dry-run policies, evaluated for
   * statistics only (Envoy's shadow rules).
   */
  public record Rules(RBAC deny, RBAC allow, RBAC audit, RBAC shadowDeny, RBAC shadowAllow, RBAC custom,
      ExtAuthz.Target extAuthz) {
    public Rules(RBAC deny, RBAC allow) {
      this(deny, allow, null, null, null);
    }

    public Rules(RBAC deny, RBAC allow, RBAC audit, RBAC shadowDeny, RBAC shadowAllow) {
      this(deny, allow, audit, shadowDeny, shadowAllow, null, null);
    }

    public boolean isEmpty() {
      return deny == null && allow == null && audit == null && shadowDeny == null && shadowAllow == null
          && custom == null;
    }

    /** HTTP filters to go before the router: {@link #customHttpFilters} then {@link #policyHttpFilters}. */
    public List<HttpFilter> httpFilters() {
      List<HttpFilter> out = new ArrayList<>(customHttpFilters());
      out.addAll(policyHttpFilters());
      return out;
    }

    /**
     * CUSTOM: the RBAC that selects what the provider is asked about, then ext_authz. Istio puts them
     * first, before authentication (jwt_authn), whose result CUSTOM rules cannot read.
     */
    public List<HttpFilter> customHttpFilters() {
      if (custom == null) return List.of();
      return List.of(httpFilter(ExtAuthz.HTTP_RBAC_FILTER, null, custom, ExtAuthz.SHADOW_PREFIX),
          ExtAuthz.httpFilter(extAuthz));
    }

    /** AUDIT, then DENY, then ALLOW (Istio's order), after authentication. */
    public List<HttpFilter> policyHttpFilters() {
      List<HttpFilter> out = new ArrayList<>();
      if (audit != null) out.add(httpFilter(HTTP_AUDIT_FILTER, audit, null, null));
      if (deny != null || shadowDeny != null) out.add(httpFilter(HTTP_DENY_FILTER, deny, shadowDeny, DRY_RUN_DENY));
      if (allow != null || shadowAllow != null) out.add(httpFilter(HTTP_FILTER, allow, shadowAllow, DRY_RUN_ALLOW));
      return out;
    }

    /** Network filters to go before the tcp_proxy, in the same order: CUSTOM, AUDIT, DENY, ALLOW. */
    public List<Filter> networkFilters() {
      List<Filter> out = new ArrayList<>();
      if (custom != null) {
        out.add(networkFilter(ExtAuthz.NETWORK_RBAC_FILTER, null, custom, ExtAuthz.SHADOW_PREFIX));
        out.add(ExtAuthz.networkFilter(extAuthz));
      }
      if (audit != null) out.add(networkFilter(NETWORK_AUDIT_FILTER, audit, null, null));
      if (deny != null || shadowDeny != null) {
        out.add(networkFilter(NETWORK_DENY_FILTER, deny, shadowDeny, DRY_RUN_DENY));
      }
      if (allow != null || shadowAllow != null) {
        out.add(networkFilter(NETWORK_FILTER, allow, shadowAllow, DRY_RUN_ALLOW));
      }
      return out;
    }

    private static HttpFilter httpFilter(String name, RBAC rules, RBAC shadow, String shadowPrefix) {
      io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.Builder b =
          io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.newBuilder();
      // Without enforced rules the filter only shadows: Envoy then enforces nothing.
      if (rules != null) b.setRules(rules);
      if (shadow != null) b.setShadowRules(shadow).setShadowRulesStatPrefix(shadowPrefix);
      return HttpFilter.newBuilder().setName(name).setTypedConfig(Any.pack(b.build())).build();
    }

    private static Filter networkFilter(String name, RBAC rules, RBAC shadow, String shadowPrefix) {
      io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.Builder b =
          io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.newBuilder().setStatPrefix(TCP_STAT_PREFIX);
      if (rules != null) b.setRules(rules);
      if (shadow != null) b.setShadowRules(shadow).setShadowRulesStatPrefix(shadowPrefix);
      return Filter.newBuilder().setName(name).setTypedConfig(Any.pack(b.build())).build();
    }
  }

  private static final Policy NEVER = Policy.newBuilder()
      .addPermissions(Permission.newBuilder().setNotRule(Permission.newBuilder().setAny(true)))
      .addPrincipals(Principal.newBuilder().setNotId(Principal.newBuilder().setAny(true)))
      .build();

  private Rbac() {}

  /** The rules for the proxy's own workload (its namespace and labels), reasons recorded in the view. */
  public static Rules forWorkload(ProxyView view, Target target) {
    Proxy p = view.proxy();
    List<AuthorizationPolicy> policies = Authorizations.forWorkload(view.securityPolicies(),
        view.snapshot().meshConfig().rootNamespace(), p.namespace(), p.labels(), view::drop);
    weft.model.MeshConfig mesh = view.snapshot().meshConfig();
    java.util.Set<String> issuers = target == Target.HTTP ? weft.xds.authn.JwtAuthn.issuers(view) : java.util.Set.of();
    List<AuthorizationPolicy> custom = policies.stream()
        .filter(a -> "CUSTOM".equals(a.action()) && !a.dryRun()).toList();
    String[] failure = new String[1];
    ExtAuthz.Target ext = ExtAuthz.resolve(custom, view, target, reason -> failure[0] = reason);
    if (failure[0] != null) {
      String on = target == Target.TCP ? " (TCP chains)" : "";
      for (AuthorizationPolicy a : custom) view.drop(a.id() + on, "action CUSTOM: " + failure[0]);
    }
    return build(policies, target, view::drop, new TrustDomainAliases(mesh.trustDomain(), mesh.trustDomainAliases()),
        issuers, ext);
  }

  public static Rules build(List<AuthorizationPolicy> policies, Target target, BiConsumer<String, String> drop) {
    return build(policies, target, drop, TrustDomainAliases.NONE);
  }

  /**
   * @param names our trust domain and its aliases: a principal of ours matches under each of our names
   *     (Istio's rule); a foreign principal matches exactly
   */
  public static Rules build(List<AuthorizationPolicy> policies, Target target, BiConsumer<String, String> drop,
      TrustDomainAliases names) {
    return build(policies, target, drop, names, java.util.Set.of());
  }

  /**
   * @param issuers the JWT issuers whose verified payloads the workload's {@code jwt_authn} filter writes
   *     (its RequestAuthentications'); request principals and claims can only match under them
   */
  public static Rules build(List<AuthorizationPolicy> policies, Target target, BiConsumer<String, String> drop,
      TrustDomainAliases names, java.util.Collection<String> issuers) {
    return build(policies, target, drop, names, issuers, null);
  }

  /**
   * @param ext the provider CUSTOM policies ask, or null: they then fail closed (the requests they
   *     select are denied; the caller records why)
   */
  public static Rules build(List<AuthorizationPolicy> policies, Target target, BiConsumer<String, String> drop,
      TrustDomainAliases names, java.util.Collection<String> issuers, ExtAuthz.Target ext) {
    // By action (DENY, ALLOW, LOG) and dry-run: the enforced rules and the shadow ones of each filter.
    java.util.Map<String, RBAC.Builder> builders = new java.util.HashMap<>();
    for (AuthorizationPolicy policy : policies) {
      String subject = policy.id().toString();
      String action = policy.action() == null ? "ALLOW" : policy.action();
      if (policy.dryRun() && target == Target.PROXYLESS) {
        drop.accept(subject, "istio.io/dry-run: a dry run only produces Envoy statistics and logs, which grpc-java "
            + "does not have; skipped on this proxyless server");
        continue;
      }
      boolean denying;
      RBAC.Action rbacAction;
      switch (action) {
        case "ALLOW" -> {
          denying = false;
          rbacAction = RBAC.Action.ALLOW;
        }
        case "DENY" -> {
          denying = true;
          rbacAction = RBAC.Action.DENY;
        }
        case "CUSTOM" -> {
          if (policy.dryRun()) {
            drop.accept(subject, "istio.io/dry-run on a CUSTOM policy: Istio has no dry run for external "
                + "authorization; skipped");
            continue;
          }
          // Selecting more is the safe side either way: more requests go to the provider, or are denied.
          denying = true;
          rbacAction = RBAC.Action.DENY;
          if (ext != null) {
            RBAC.Builder shadow = builders.computeIfAbsent("CUSTOM", k -> RBAC.newBuilder().setAction(RBAC.Action.DENY));
            putRules(shadow, policy, subject, true, target, drop, names, issuers, ExtAuthz.POLICY_PREFIX + "-");
            continue;
          }
        }
        case "AUDIT" -> {
          if (target == Target.PROXYLESS) {
            drop.accept(subject, "action AUDIT only logs, and grpc-java's RBAC has no audit log; skipped on this "
                + "proxyless server");
            continue;
          }
          // Logged requests are marked in Envoy's dynamic metadata (access_log_hint) for the access log.
          denying = false;
          rbacAction = RBAC.Action.LOG;
        }
        default -> {
          drop.accept(subject, "action " + action + " is unknown; ignored");
          continue;
        }
      }
      RBAC.Builder rbac = builders.computeIfAbsent(rbacAction + (policy.dryRun() ? "/dry-run" : ""),
          k -> RBAC.newBuilder().setAction(rbacAction));
      putRules(rbac, policy, subject, denying, target, drop, names, issuers, "");
    }
    RBAC custom = built(builders, "CUSTOM");
    return new Rules(built(builders, RBAC.Action.DENY + ""), built(builders, RBAC.Action.ALLOW + ""),
        built(builders, RBAC.Action.LOG + ""), built(builders, RBAC.Action.DENY + "/dry-run"),
        built(builders, RBAC.Action.ALLOW + "/dry-run"), custom, custom == null ? null : ext);
  }

  /** Adds one policy's rules to {@code rbac}, each named Istio's way after {@code prefix}. */
  private static void putRules(RBAC.Builder rbac, AuthorizationPolicy policy, String subject, boolean denying,
      Target target, BiConsumer<String, String> drop, TrustDomainAliases names, java.util.Collection<String> issuers,
      String prefix) {
    if (policy.rules().isEmpty()) {
      rbac.putPolicies(prefix + name(policy, 0), NEVER);
      return;
    }
    for (int i = 0; i < policy.rules().size(); i++) {
      Context ctx = new Context(policy, subject + " rules[" + i + "]", denying, target, drop, names, issuers);
      try {
        rbac.putPolicies(prefix + name(policy, i), ctx.policy(policy.rules().get(i)));
      } catch (Unsupported e) {
        drop.accept(ctx.subject, "rule skipped: " + e.getMessage() + " (an ALLOW rule that cannot be checked "
            + "allows nothing)");
      }
    }
  }

  private static RBAC built(java.util.Map<String, RBAC.Builder> builders, String key) {
    RBAC.Builder b = builders.get(key);
    return b == null ? null : b.build();
  }

  /** Istio's policy names, which its debug tooling shows. */
  static String name(AuthorizationPolicy p, int rule) {
    return "ns[" + p.id().namespace() + "]-policy[" + p.id().name() + "]-rule[" + rule + "]";
  }

  /** One attribute of a rule with its values and not-values, as Istio's authz model keeps it. */
  private record Attr(String key, List<String> values, List<String> notValues) {}

  /** A value that the target cannot check. */
  private static final class Unsupported extends Exception {
    Unsupported(String message) {
      super(message, null, false, false);
    }
  }

  @FunctionalInterface
  private interface Gen<T> {
    T make(String value) throws Unsupported;
  }

  private record Context(AuthorizationPolicy policy, String subject, boolean denying, Target target,
      BiConsumer<String, String> drop, TrustDomainAliases names, java.util.Collection<String> issuers) {

    Policy policy(Rule rule) throws Unsupported {
      List<Attr> basePermission = new ArrayList<>();
      List<Attr> basePrincipal = new ArrayList<>();
      for (Condition c : rule.when()) {
        Attr a = c.key().equals("source.principal")
            ? new Attr(c.key(), names.expand(c.values()), names.expand(c.notValues()))
            : new Attr(c.key(), c.values(), c.notValues());
        if (permissionKey(c.key())) {
          basePermission.add(a);
        } else {
          basePrincipal.add(a);
        }
      }
      Policy.Builder out = Policy.newBuilder();
      List<From> froms = rule.from().isEmpty() ? java.util.Collections.singletonList(null) : rule.from();
      for (From from : froms) {
        List<Attr> attrs = new ArrayList<>();
        Source s = from == null ? null : from.source();
        if (s != null) {
          attrs.add(new Attr("principals", names.expand(s.principals()), names.expand(s.notPrincipals())));
          attrs.add(new Attr("requestPrincipals", s.requestPrincipals(), s.notRequestPrincipals()));
          attrs.add(new Attr("serviceAccounts", s.serviceAccounts(), s.notServiceAccounts()));
          attrs.add(new Attr("trustDomains", s.trustDomains(), s.notTrustDomains()));
          attrs.add(new Attr("namespaces", s.namespaces(), s.notNamespaces()));
          attrs.add(new Attr("remoteIpBlocks", s.remoteIpBlocks(), s.notRemoteIpBlocks()));
          attrs.add(new Attr("ipBlocks", s.ipBlocks(), s.notIpBlocks()));
        }
        attrs.addAll(basePrincipal);
        out.addPrincipals(principal(attrs));
      }
      List<To> tos = rule.to().isEmpty() ? java.util.Collections.singletonList(null) : rule.to();
      for (To to : tos) {
        List<Attr> attrs = new ArrayList<>();
        Operation o = to == null ? null : to.operation();
        if (o != null) {
          attrs.add(new Attr("hosts", o.hosts(), o.notHosts()));
          attrs.add(new Attr("methods", o.methods(), o.notMethods()));
          attrs.add(new Attr("paths", o.paths(), o.notPaths()));
          attrs.add(new Attr("ports", o.ports(), o.notPorts()));
        }
        attrs.addAll(basePermission);
        out.addPermissions(permission(attrs));
      }
      return out.build();
    }

    private Principal principal(List<Attr> attrs) throws Unsupported {
      List<Principal> and = new ArrayList<>();
      for (Attr a : attrs) {
        List<Principal> yes = values(a.key(), a.values(), v -> principal(a.key(), v));
        if (!yes.isEmpty()) and.add(Principal.newBuilder().setOrIds(Principal.Set.newBuilder().addAllIds(yes)).build());
        List<Principal> no = values(a.key(), a.notValues(), v -> principal(a.key(), v));
        if (!no.isEmpty()) {
          and.add(Principal.newBuilder().setNotId(Principal.newBuilder()
              .setOrIds(Principal.Set.newBuilder().addAllIds(no))).build());
        }
      }
      if (and.isEmpty()) and.add(Principal.newBuilder().setAny(true).build());
      return Principal.newBuilder().setAndIds(Principal.Set.newBuilder().addAllIds(and)).build();
    }

    private Permission permission(List<Attr> attrs) throws Unsupported {
      List<Permission> and = new ArrayList<>();
      for (Attr a : attrs) {
        List<Permission> yes = values(a.key(), a.values(), v -> permission(a.key(), v));
        if (!yes.isEmpty()) and.add(Permission.newBuilder().setOrRules(Permission.Set.newBuilder().addAllRules(yes)).build());
        List<Permission> no = values(a.key(), a.notValues(), v -> permission(a.key(), v));
        if (!no.isEmpty()) {
          and.add(Permission.newBuilder().setNotRule(Permission.newBuilder()
              .setOrRules(Permission.Set.newBuilder().addAllRules(no))).build());
        }
      }
      if (and.isEmpty()) and.add(Permission.newBuilder().setAny(true).build());
      return Permission.newBuilder().setAndRules(Permission.Set.newBuilder().addAllRules(and)).build();
    }

    /** Istio's checkError: an ALLOW rule fails as a whole; a DENY rule loses the value and goes on. */
    private <T> List<T> values(String key, List<String> values, Gen<T> gen) throws Unsupported {
      List<T> out = new ArrayList<>();
      for (String v : values) {
        try {
          out.add(gen.make(v));
        } catch (Unsupported e) {
          if (!denying) throw e;
          drop.accept(subject + " " + key, "ignored: " + e.getMessage() + " (so this DENY rule denies more)");
        }
      }
      return out;
    }

    private Principal principal(String key, String v) throws Unsupported {
      switch (key) {
        case "principals", "source.principal" -> {
          return authenticated(Matchers.principal(v));
        }
        case "namespaces", "source.namespace" -> {
          return authenticated(Matchers.namespace(v));
        }
        case "serviceAccounts", "source.serviceAccount" -> {
          return authenticated(Matchers.serviceAccount(v, policy.id().namespace()));
        }
        case "trustDomains", "source.trustDomain" -> {
          return authenticated(Matchers.trustDomain(v));
        }
        case "ipBlocks", "source.ip" -> {
          return Principal.newBuilder().setDirectRemoteIp(cidr(v)).build();
        }
        case "remoteIpBlocks", "remote.ip" -> {
          return Principal.newBuilder().setRemoteIp(cidr(v)).build();
        }
        default -> { }
      }
      if (key.equals("requestPrincipals") || key.startsWith("request.auth.")) {
        httpOnly(key);
        if (target == Target.PROXYLESS) {
          throw new Unsupported(key + " needs a verified JWT, and grpc-java has no JWT filter: a proxyless server "
              + "cannot check it");
        }
        if (issuers.isEmpty()) {
          drop.accept(subject + " " + key, "no RequestAuthentication applies to this workload, so no request has a "
              + "verified JWT: " + key + " matches no request and its not-form matches every one");
        }
        if (key.equals("requestPrincipals") || key.equals("request.auth.principal")) {
          return JwtMatchers.requestPrincipal(v, issuers);
        }
        List<String> path = JwtMatchers.claimPath(key);
        if (path == null) throw new Unsupported("attribute " + key + " is not supported");
        return JwtMatchers.claim(path, v, issuers);
      }
      if (key.startsWith("request.headers[")) {
        httpOnly(key);
        String header = key.substring("request.headers[".length(), key.length() - 1);
        if (target == Target.PROXYLESS && (header.startsWith("grpc-") || header.equals(":scheme"))) {
          throw new Unsupported("grpc-java's RBAC cannot match header " + header);
        }
        return Principal.newBuilder().setHeader(Matchers.header(header, v, false)).build();
      }
      throw new Unsupported("attribute " + key + " is not supported");
    }

    private Permission permission(String key, String v) throws Unsupported {
      switch (key) {
        case "ports", "destination.port" -> {
          try {
            return Permission.newBuilder().setDestinationPort(Integer.parseInt(v)).build();
          } catch (NumberFormatException e) {
            throw new Unsupported("port " + v + " is not a number");
          }
        }
        case "destination.ip" -> {
          return Permission.newBuilder().setDestinationIp(cidr(v)).build();
        }
        case "connection.sni" -> {
          return Permission.newBuilder().setRequestedServerName(Matchers.string(v)).build();
        }
        case "paths" -> {
          httpOnly(key);
          return Permission.newBuilder().setUrlPath(io.envoyproxy.envoy.type.matcher.v3.PathMatcher.newBuilder()
              .setPath(Matchers.path(v))).build();
        }
        case "methods" -> {
          httpOnly(key);
          return Permission.newBuilder().setHeader(Matchers.header(":method", v, false)).build();
        }
        case "hosts" -> {
          httpOnly(key);
          return Permission.newBuilder().setHeader(Matchers.header(":authority", v, true)).build();
        }
        default -> throw new Unsupported("attribute " + key + " (Envoy filter metadata) is not supported");
      }
    }

    private void httpOnly(String key) throws Unsupported {
      if (target == Target.TCP) throw new Unsupported(key + " exists only for HTTP requests; this chain carries TCP");
    }

    private static Principal authenticated(io.envoyproxy.envoy.type.matcher.v3.StringMatcher m) {
      return Principal.newBuilder().setAuthenticated(Principal.Authenticated.newBuilder().setPrincipalName(m)).build();
    }

    private static CidrRange cidr(String v) throws Unsupported {
      CidrRange r = Matchers.cidr(v);
      if (r == null) throw new Unsupported(v + " is not an IP address or CIDR block");
      return r;
    }

    private static boolean permissionKey(String key) {
      return key.equals("destination.ip") || key.equals("destination.port") || key.equals("connection.sni")
          || key.startsWith("experimental.envoy.filters.");
    }
  }
}
