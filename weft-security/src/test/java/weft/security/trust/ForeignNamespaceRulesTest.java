package weft.security.trust;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import weft.model.AuthorizationPolicy;
import weft.model.ConfigProblem;
import weft.model.parse.ResourceParser;

class ForeignNamespaceRulesTest {
  static List<AuthorizationPolicy> policies(String yaml) {
    return ResourceParser.parse("authz.yaml", yaml).resources().stream()
        .map(AuthorizationPolicy.class::cast).toList();
  }

  static final String POLICIES = """
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: {name: by-namespace, namespace: default}
      spec:
        rules:
        - from:
          - source: {namespaces: [default]}
          - source: {namespaces: [web], trustDomains: [cluster.local]}
          - source: {namespaces: [api], principals: ["cluster.local/ns/api/sa/*"]}
      ---
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: {name: deny-by-namespace, namespace: default}
      spec:
        action: DENY
        rules:
        - from: [{source: {namespaces: [untrusted]}}]
      ---
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: {name: not-mesh2, namespace: default}
      spec:
        rules:
        - from: [{source: {namespaces: [default], notTrustDomains: [mesh2.example]}}]
      """;

  @Test
  void anAllowRuleWhoseNamespacesAdmitATrustedForeignDomainIsAWarningNamingTheField() {
    List<ConfigProblem> found = ForeignNamespaceRules.findings(policies(POLICIES), List.of("mesh2.example"));
    assertThat(found).hasSize(1);
    ConfigProblem p = found.get(0);
    assertThat(p.severity()).isEqualTo(ConfigProblem.Severity.WARNING);
    assertThat(p.resource().name()).isEqualTo("by-namespace");
    assertThat(p.field()).isEqualTo("spec.rules[0].from[0].source.namespaces");
    assertThat(p.message()).contains("[default]").contains("mesh2.example").contains("trustDomains");
  }

  @Test
  void withoutForeignTrustNamespacesAreNotAFinding() {
    assertThat(ForeignNamespaceRules.findings(policies(POLICIES), List.of())).isEmpty();
  }
}
