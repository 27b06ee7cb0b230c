package weft.model.parse;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.model.parse.Yamls.FILE;
import static weft.model.parse.Yamls.errors;
import static weft.model.parse.Yamls.ids;
import static weft.model.parse.Yamls.only;
import static weft.model.parse.Yamls.parse;
import static weft.model.parse.Yamls.warnings;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import weft.model.AuthorizationPolicy;
import weft.model.AuthorizationPolicy.Condition;
import weft.model.AuthorizationPolicy.From;
import weft.model.AuthorizationPolicy.Operation;
import weft.model.AuthorizationPolicy.Rule;
import weft.model.AuthorizationPolicy.Source;
import weft.model.AuthorizationPolicy.To;
import weft.model.ConfigProblem;
import weft.model.ResourceId;

class AuthorizationPolicyParserTest {
  private static final List<String> NONE = List.of();

  private static Source principals(String... principals) {
    return new Source(List.of(principals), NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE);
  }

  private static Source namespaces(String... namespaces) {
    return new Source(NONE, NONE, NONE, NONE, List.of(namespaces), NONE, NONE, NONE, NONE, NONE);
  }

  private static Operation methodsAndPaths(List<String> methods, List<String> paths) {
    return new Operation(NONE, NONE, NONE, NONE, methods, NONE, paths, NONE);
  }

  // ---- Istio's examples (security/v1beta1/authorization_policy.proto, the authorization tasks) ----

  @Test
  void allowNothing() {
    AuthorizationPolicy ap = only(parse("""
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata:
         name: allow-nothing
         namespace: foo
        spec:
          {}
        """), AuthorizationPolicy.class);
    assertThat(ap).isEqualTo(new AuthorizationPolicy(new ResourceId("AuthorizationPolicy", "foo", "allow-nothing"),
        null, List.of(), "ALLOW", null, List.of()));
  }

  @Test
  void allowAllWithAnEmptyRule() {
    AuthorizationPolicy ap = only(parse("""
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata:
         name: allow-all
         namespace: foo
        spec:
         rules:
         - {}
        """), AuthorizationPolicy.class);
    assertThat(ap.rules()).containsExactly(new Rule(List.of(), List.of(), List.of()));
  }

  @Test
  void allowOnlyTheFrontendToGetSomePaths() {
    ParsedFile f = parse("""
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata:
          name: backend
          namespace: default
        spec:
          selector:
            matchLabels:
              app: backend
          action: ALLOW
          rules:
          - from:
            - source:
                principals: ["cluster.local/ns/default/sa/frontend"]
            to:
            - operation:
                methods: ["GET"]
                paths: ["/api/*", "/healthz"]
        """);
    AuthorizationPolicy ap = only(f, AuthorizationPolicy.class);
    assertThat(f.problems()).isEmpty();
    assertThat(ap.selector()).isEqualTo(Map.of("app", "backend"));
    assertThat(ap.action()).isEqualTo("ALLOW");
    assertThat(ap.rules()).containsExactly(new Rule(
        List.of(new From(principals("cluster.local/ns/default/sa/frontend"))),
        List.of(new To(methodsAndPaths(List.of("GET"), List.of("/api/*", "/healthz")))),
        List.of()));
  }

  @Test
  void theReferenceExampleWithSourcesOperationsAndAClaimCondition() {
    AuthorizationPolicy ap = only(parse("""
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata:
          name: httpbin
          namespace: foo
        spec:
          action: ALLOW
          rules:
          - from:
            - source:
                principals: ["cluster.local/ns/default/sa/sleep"]
            - source:
                namespaces: ["test"]
            to:
            - operation:
                methods: ["GET"]
                paths: ["/info*"]
            - operation:
                methods: ["POST"]
                paths: ["/data"]
            when:
            - key: request.auth.claims[iss]
              values: ["https://accounts.google.com"]
        """), AuthorizationPolicy.class);
    assertThat(ap.rules()).containsExactly(new Rule(
        List.of(new From(principals("cluster.local/ns/default/sa/sleep")), new From(namespaces("test"))),
        List.of(new To(methodsAndPaths(List.of("GET"), List.of("/info*"))),
            new To(methodsAndPaths(List.of("POST"), List.of("/data")))),
        List.of(new Condition("request.auth.claims[iss]", List.of("https://accounts.google.com"), List.of()))));
  }

