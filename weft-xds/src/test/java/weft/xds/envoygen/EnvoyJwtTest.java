package weft.xds.envoygen;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.xds.envoygen.EnvoyMesh.unpack;
import static weft.xds.envoygen.EnvoySecurityTest.authorizationPolicy;
import static weft.xds.envoygen.EnvoySecurityTest.chain;
import static weft.xds.envoygen.EnvoySecurityTest.inbound;

import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtProvider;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtRequirement;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.type.matcher.v3.MetadataMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.dns.alloc.AddressBook;
import weft.registry.Locality;
import weft.xds.authn.JwksSource;
import weft.xds.proxy.Proxy;
import weft.xds.view.ProxyView;
import weft.xds.view.PushContext;

/**
 * RequestAuthentication and JWT conditions of AuthorizationPolicy in, Envoy's jwt_authn and RBAC metadata
 * matchers on the sidecar's inbound HTTP chains out, in the shape of Istio's JWT task (our own YAML).
 */
class EnvoyJwtTest {
  static final String ISSUER = "testing@secure.example.com";
  static final String JWKS = "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"k1\",\"e\":\"AQAB\",\"n\":\"xAE7eB6qugXyCAG3yhh7pkDkT65pHymX-P7KfIupjf59vsdo91bSP9C8H07pSAGQO1MV_xFj9VswgsCg4R6otmg5PV2He95lZdHtOcU5DXIg_pbhLdKXbi66GlVeK6ABZOUW3WYtnNHD-91gVuoeJT_DwtGGcp4ignkgXfkiEm4sw-4sfb4qdt5oLbyVpmW6x9cfa7vs2WTfURiCrBoUqgBo_-4WTiULmmHSGZHOjzwa8WtrtOQGsAFjIbno85jp6MnGGGZPYZbDAa_b3y5u-YpW7ypZrvD8BgtKVjgtQgZhLAGezMt0ua3DRrWnKqTZ0BJ_EyxOGuHJrLsn00fnMQ\"}]}";
  static final String APP = "selector: {matchLabels: {app: productpage}}\n";

  static String requestAuthentication(String ns, String name, String spec) {
    return EnvoySecurityTest.peerAuthentication(ns, name, spec).replace("PeerAuthentication", "RequestAuthentication");
  }

  /** Istio's JWT task: one issuer with inline keys. */
  static final String JWT_EXAMPLE = requestAuthentication("default", "jwt-example", APP + """
      jwtRules:
      - issuer: "%s"
        jwks: '%s'
      """.formatted(ISSUER, JWKS));

  EnvoyMesh mesh;

  @AfterEach
  void stop() {
    if (mesh != null) mesh.close();
  }

  ProxyView productpage(String yaml, JwksSource keys) {
    mesh = new EnvoyMesh(EnvoySecurityTest.MESH + yaml);
    Proxy proxy = new Proxy("sidecar~10.1.2.1~app.default~default.svc.cluster.local", "sidecar", "10.1.2.1", "app",
        "default", "cluster1", "network1", Map.of("app", "productpage"), "default", Locality.UNKNOWN, false,
        "default.svc.cluster.local");
    return new ProxyView(PushContext.of(mesh.registry.current(), new AddressBook(), PushContext.TrustSource.NONE,
        keys, false), proxy);
  }

  ProxyView productpage(String yaml) {
    return productpage(yaml, JwksSource.NONE);
  }

  static List<HttpFilter> httpFilters(ProxyView view, String chain) {
    return unpack(chain(inbound(view), chain).getFilters(0).getTypedConfig(), HttpConnectionManager.class)
        .getHttpFiltersList();
  }

  static JwtAuthentication jwt(ProxyView view) {
    HttpFilter f = httpFilters(view, "0.0.0.0_9081").stream().filter(x -> x.getName().equals(
        "envoy.filters.http.jwt_authn")).findFirst().orElseThrow(() -> new AssertionError("no jwt_authn filter"));
    return unpack(f.getTypedConfig(), JwtAuthentication.class);
  }

