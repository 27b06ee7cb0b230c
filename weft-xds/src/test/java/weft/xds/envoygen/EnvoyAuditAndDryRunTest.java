package weft.xds.envoygen;

import static org.assertj.core.api.Assertions.assertThat;
import static weft.xds.envoygen.EnvoyMesh.unpack;
import static weft.xds.envoygen.EnvoySecurityTest.authorizationPolicy;
import static weft.xds.envoygen.EnvoySecurityTest.chain;
import static weft.xds.envoygen.EnvoySecurityTest.inbound;

import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.rbac.v3.RBAC;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import weft.xds.view.ProxyView;

/** AUDIT policies as RBAC with action LOG, and dry-run policies as shadow rules, on the sidecar's inbound chains. */
class EnvoyAuditAndDryRunTest {
  static final String APP = "selector: {matchLabels: {app: productpage}}\n";

  EnvoyMesh mesh;

  @AfterEach
  void stop() {
    if (mesh != null) mesh.close();
  }

  ProxyView productpage(String yaml) {
    mesh = new EnvoyMesh(EnvoySecurityTest.MESH + yaml);
    return mesh.sidecar("default", "10.1.2.1", Map.of("app", "productpage"));
  }

  static String dryRun(String policy) {
    return policy.replace("metadata: {name: ", "metadata: {annotations: {\"istio.io/dry-run\": \"true\"}, name: ");
  }

  static io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC http(ProxyView view, String filter) {
    List<HttpFilter> filters = EnvoyJwtTest.httpFilters(view, "0.0.0.0_9081");
    HttpFilter f = filters.stream().filter(x -> x.getName().equals(filter)).findFirst()
        .orElseThrow(() -> new AssertionError("no " + filter + " in " + filters.stream().map(HttpFilter::getName).toList()));
    return unpack(f.getTypedConfig(), io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC.class);
  }

  @Test
  void auditPoliciesLogThroughAnRbacFilterWithActionLogBeforeDenyAndAllow() {
    ProxyView view = productpage(authorizationPolicy("default", "audit-admin", APP + """
        action: AUDIT
        rules:
        - to: [{operation: {paths: ["/admin*"]}}]
        """) + authorizationPolicy("default", "deny-evil", APP + """
        action: DENY
        rules:
        - from: [{source: {namespaces: [evil]}}]
        """));
    assertThat(EnvoyJwtTest.httpFilters(view, "0.0.0.0_9081")).extracting(HttpFilter::getName).containsExactly(
        "envoy.filters.http.rbac.AUDIT", "envoy.filters.http.rbac.DENY", "envoy.filters.http.fault",
        "envoy.filters.http.router");
    RBAC audit = http(view, "envoy.filters.http.rbac.AUDIT").getRules();
    assertThat(audit.getAction()).isEqualTo(RBAC.Action.LOG);
    assertThat(audit.getPoliciesMap()).containsOnlyKeys("ns[default]-policy[audit-admin]-rule[0]");
    assertThat(chain(inbound(view), "0.0.0.0_7070").getFiltersList()).extracting(Filter::getName)
        .as("a TCP chain logs what it can check; the path rule is HTTP only, so it is skipped there")
        .startsWith("envoy.filters.network.rbac.AUDIT");
    assertThat(EnvoyJwtTest.violations(view)).isEmpty();
  }

  @Test
  void aDryRunDenyIsShadowRulesOnlyAndEnforcesNothing() {
    ProxyView view = productpage(dryRun(authorizationPolicy("default", "deny-path-headers", APP + """
        action: DENY
        rules:
        - to: [{operation: {paths: ["/headers"]}}]
        """)));
    io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC deny = http(view, "envoy.filters.http.rbac.DENY");
    assertThat(deny.hasRules()).as("nothing enforced").isFalse();
    assertThat(deny.getShadowRules().getAction()).isEqualTo(RBAC.Action.DENY);
    assertThat(deny.getShadowRules().getPoliciesMap()).containsOnlyKeys("ns[default]-policy[deny-path-headers]-rule[0]");
    assertThat(deny.getShadowRulesStatPrefix()).isEqualTo("istio_dry_run_deny_");
    assertThat(EnvoyJwtTest.violations(view)).isEmpty();
  }

  @Test
  void aDryRunAllowBesideAnEnforcedAllowShadowsWithoutChangingTheEnforcedRules() {
    ProxyView view = productpage(authorizationPolicy("default", "allow-get", APP + """
        rules:
        - to: [{operation: {methods: [GET]}}]
        """) + dryRun(authorizationPolicy("default", "allow-nothing", APP)));
    io.envoyproxy.envoy.extensions.filters.http.rbac.v3.RBAC allow = http(view, "envoy.filters.http.rbac");
    assertThat(allow.getRules().getPoliciesMap()).containsOnlyKeys("ns[default]-policy[allow-get]-rule[0]");
    assertThat(allow.getShadowRules().getPoliciesMap()).containsOnlyKeys("ns[default]-policy[allow-nothing]-rule[0]");
    assertThat(allow.getShadowRulesStatPrefix()).isEqualTo("istio_dry_run_allow_");
    assertThat(EnvoyJwtTest.violations(view)).isEmpty();
  }
}