  @Test
  void denyFromOutsideTheNamespaces() {
    ParsedFile f = parse("""
        apiVersion: security.istio.io/v1beta1
        kind: AuthorizationPolicy
        metadata:
          name: deny-other-namespaces
          namespace: foo
        spec:
          action: DENY
          rules:
          - from:
            - source:
                notNamespaces: ["foo", "istio-system"]
        """);
    AuthorizationPolicy ap = only(f, AuthorizationPolicy.class);
    assertThat(f.problems()).isEmpty(); // a source attribute works on TCP too: no HTTP-only warning
    assertThat(ap.action()).isEqualTo("DENY");
    assertThat(ap.rules().get(0).from().get(0).source().notNamespaces()).containsExactly("foo", "istio-system");
  }

  @Test
  void conditionOnARequestHeader() {
    AuthorizationPolicy ap = only(parse("""
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: token, namespace: foo}
        spec:
          selector: {matchLabels: {app: httpbin}}
          rules:
          - when:
            - key: request.headers[x-token]
              values: ["admin", "guest"]
              not_values: ["blocked"]
        """), AuthorizationPolicy.class);
    assertThat(ap.rules().get(0).when())
        .containsExactly(new Condition("request.headers[x-token]", List.of("admin", "guest"), List.of("blocked")));
  }

  @Test
  void customActionWithItsProvider() {
    AuthorizationPolicy ap = only(parse("""
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata:
          name: ext-authz
          namespace: istio-system
        spec:
          selector:
            matchLabels:
              app: istio-ingressgateway
          action: CUSTOM
          provider:
            name: "my-custom-authz"
          rules:
          - to:
            - operation:
                paths: ["/admin/*"]
        """), AuthorizationPolicy.class);
    assertThat(ap.action()).isEqualTo("CUSTOM");
    assertThat(ap.provider()).isEqualTo("my-custom-authz");
  }

  @Test
  void serviceAccountsTrustDomainsIpsAndPortsAreCarried() {
    AuthorizationPolicy ap = only(parse("""
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: tcp, namespace: db}
        spec:
          action: AUDIT
          rules:
          - from:
            - source:
                serviceAccounts: ["app/api", "reporter"]
                trustDomains: ["*.corp.example"]
                ipBlocks: ["10.0.0.0/8", "2001:db8::1"]
                remoteIpBlocks: ["203.0.113.4"]
            to:
            - operation: {ports: ["5432"], notPorts: ["0"]}
            when:
            - {key: destination.port, values: ["5432"]}
            - {key: source.ip, notValues: ["10.1.0.0/16"]}
        """), AuthorizationPolicy.class);
    Source s = ap.rules().get(0).from().get(0).source();
    assertThat(s.serviceAccounts()).containsExactly("app/api", "reporter");
    assertThat(s.trustDomains()).containsExactly("*.corp.example");
    assertThat(s.ipBlocks()).containsExactly("10.0.0.0/8", "2001:db8::1");
    assertThat(s.remoteIpBlocks()).containsExactly("203.0.113.4");
    assertThat(ap.rules().get(0).to().get(0).operation().ports()).containsExactly("5432");
  }

  // ---- accepted with a warning ----

  @Test
  void targetRefsAreCarriedWithoutWarning() {
    ParsedFile f = parse("""
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: gw, namespace: foo}
        spec:
          targetRefs:
          - kind: Gateway
            group: gateway.networking.k8s.io
            name: ingress
          - {kind: Service, group: "", name: reviews}
          action: DENY
          rules:
          - to: [{operation: {ports: ["8080"], methods: [POST]}}]
        """);
    AuthorizationPolicy ap = only(f, AuthorizationPolicy.class);
    assertThat(ap.selector()).isNull();
    assertThat(ap.targetRefs()).containsExactly("Gateway/ingress", "Service/reviews");
    // Followed for Gateways; a Service's waypoint is reported on the proxies where it would apply.
    assertThat(warnings(f)).isEmpty();
  }

  @Test
  void aDenyRuleOnlyOnHttpAttributesWarnsAsIstioDoes() {
    ParsedFile f = parse("""
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: httpbin, namespace: foo}
        spec:
          action: DENY
          rules:
          - from:
            - source:
                namespaces: ["dev"]
            to:
            - operation:
                methods: ["POST"]
        """);
    only(f, AuthorizationPolicy.class);
    assertThat(warnings(f)).singleElement().satisfies(p -> {
      assertThat(p.field()).isEqualTo("spec.rules[0]");
      assertThat(p.message()).contains("TCP");
    });
  }