  static RBAC rbac(ProxyView view, String name) {
    HttpFilter f = httpFilters(view, "0.0.0.0_9081").stream().filter(x -> x.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no " + name));
    return unpack(f.getTypedConfig(), io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.class).getRules();
  }

  static List<String> violations(ProxyView view) {
    List<String> problems = new ArrayList<>();
    EnvoyListeners.all(view).forEach((n, l) -> ProtoRules.violations(l).forEach(v -> problems.add("LDS " + n + v)));
    return problems;
  }

  @Test
  void requestAuthenticationBecomesJwtAuthnBeforeRbacOnEveryInboundHttpChain() {
    ProxyView view = productpage(JWT_EXAMPLE + authorizationPolicy("default", "require-jwt", APP + """
        action: ALLOW
        rules:
        - from: [{source: {requestPrincipals: ["%s/%s"]}}]
        """.formatted(ISSUER, ISSUER)));
    assertThat(httpFilters(view, "0.0.0.0_9081")).extracting(HttpFilter::getName).containsExactly(
        "envoy.filters.http.jwt_authn", "envoy.filters.http.rbac", "envoy.filters.http.fault",
        "envoy.filters.http.router");
    assertThat(httpFilters(view, "virtualInbound-catchall-http").get(0).getName())
        .isEqualTo("envoy.filters.http.jwt_authn");
    assertThat(chain(inbound(view), "0.0.0.0_7070").getFiltersList()).extracting(f -> f.getName())
        .as("TCP chains carry no JWT").doesNotContain("envoy.filters.http.jwt_authn");

    JwtAuthentication jwt = jwt(view);
    assertThat(jwt.getBypassCorsPreflight()).isTrue();
    assertThat(jwt.getProvidersMap()).containsOnlyKeys("origins-0");
    JwtProvider p = jwt.getProvidersOrThrow("origins-0");
    assertThat(p.getIssuer()).isEqualTo(ISSUER);
    assertThat(p.getLocalJwks().getInlineString()).isEqualTo(JWKS);
    assertThat(p.getPayloadInMetadata()).isEqualTo(ISSUER);
    assertThat(p.getForward()).isFalse();
    assertThat(jwt.getRulesList()).singleElement().satisfies(r -> {
      assertThat(r.getMatch().getPrefix()).isEqualTo("/");
      // A missing token passes (AuthorizationPolicy decides); a present one must verify.
      assertThat(r.getRequires().getRequiresAny().getRequirementsList()).containsExactly(
          JwtRequirement.newBuilder().setProviderName("origins-0").build(),
          JwtRequirement.newBuilder().setAllowMissing(com.google.protobuf.Empty.getDefaultInstance()).build());
    });

    Policy policy = rbac(view, "envoy.filters.http.rbac").getPoliciesOrThrow("ns[default]-policy[require-jwt]-rule[0]");
    Principal sub = policy.getPrincipals(0).getAndIds().getIds(0).getOrIds().getIds(0);
    MetadataMatcher m = sub.getMetadata();
    assertThat(m.getFilter()).isEqualTo("envoy.filters.http.jwt_authn");
    assertThat(m.getPathList()).extracting(MetadataMatcher.PathSegment::getKey).containsExactly(ISSUER, "sub");
    assertThat(m.getValue().getStringMatch().getExact()).isEqualTo(ISSUER);
    assertThat(violations(view)).isEmpty();
  }

  @Test
  void everyJwtRuleFieldReachesItsProvider() {
    ProxyView view = productpage(requestAuthentication("default", "jwt", APP + """
        jwtRules:
        - issuer: "%s"
          jwks: '%s'
          audiences: [bookinfo, reviews]
          fromHeaders: [{name: x-jwt-assertion, prefix: "Token "}, {name: x-other}]
          fromParams: [my_token]
          fromCookies: [session]
          outputPayloadToHeader: x-jwt-payload
          outputClaimToHeaders: [{header: x-jwt-sub, claim: sub}]
          forwardOriginalToken: true
        """.formatted(ISSUER, JWKS)));
    JwtProvider p = jwt(view).getProvidersOrThrow("origins-0");
    assertThat(p.getAudiencesList()).containsExactly("bookinfo", "reviews");
    assertThat(p.getFromHeadersList()).extracting(h -> h.getName() + "|" + h.getValuePrefix())
        .containsExactly("x-jwt-assertion|Token ", "x-other|");
    assertThat(p.getFromParamsList()).containsExactly("my_token");
    assertThat(p.getFromCookiesList()).containsExactly("session");
    assertThat(p.getForwardPayloadHeader()).isEqualTo("x-jwt-payload");
    assertThat(p.getClaimToHeadersList()).singleElement().satisfies(c -> {
      assertThat(c.getHeaderName()).isEqualTo("x-jwt-sub");
      assertThat(c.getClaimName()).isEqualTo("sub");
    });
    assertThat(p.getForward()).isTrue();
    assertThat(violations(view)).isEmpty();
  }

  @Test
  void severalIssuersFromNamespaceAndMeshPoliciesAreAnyProviderOrAllValidOrMissing() {
    ProxyView view = productpage(JWT_EXAMPLE + requestAuthentication("istio-system", "mesh", """
        jwtRules:
        - issuer: https://accounts.example.org
          jwks: '%s'
        """.formatted(JWKS)) + requestAuthentication("default", "other-app", """
        selector: {matchLabels: {app: reviews}}
        jwtRules: [{issuer: not-for-productpage, jwks: '%s'}]
        """.formatted(JWKS)));
    JwtAuthentication jwt = jwt(view);
    assertThat(jwt.getProvidersMap()).containsOnlyKeys("origins-0", "origins-1");
    assertThat(jwt.getProvidersOrThrow("origins-0").getIssuer()).isEqualTo(ISSUER);
    assertThat(jwt.getProvidersOrThrow("origins-1").getIssuer()).isEqualTo("https://accounts.example.org");
    List<JwtRequirement> any = jwt.getRules(0).getRequires().getRequiresAny().getRequirementsList();
    assertThat(any).hasSize(3);
    assertThat(any.get(0).getProviderName()).isEqualTo("origins-0");
    assertThat(any.get(1).getProviderName()).isEqualTo("origins-1");
    assertThat(any.get(2).getRequiresAll().getRequirementsList()).allSatisfy(r ->
        assertThat(r.getRequiresAny().getRequirements(1).hasAllowMissing()).isTrue());
    assertThat(violations(view)).isEmpty();
  }

  @Test
  void keysNotFetchedYetAreReplacedByKeysThatVerifyNothingAndReported() {
    ProxyView view = productpage(requestAuthentication("default", "jwt", APP + """
        jwtRules: [{issuer: https://idp.example.com, jwksUri: "https://idp.example.com/keys"}]
        """), location -> JwksSource.Keys.unavailable("HTTP 503"));
    String sent = jwt(view).getProvidersOrThrow("origins-0").getLocalJwks().getInlineString();
    assertThat(sent).contains("weft-keys-unavailable");
    assertThat(weft.model.Jwks.problem(sent)).as("Envoy must still load it").isNull();
    assertThat(view.dropped().get("JWT issuer https://idp.example.com")).contains("HTTP 503").contains("401");
    assertThat(violations(view)).isEmpty();
  }

  @Test
  void fetchedKeysAreSentInlineAndAFailedRefreshKeepsThemWithAReport() {
    List<JwksSource.KeyLocation> asked = new ArrayList<>();
    ProxyView view = productpage(requestAuthentication("default", "jwt", APP + """
        jwtRules:
        - issuer: https://idp.example.com
          jwksUri: "https://idp.example.com/keys"
        - issuer: https://discovered.example.com
        """), location -> {
          asked.add(location);
          return new JwksSource.Keys(JWKS, location.discover() ? null : "timed out");
        });
    JwtAuthentication jwt = jwt(view);
    assertThat(jwt.getProvidersOrThrow("origins-0").getLocalJwks().getInlineString()).isEqualTo(JWKS);
    assertThat(asked).contains(new JwksSource.KeyLocation("https://idp.example.com/keys", false),
        new JwksSource.KeyLocation("https://discovered.example.com", true));
    assertThat(view.dropped().get("JWT issuer https://idp.example.com")).contains("last good keys are kept");
  }

  @Test
  void claimsAudiencesAndNotRequestPrincipalsMatchTheVerifiedPayload() {
    ProxyView view = productpage(JWT_EXAMPLE + authorizationPolicy("default", "claims", APP + """
        rules:
        - from: [{source: {requestPrincipals: ["*"]}}]
          when:
          - {key: "request.auth.claims[groups]", values: [group1]}
          - {key: "request.auth.claims[nested][role]", values: ["admin*"]}
          - {key: request.auth.audiences, values: [bookinfo]}
        """) + authorizationPolicy("default", "require-token", APP + """
        action: DENY
        rules:
        - from: [{source: {notRequestPrincipals: ["*"]}}]
        """));
    Policy allow = rbac(view, "envoy.filters.http.rbac").getPoliciesOrThrow("ns[default]-policy[claims]-rule[0]");
    List<Principal> and = allow.getPrincipals(0).getAndIds().getIdsList();
    // requestPrincipals "*": the subject of a verified token of a known issuer is present.
    MetadataMatcher any = and.get(0).getOrIds().getIds(0).getMetadata();
    assertThat(any.getPathList()).extracting(MetadataMatcher.PathSegment::getKey).containsExactly(ISSUER, "sub");
    assertThat(any.getValue().getPresentMatch()).isTrue();
    // A claim matches as a string or as any element of a list.
    List<Principal> groups = and.get(1).getOrIds().getIds(0).getOrIds().getIdsList();
    assertThat(groups).hasSize(2);
    assertThat(groups.get(0).getMetadata().getValue().getStringMatch().getExact()).isEqualTo("group1");
    assertThat(groups.get(1).getMetadata().getValue().getListMatch().getOneOf().getStringMatch().getExact())
        .isEqualTo("group1");
    assertThat(groups.get(0).getMetadata().getPathList()).extracting(MetadataMatcher.PathSegment::getKey)
        .containsExactly(ISSUER, "groups");
    List<Principal> nested = and.get(2).getOrIds().getIds(0).getOrIds().getIdsList();
    assertThat(nested.get(0).getMetadata().getPathList()).extracting(MetadataMatcher.PathSegment::getKey)
        .containsExactly(ISSUER, "nested", "role");
    assertThat(nested.get(0).getMetadata().getValue().getStringMatch().getPrefix()).isEqualTo("admin");
    List<Principal> aud = and.get(3).getOrIds().getIds(0).getOrIds().getIdsList();
    assertThat(aud.get(0).getMetadata().getPathList()).extracting(MetadataMatcher.PathSegment::getKey)
        .containsExactly(ISSUER, "aud");

    Policy deny = rbac(view, "envoy.filters.http.rbac.DENY")
        .getPoliciesOrThrow("ns[default]-policy[require-token]-rule[0]");
    Principal not = deny.getPrincipals(0).getAndIds().getIds(0);
    assertThat(not.getNotId().getOrIds().getIds(0).getMetadata().getValue().getPresentMatch()).isTrue();
    assertThat(violations(view)).isEmpty();
  }

  @Test
  void requestPrincipalWildcardsAreSplitAtTheIssuer() {
    ProxyView view = productpage(JWT_EXAMPLE + authorizationPolicy("default", "p", APP + """
        rules:
        - from: [{source: {requestPrincipals: ["%s/user-*", "*.com/alice", "*-admin", "other-issuer/x"]}}]
        """.formatted(ISSUER)));
    List<Principal> or = rbac(view, "envoy.filters.http.rbac").getPoliciesOrThrow("ns[default]-policy[p]-rule[0]")
        .getPrincipals(0).getAndIds().getIds(0).getOrIds().getIdsList();
    assertThat(or.get(0).getMetadata().getValue().getStringMatch().getPrefix()).isEqualTo("user-");
    // "*.com/alice": a subject ending so, or (the suffix spanning the end of "ISS/") the subject "alice".
    List<Principal> suffix = or.get(1).getOrIds().getIdsList();
    assertThat(suffix).hasSize(2);
    assertThat(suffix.get(0).getMetadata().getValue().getStringMatch().getSuffix()).isEqualTo(".com/alice");
    assertThat(suffix.get(1).getMetadata().getValue().getStringMatch().getExact()).isEqualTo("alice");
    assertThat(or.get(2).getMetadata().getValue().getStringMatch().getSuffix()).isEqualTo("-admin");
    assertThat(or.get(3).getNotId().getAny()).as("an issuer no RequestAuthentication names never matches").isTrue();
  }

  @Test
  void withoutRequestAuthenticationRequestPrincipalsMatchNothingAndThatIsReported() {
    ProxyView view = productpage(authorizationPolicy("default", "p", APP + """
        rules:
        - from: [{source: {requestPrincipals: ["*"]}}]
        """));
    assertThat(httpFilters(view, "0.0.0.0_9081")).extracting(HttpFilter::getName)
        .doesNotContain("envoy.filters.http.jwt_authn");
    Principal p = rbac(view, "envoy.filters.http.rbac").getPoliciesOrThrow("ns[default]-policy[p]-rule[0]")
        .getPrincipals(0).getAndIds().getIds(0).getOrIds().getIds(0);
    assertThat(p.getNotId().getAny()).isTrue();
    assertThat(view.dropped().get("AuthorizationPolicy default/p rules[0] requestPrincipals"))
        .contains("no RequestAuthentication");
  }
}
