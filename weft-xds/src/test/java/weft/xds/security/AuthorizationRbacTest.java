package weft.xds.security;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.xds.security.SecureMesh.PLAIN;
import static weft.xds.security.SecureMesh.SERVER_LISTENER;
import static weft.xds.security.SecureMesh.authorizationPolicy;

import io.envoyproxy.envoy.config.rbac.v3.Permission;
import io.envoyproxy.envoy.config.rbac.v3.Policy;
import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import weft.xds.view.ProxyView;

/**
 * AuthorizationPolicy in, RBAC filters on the proxyless server listener out, checked both as
 * protos and by running them through grpc-java's own RBAC engine.
 */
class AuthorizationRbacTest {
  static final String FRONTEND = "spiffe://cluster.local/ns/default/sa/frontend";
  static final String BACKEND = "spiffe://cluster.local/ns/default/sa/backend";
  static final String OTHER_NS = "spiffe://cluster.local/ns/other/sa/frontend";
  static final String HELLO = "greet.Greeter/Hello";
  static final String BYE = "greet.Greeter/Bye";

  static final String ALLOW_FRONTEND = authorizationPolicy("default", "allow-frontend", """
      selector: {matchLabels: {app: greeter}}
      rules:
      - from: [{source: {principals: [cluster.local/ns/default/sa/frontend]}}]
      """);

  /** The server's view and its HTTP filters, for these policies. */
  record Server(ProxyView view, List<HttpFilter> filters) {
    RBAC rules(String filterName) {
      HttpFilter f = filters.stream().filter(x -> x.getName().equals(filterName)).findFirst()
          .orElseThrow(() -> new AssertionError("no filter " + filterName + " in " + names()));
      return SecureMesh.unpack(f.getTypedConfig(), io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.class)
          .getRules();
    }

    List<String> names() {
      return filters.stream().map(HttpFilter::getName).toList();
    }

    GrpcRbac grpc() {
      return new GrpcRbac(filters);
    }
  }

  static Server server(String policies) {
    try (SecureMesh mesh = new SecureMesh(SecureMesh.greeter(PLAIN, PLAIN) + policies)) {
      ProxyView view = mesh.server(PLAIN);
      HttpConnectionManager hcm = SecureMesh.hcm(SecureMesh.listener(view, SERVER_LISTENER));
      return new Server(view, hcm.getHttpFiltersList());
    }
  }

  @Test
  void allowOnlyOnePrincipalMatchesExactlyItsSpiffeId() {
    Server s = server(ALLOW_FRONTEND);
    assertThat(s.names()).containsExactly("envoy.filters.http.rbac", "envoy.filters.http.router");
    RBAC rbac = s.rules("envoy.filters.http.rbac");
    assertThat(rbac.getAction()).isEqualTo(RBAC.Action.ALLOW);
    assertThat(rbac.getPoliciesMap()).containsOnlyKeys("ns[default]-policy[allow-frontend]-rule[0]");
    Policy p = rbac.getPoliciesOrThrow("ns[default]-policy[allow-frontend]-rule[0]");
    assertThat(p.getPrincipalsList()).containsExactly(and(or(authenticated(exact(FRONTEND)))));
    assertThat(p.getPermissionsList()).containsExactly(Permission.newBuilder()
        .setAndRules(Permission.Set.newBuilder().addRules(Permission.newBuilder().setAny(true))).build());

    GrpcRbac grpc = s.grpc();
    assertThat(grpc.allows(FRONTEND, HELLO)).isTrue();
    assertThat(grpc.allows(BACKEND, HELLO)).isFalse();
    assertThat(grpc.allows(null, HELLO)).as("plaintext has no principal").isFalse();
  }