  @Test
  void aStarInTheMiddleIsMatchedLiterallyByIstioSoItWarns() {
    ParsedFile f = parse("""
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: glob, namespace: foo}
        spec:
          rules:
          - to:
            - operation:
                paths: ["/api/*/users", "/ok*", "/v1/{*}/items"]
                hosts: ["*.example.com"]
        """);
    only(f, AuthorizationPolicy.class);
    assertThat(warnings(f)).singleElement().satisfies(p -> {
      assertThat(p.field()).isEqualTo("spec.rules[0].to[0].operation.paths[0]");
      assertThat(p.message()).contains("matches literally");
    });
  }

  @Test
  void aDryRunPolicyIsKeptMarkedAsADryRun() {
    ParsedFile f = parse("""
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata:
          name: dry-run-example
          annotations:
            "istio.io/dry-run": "true"
        spec:
          selector:
            matchLabels:
              app: httpbin
          action: DENY
          rules:
          - to:
            - operation:
                paths: ["/headers"]
                ports: ["8000"]
        """);
    assertThat(errors(f)).isEmpty();
    assertThat(warnings(f)).isEmpty();
    assertThat(f.resources()).singleElement().satisfies(r -> {
      weft.model.AuthorizationPolicy p = (weft.model.AuthorizationPolicy) r;
      assertThat(p.dryRun()).isTrue();
      assertThat(p.action()).isEqualTo("DENY");
    });
  }

  // ---- what Istio refuses ----

  @Test
  void anErrorRejectsThePolicyAloneAndNamesFileResourceAndField() {
    ParsedFile f = parse("""
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: bad, namespace: foo}
        spec:
          rules:
          - to:
            - operation:
                ports: ["http"]
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: good, namespace: foo}
        spec:
          rules:
          - to:
            - operation:
                ports: ["8080"]
        """);
    assertThat(ids(f)).containsExactly(new ResourceId("AuthorizationPolicy", "foo", "good"));
    assertThat(errors(f)).singleElement().satisfies(p -> {
      assertThat(p.file()).isEqualTo(FILE);
      assertThat(p.resource()).isEqualTo(new ResourceId("AuthorizationPolicy", "foo", "bad"));
      assertThat(p.field()).isEqualTo("spec.rules[0].to[0].operation.ports[0]");
      assertThat(p.message()).contains("\"http\" is not a port");
      assertThat(p.describe()).startsWith(FILE + ": AuthorizationPolicy foo/bad: field spec.rules[0]");
    });
  }

  @Test
  void typoIsAnErrorWithAHint() {
    ParsedFile f = parse("""
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: typo, namespace: foo}
        spec:
          rules:
          - from:
            - source:
                principles: ["cluster.local/ns/default/sa/frontend"]
        """);
    assertThat(f.resources()).isEmpty();
    assertThat(errors(f)).extracting(ConfigProblem::field)
        .contains("spec.rules[0].from[0].source.principles");
    assertThat(errors(f)).filteredOn(p -> p.field().endsWith("principles")).singleElement()
        .satisfies(p -> assertThat(p.message()).contains("did you mean spec.rules[0].from[0].source.principals?"));
  }

  @Test
  void denyAndCustomNeedRulesAllowDoesNot() {
    ParsedFile f = parse("""
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: deny-nothing, namespace: foo}
        spec:
          action: DENY
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: deny-empty, namespace: foo}
        spec:
          action: DENY
          rules: []
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: deny-all, namespace: foo}
        spec:
          action: DENY
          rules: [{}]
        ---
        apiVersion: security.istio.io/v1
        kind: AuthorizationPolicy
        metadata: {name: allow-nothing, namespace: foo}
        spec:
          rules: []
        """);
    assertThat(ids(f)).containsExactly(new ResourceId("AuthorizationPolicy", "foo", "deny-all"),
        new ResourceId("AuthorizationPolicy", "foo", "allow-nothing"));
    assertThat(errors(f)).extracting(p -> p.resource().name()).containsExactly("deny-nothing", "deny-empty");
    assertThat(errors(f)).allSatisfy(p -> assertThat(p.field()).isEqualTo("spec.rules"));
  }

  @Test
  void recordsCopyTheirLists() {
    var principals = new java.util.ArrayList<>(List.of("a"));
    Source s = new Source(principals, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE, NONE);
    principals.add("b");
    assertThat(s.principals()).containsExactly("a");
    assertThat(s.serviceAccounts()).isEmpty();
  }
}
