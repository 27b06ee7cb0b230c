package weft.xds.authn;

import com.google.protobuf.Any;
import com.google.protobuf.Empty;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtClaimToHeader;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtHeader;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtProvider;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtRequirement;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtRequirementAndList;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtRequirementOrList;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.RequirementRule;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import weft.model.Labels;
import weft.model.RequestAuthentication;
import weft.model.RequestAuthentication.ClaimToHeader;
import weft.model.RequestAuthentication.JwtRule;
import weft.model.RequestAuthentication.TokenHeader;
import weft.xds.proxy.Proxy;
import weft.xds.view.ProxyView;

/**
 * RequestAuthentication as Envoy's {@code jwt_authn} HTTP filter, the way Istio's authn policy applier
 * builds it: one provider per JWT rule of every policy that applies to the workload, named
 * {@code origins-I} in order, each writing the verified payload to dynamic metadata under its issuer
 * (which the RBAC filter after it matches request principals and claims on). The requirement lets a
 * request without a token through (AuthorizationPolicy decides about it) and refuses one whose token is
 * present but invalid with 401: one rule is {@code any(P0, allow_missing)}; several are
 * {@code any(P0, P1, ..., all(any(P0, allow_missing), any(P1, allow_missing), ...))}, where the plain
 * {@code Pi} cover providers that read the same header (one of them always fails on the other's token).
 * CORS preflight requests skip the check, as Istio sets.
 *
 * <p>Keys: an inline {@code jwks} goes as is; a {@code jwksUri} (or an issuer's discovery document) is
 * fetched by the control plane and its last good key set is sent inline ({@code local_jwks}), since
 * Istio does not let Envoy fetch keys by default. Keys never fetched are replaced by {@link FakeJwks}, so
 * tokens of that issuer are refused, never accepted unchecked; that is recorded for the proxy.
 */
public final class JwtAuthn {
  /** Envoy's filter name; also the dynamic-metadata namespace the verified payloads are written to. */
  public static final String FILTER = "envoy.filters.http.jwt_authn";

  private JwtAuthn() {}

  /**
   * The RequestAuthentications that apply to a workload, in resource-id order: those of its namespace and of
   * the root namespace whose selector matches its labels or who have none. Policies attached by
   * {@code targetRefs} apply to gateways and waypoints only.
   */
  public static List<RequestAuthentication> forWorkload(List<RequestAuthentication> all, String rootNamespace,
      String namespace, Map<String, String> labels, BiConsumer<String, String> drop) {
    List<RequestAuthentication> out = new ArrayList<>();
    for (RequestAuthentication r : all) {
      String ns = r.id().namespace();
      if (!ns.equals(namespace) && !ns.equals(rootNamespace)) continue;
      if (!r.targetRefs().isEmpty()) {
        if (weft.xds.security.PolicyAttachment.attached(r.targetRefs(), ns, namespace, labels,
            why -> drop.accept(r.id().toString(), why))) {
          out.add(r);
        }
        continue;
      }
      if (r.selector() != null && !Labels.matches(r.selector(), labels)) continue;
      out.add(r);
    }
    return out;
  }

  /** The JWT rules of the proxy's own workload, in provider order. */
  public static List<JwtRule> rules(ProxyView view) {
    Proxy p = view.proxy();
    List<JwtRule> rules = new ArrayList<>();
    for (RequestAuthentication r : forWorkload(view.snapshot().config().requestAuthentications(),
        view.snapshot().meshConfig().rootNamespace(), p.namespace(), p.labels(), view::drop)) {
      rules.addAll(r.jwtRules());
    }
    return rules;
  }

  /** The issuers the proxy's workload accepts tokens of, each once, in provider order. */
  public static Set<String> issuers(ProxyView view) {
    Set<String> out = new LinkedHashSet<>();
    for (JwtRule r : rules(view)) out.add(r.issuer());
    return out;
  }