  @Test
  void denyWithNotNamespacesComesFirst() {
    Server s = server(ALLOW_FRONTEND + authorizationPolicy("default", "deny-others", """
        action: DENY
        rules:
        - from: [{source: {notNamespaces: [default]}}]
        """));
    assertThat(s.names()).containsExactly("envoy.filters.http.rbac.DENY", "envoy.filters.http.rbac",
        "envoy.filters.http.router");
    RBAC deny = s.rules("envoy.filters.http.rbac.DENY");
    assertThat(deny.getAction()).isEqualTo(RBAC.Action.DENY);
    Policy p = deny.getPoliciesOrThrow("ns[default]-policy[deny-others]-rule[0]");
    assertThat(p.getPrincipalsList()).containsExactly(and(Principal.newBuilder()
        .setNotId(or(authenticated(regex(".*/ns/default/.*")))).build()));

    GrpcRbac grpc = s.grpc();
    assertThat(grpc.allows(FRONTEND, HELLO)).isTrue();
    assertThat(grpc.allows(OTHER_NS, HELLO)).isFalse();
  }

  @Test
  void allowPolicyWithoutRulesDeniesEverything() {
    Server s = server(authorizationPolicy("default", "deny-all", "selector: {matchLabels: {app: greeter}}"));
    RBAC allow = s.rules("envoy.filters.http.rbac");
    assertThat(allow.getAction()).isEqualTo(RBAC.Action.ALLOW);
    Policy never = allow.getPoliciesOrThrow("ns[default]-policy[deny-all]-rule[0]");
    assertThat(never.getPermissions(0).getNotRule().getAny()).isTrue();
    assertThat(never.getPrincipals(0).getNotId().getAny()).isTrue();
    assertThat(s.grpc().allows(FRONTEND, HELLO)).isFalse();
    assertThat(s.grpc().allows(null, HELLO)).isFalse();
  }

  @Test
  void noPolicyMeansNoRbacFilter() {
    assertThat(server("").names()).containsExactly("envoy.filters.http.router");
  }

  static Stream<Arguments> selection() {
    return Stream.of(
        Arguments.of("another namespace's policy", authorizationPolicy("other", "deny-all", "{}"), false),
        Arguments.of("a selector that does not match", authorizationPolicy("default", "deny-all",
            "selector: {matchLabels: {app: other}}"), false),
        Arguments.of("attached by targetRefs", authorizationPolicy("default", "deny-all",
            "targetRefs: [{kind: Service, group: \"\", name: greeter}]"), false),
        Arguments.of("namespace-wide", authorizationPolicy("default", "deny-all", "{}"), true),
        Arguments.of("mesh-wide in the root namespace", authorizationPolicy("istio-system", "deny-all", "{}"), true),
        Arguments.of("root namespace with a matching selector", authorizationPolicy("istio-system", "deny-all",
            "selector: {matchLabels: {app: greeter}}"), true));
  }

  @ParameterizedTest(name = "{0} applies: {2}")
  @MethodSource("selection")
  void policiesApplyAsIstioSelectsThem(String name, String policy, boolean applies) {
    Server s = server(policy);
    assertThat(s.names().contains("envoy.filters.http.rbac")).isEqualTo(applies);
    assertThat(s.grpc().allows(FRONTEND, HELLO)).isEqualTo(!applies);
  }

  static String allow(String rule) {
    return authorizationPolicy("default", "p", "rules:\n" + rule);
  }

  static String deny(String rule) {
    return authorizationPolicy("default", "p", "action: DENY\nrules:\n" + rule);
  }

  static Stream<Arguments> requests() {
    return Stream.of(
        // name, policy, peer, method, local port, allowed
        Arguments.of("exact path matches", allow("- to: [{operation: {paths: [/greet.Greeter/Hello]}}]"),
            FRONTEND, HELLO, 50051, true),
        Arguments.of("exact path rejects another method", allow("- to: [{operation: {paths: [/greet.Greeter/Hello]}}]"),
            FRONTEND, BYE, 50051, false),
        Arguments.of("path prefix", allow("- to: [{operation: {paths: [/greet.Greeter/*]}}]"), FRONTEND, BYE, 50051,
            true),
        Arguments.of("path suffix", allow("- to: [{operation: {paths: [\"*/Hello\"]}}]"), FRONTEND, BYE, 50051, false),
        Arguments.of("path template", allow("- to: [{operation: {paths: [\"/greet.Greeter/{*}\"]}}]"), FRONTEND,
            HELLO, 50051, true),
        Arguments.of("notPaths", allow("- to: [{operation: {notPaths: [/greet.Greeter/Bye]}}]"), FRONTEND, BYE, 50051,
            false),
        Arguments.of("notPaths lets others through", allow("- to: [{operation: {notPaths: [/greet.Greeter/Bye]}}]"),
            FRONTEND, HELLO, 50051, true),
        Arguments.of("methods POST (every gRPC call)", allow("- to: [{operation: {methods: [POST]}}]"), FRONTEND,
            HELLO, 50051, true),
        Arguments.of("methods GET", allow("- to: [{operation: {methods: [GET]}}]"), FRONTEND, HELLO, 50051, false),
        Arguments.of("notMethods POST", allow("- to: [{operation: {notMethods: [POST]}}]"), FRONTEND, HELLO, 50051,
            false),
        Arguments.of("ports", allow("- to: [{operation: {ports: [\"50051\"]}}]"), FRONTEND, HELLO, 50051, true),
        Arguments.of("ports, another port", allow("- to: [{operation: {ports: [\"50051\"]}}]"), FRONTEND, HELLO, 8080,
            false),
        Arguments.of("notPorts", allow("- to: [{operation: {notPorts: [\"50051\"]}}]"), FRONTEND, HELLO, 50051, false),
        Arguments.of("notPrincipals", allow("- from: [{source: {notPrincipals: [cluster.local/ns/default/sa/frontend]}}]"),
            FRONTEND, HELLO, 50051, false),
        Arguments.of("notPrincipals lets others through",
            allow("- from: [{source: {notPrincipals: [cluster.local/ns/default/sa/frontend]}}]"), BACKEND, HELLO,
            50051, true),
        Arguments.of("principal prefix", allow("- from: [{source: {principals: [\"cluster.local/ns/default/*\"]}}]"),
            BACKEND, HELLO, 50051, true),
        Arguments.of("principal prefix, other namespace",
            allow("- from: [{source: {principals: [\"cluster.local/ns/default/*\"]}}]"), OTHER_NS, HELLO, 50051,
            false),
        Arguments.of("principal suffix", allow("- from: [{source: {principals: [\"*/sa/frontend\"]}}]"), OTHER_NS,
            HELLO, 50051, true),
        Arguments.of("principals *, plaintext", allow("- from: [{source: {principals: [\"*\"]}}]"), null, HELLO,
            50051, false),
        Arguments.of("namespaces", allow("- from: [{source: {namespaces: [other]}}]"), OTHER_NS, HELLO, 50051, true),
        Arguments.of("namespaces, wrong one", allow("- from: [{source: {namespaces: [other]}}]"), FRONTEND, HELLO,
            50051, false),
        Arguments.of("namespace wildcard", allow("- from: [{source: {namespaces: [\"oth*\"]}}]"), OTHER_NS, HELLO,
            50051, true),
        Arguments.of("serviceAccounts", allow("- from: [{source: {serviceAccounts: [default/frontend]}}]"), FRONTEND,
            HELLO, 50051, true),
        Arguments.of("serviceAccounts, another one", allow("- from: [{source: {serviceAccounts: [frontend]}}]"),
            BACKEND, HELLO, 50051, false),
        Arguments.of("ipBlocks", allow("- from: [{source: {ipBlocks: [10.2.0.0/16]}}]"), null, HELLO, 50051, true),
        Arguments.of("notIpBlocks", allow("- from: [{source: {notIpBlocks: [10.2.0.1]}}]"), null, HELLO, 50051, false),
        Arguments.of("when source.namespace", allow("- when: [{key: source.namespace, values: [default]}]"), FRONTEND,
            HELLO, 50051, true),
        Arguments.of("when destination.port notValues", allow("- when: [{key: destination.port, notValues: [\"50051\"]}]"),
            FRONTEND, HELLO, 50051, false),
        Arguments.of("from and to both must match", allow("""
            - from: [{source: {principals: [cluster.local/ns/default/sa/frontend]}}]
              to: [{operation: {paths: [/greet.Greeter/Bye]}}]
            """), FRONTEND, HELLO, 50051, false),
        Arguments.of("any of several rules", allow("""
            - from: [{source: {principals: [cluster.local/ns/default/sa/backend]}}]
            - to: [{operation: {paths: [/greet.Greeter/Hello]}}]
            """), FRONTEND, HELLO, 50051, true),
        Arguments.of("deny a path", deny("- to: [{operation: {paths: [/greet.Greeter/Bye]}}]"), FRONTEND, BYE, 50051,
            false),
        Arguments.of("deny a path, others pass", deny("- to: [{operation: {paths: [/greet.Greeter/Bye]}}]"), FRONTEND,
            HELLO, 50051, true),
        Arguments.of("ALLOW on requestPrincipals: grpc-java cannot check JWTs, the rule allows nothing", allow("- from: [{source: {requestPrincipals: [\"*\"]}}]"),
            FRONTEND, HELLO, 50051, false),
        Arguments.of("DENY on notRequestPrincipals: the unchecked value is dropped, the rule denies all",
            deny("- from: [{source: {notRequestPrincipals: [\"*\"]}}]"), FRONTEND, HELLO, 50051, false),
        Arguments.of("ALLOW rule on a grpc- header is skipped: allows nothing",
            allow("- when: [{key: \"request.headers[grpc-timeout]\", values: [\"1S\"]}]"), FRONTEND, HELLO, 50051,
            false),
        Arguments.of("DENY rule loses a grpc- header condition: denies more",
            deny("""
                - to: [{operation: {paths: [/greet.Greeter/Bye]}}]
                  when: [{key: "request.headers[grpc-timeout]", values: ["1S"]}]
                """), FRONTEND, BYE, 50051, false),
        Arguments.of("request header", allow("- when: [{key: \"request.headers[x-user]\", notValues: [\"*\"]}]"),
            FRONTEND, HELLO, 50051, true));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("requests")
  void grpcJavaDecidesAsTheRuleSays(String name, String policy, String peer, String method, int port,
      boolean allowed) {
    assertThat(server(policy).grpc().allows(peer, method, port, "10.2.0.1")).isEqualTo(allowed);
  }

  @Test
  void pathsMethodsAndPortsBecomeUrlPathHeaderAndDestinationPort() {
    Server s = server(allow("""
        - to: [{operation: {paths: [/greet.Greeter/Hello], notMethods: [GET], ports: ["50051"]}}]
        """));
    Policy p = s.rules("envoy.filters.http.rbac").getPoliciesOrThrow("ns[default]-policy[p]-rule[0]");
    List<Permission> and = p.getPermissions(0).getAndRules().getRulesList();
    assertThat(and).hasSize(3);
    assertThat(and.get(0).getNotRule().getOrRules().getRules(0).getHeader().getName()).isEqualTo(":method");
    assertThat(and.get(1).getOrRules().getRules(0).getUrlPath().getPath()).isEqualTo(exact("/greet.Greeter/Hello"));
    assertThat(and.get(2).getOrRules().getRules(0).getDestinationPort()).isEqualTo(50051);
  }

  @Test
  void jwtConditionsOnAProxylessServerFailClosedAndAreReported() {
    String authn = SecureMesh.peerAuthentication("default", "jwt", """
        selector: {matchLabels: {app: greeter}}
        jwtRules: [{issuer: "https://idp.example.com", jwksUri: "https://idp.example.com/keys"}]
        """).replace("PeerAuthentication", "RequestAuthentication");
    Server s = server(authn + allow("""
        - from: [{source: {requestPrincipals: ["https://idp.example.com/alice"]}}]
        - when: [{key: "request.auth.claims[groups]", values: [admins]}]
        - from: [{source: {principals: [cluster.local/ns/default/sa/frontend]}}]
        """));
    RBAC allow = s.rules("envoy.filters.http.rbac");
    assertThat(allow.getPoliciesMap()).as("only the rule grpc-java can check remains")
        .containsOnlyKeys("ns[default]-policy[p]-rule[2]");
    assertThat(s.view().dropped().get("AuthorizationPolicy default/p rules[0]")).contains("rule skipped")
        .contains("grpc-java has no JWT filter");
    assertThat(s.view().dropped().get("AuthorizationPolicy default/p rules[1]")).contains("rule skipped");
    assertThat(s.view().dropped().get(SERVER_LISTENER + " RequestAuthentication")).contains("cannot verify JWTs");
    assertThat(s.grpc().allows(BACKEND, HELLO)).as("never a silent allow").isFalse();
    assertThat(s.grpc().allows(FRONTEND, HELLO)).isTrue();
  }

  @Test
  void auditAndDryRunPoliciesAreSkippedOnAProxylessServerAndReported() {
    Server s = server(authorizationPolicy("default", "audit", "action: AUDIT\nrules: [{}]")
        + authorizationPolicy("default", "dry", "{}").replace("metadata: {name: dry",
            "metadata: {annotations: {\"istio.io/dry-run\": \"true\"}, name: dry"));
    assertThat(s.names()).containsExactly("envoy.filters.http.router");
    assertThat(s.view().dropped().get("AuthorizationPolicy default/audit")).contains("no audit log");
    assertThat(s.view().dropped().get("AuthorizationPolicy default/dry")).contains("dry run");
    assertThat(s.grpc().allows(FRONTEND, HELLO)).isTrue();
  }

  @Test
  void unsupportedAttributesAreRecorded() {
    Server s = server(allow("- when: [{key: \"request.headers[grpc-timeout]\", values: [\"1S\"]}]"));
    assertThat(s.view().dropped().get("AuthorizationPolicy default/p rules[0]")).contains("rule skipped")
        .contains("grpc-timeout");
  }

  @Test
  void auditIsIgnoredAndCustomFailsClosed() {
    Server audit = server(authorizationPolicy("default", "audit", "action: AUDIT\nrules: [{}]"));
    assertThat(audit.names()).containsExactly("envoy.filters.http.router");
    assertThat(audit.view().dropped().get("AuthorizationPolicy default/audit")).contains("AUDIT");

    Server custom = server(authorizationPolicy("default", "ext", """
        action: CUSTOM
        provider: {name: opa}
        rules: [{to: [{operation: {paths: [/greet.Greeter/Bye]}}]}]
        """));
    assertThat(custom.names()).containsExactly("envoy.filters.http.rbac.DENY", "envoy.filters.http.router");
    assertThat(custom.grpc().allows(FRONTEND, BYE)).isFalse();
    assertThat(custom.grpc().allows(FRONTEND, HELLO)).isTrue();
  }

  static Principal and(Principal... ids) {
    return Principal.newBuilder().setAndIds(Principal.Set.newBuilder().addAllIds(List.of(ids))).build();
  }

  static Principal or(Principal... ids) {
    return Principal.newBuilder().setOrIds(Principal.Set.newBuilder().addAllIds(List.of(ids))).build();
  }

  static Principal authenticated(StringMatcher m) {
    return Principal.newBuilder().setAuthenticated(Principal.Authenticated.newBuilder().setPrincipalName(m)).build();
  }

  static StringMatcher exact(String s) {
    return StringMatcher.newBuilder().setExact(s).build();
  }

  static StringMatcher regex(String r) {
    return StringMatcher.newBuilder().setSafeRegex(RegexMatcher.newBuilder().setRegex(r)).build();
  }
}