  /** The filter for the proxy's inbound HTTP chains, or null when no RequestAuthentication applies. */
  public static HttpFilter httpFilter(ProxyView view) {
    JwtAuthentication config = config(rules(view), view.context().jwks(), view::drop);
    if (config == null) return null;
    return HttpFilter.newBuilder().setName(FILTER).setTypedConfig(Any.pack(config)).build();
  }

  /** The filter's configuration for {@code rules}, or null when there are none; key problems go to {@code drop}. */
  public static JwtAuthentication config(List<JwtRule> rules, JwksSource keys, BiConsumer<String, String> drop) {
    if (rules.isEmpty()) return null;
    JwtAuthentication.Builder out = JwtAuthentication.newBuilder().setBypassCorsPreflight(true);
    List<JwtRequirement> eachOrMissing = new ArrayList<>();
    List<JwtRequirement> any = new ArrayList<>();
    for (int i = 0; i < rules.size(); i++) {
      String name = "origins-" + i;
      out.putProviders(name, provider(rules.get(i), keys, drop));
      JwtRequirement provider = JwtRequirement.newBuilder().setProviderName(name).build();
      eachOrMissing.add(JwtRequirement.newBuilder().setRequiresAny(JwtRequirementOrList.newBuilder()
          .addRequirements(provider)
          .addRequirements(JwtRequirement.newBuilder().setAllowMissing(Empty.getDefaultInstance()))).build());
      any.add(provider);
    }
    JwtRequirement requires;
    if (rules.size() == 1) {
      requires = eachOrMissing.get(0);
    } else {
      any.add(JwtRequirement.newBuilder().setRequiresAll(JwtRequirementAndList.newBuilder()
          .addAllRequirements(eachOrMissing)).build());
      requires = JwtRequirement.newBuilder().setRequiresAny(JwtRequirementOrList.newBuilder()
          .addAllRequirements(any)).build();
    }
    return out.addRules(RequirementRule.newBuilder()
        .setMatch(RouteMatch.newBuilder().setPrefix("/"))
        .setRequires(requires)).build();
  }

  private static JwtProvider provider(JwtRule rule, JwksSource keys, BiConsumer<String, String> drop) {
    JwtProvider.Builder p = JwtProvider.newBuilder()
        .setIssuer(rule.issuer())
        .addAllAudiences(rule.audiences())
        .setForward(rule.forwardOriginalToken())
        .setPayloadInMetadata(rule.issuer());
    if (rule.outputPayloadToHeader() != null) p.setForwardPayloadHeader(rule.outputPayloadToHeader());
    for (TokenHeader h : rule.fromHeaders()) {
      p.addFromHeaders(JwtHeader.newBuilder().setName(h.name()).setValuePrefix(h.prefix()));
    }
    p.addAllFromParams(rule.fromParams());
    p.addAllFromCookies(rule.fromCookies());
    for (ClaimToHeader c : rule.outputClaimToHeaders()) {
      p.addClaimToHeaders(JwtClaimToHeader.newBuilder().setHeaderName(c.header()).setClaimName(c.claim()));
    }
    return p.setLocalJwks(DataSource.newBuilder().setInlineString(jwks(rule, keys, drop))).build();
  }

  private static String jwks(JwtRule rule, JwksSource keys, BiConsumer<String, String> drop) {
    if (rule.jwks() != null) return rule.jwks();
    JwksSource.KeyLocation location = JwksSource.KeyLocation.of(rule);
    JwksSource.Keys found = keys.keys(location);
    String subject = "JWT issuer " + rule.issuer();
    if (found.jwks() == null) {
      drop.accept(subject, "keys from " + (location.discover() ? "OpenID discovery of " : "") + location.uri()
          + " are not available (" + found.problem() + "): a key set that verifies nothing is sent instead, so "
          + "every request with a token of this issuer is refused (401) until the keys are fetched, as Istio does");
      return FakeJwks.JWKS;
    }
    if (found.problem() != null) {
      drop.accept(subject, "the last refresh of " + location.uri() + " failed (" + found.problem()
          + "); the last good keys are kept");
    }
    return found.jwks();
  }
}
