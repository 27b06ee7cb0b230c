package weft.model.gatewayapi;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import weft.model.ConfigProblem;
import weft.model.StringMatch;
import weft.model.VirtualService;
import weft.model.parse.ParsedFile;
import weft.model.parse.ResourceParser;

/**
 * HTTPRoute's CORS filter and rule {@code retry} become Istio's {@code corsPolicy} and
 * {@code retries}, as Istio's gateway controller converts them.
 */
class GatewayApiCorsAndRetryTest {
  static final String ROUTE = """
      apiVersion: gateway.networking.k8s.io/v1
      kind: HTTPRoute
      metadata: {name: api, namespace: shop}
      spec:
        parentRefs: [{group: "", kind: Service, name: api}]
        rules:
        - matches: [{path: {type: PathPrefix, value: /v1}}]
          filters:
          - type: CORS
            cors:
              allowOrigins: ["https://www.example.com", "https://*.example.org", "http://localhost:*", "*"]
              allowMethods: [GET, POST]
              allowHeaders: [x-request-id]
              exposeHeaders: [x-trace]
              maxAge: 600
              allowCredentials: true
          backendRefs: [{name: api-v1, port: 80}]
          timeouts: {backendRequest: 2s}
          retry: {codes: [503, 502], attempts: 3, backoff: 100ms}
        - matches: [{path: {type: PathPrefix, value: /v2}}]
          backendRefs: [{name: api-v2, port: 80}]
          retry: {}
        - matches: [{path: {type: PathPrefix, value: /v3}}]
          backendRefs: [{name: api-v2, port: 80}]
          retry: {attempts: 0}
      """;

  private static VirtualService.HttpRoute route(GatewayApiTranslation.Result r, String prefix) {
    return r.virtualServices().stream().flatMap(v -> v.http().stream())
        .filter(h -> h.match().get(0).uri() != null && h.match().get(0).uri().value().equals(prefix))
        .findFirst().orElseThrow();
  }

  @Test
  void aCorsFilterBecomesTheRoutesCorsPolicyWithOriginsMatchedAsIstioMatchesThem() {
    GatewayApiTranslation.Result r = GatewayApiTranslationTest.translate(ROUTE);
    VirtualService.CorsPolicy cors = route(r, "/v1").cors();
    assertThat(cors).isNotNull();
    assertThat(cors.allowOrigins()).extracting(StringMatch::kind).containsExactly(StringMatch.Kind.EXACT,
        StringMatch.Kind.REGEX, StringMatch.Kind.PREFIX, StringMatch.Kind.REGEX);
    assertThat(cors.allowOrigins().get(0).value()).isEqualTo("https://www.example.com");
    assertThat(cors.allowOrigins().get(2).value()).isEqualTo("http://localhost:");
    Pattern wildcard = Pattern.compile(cors.allowOrigins().get(1).value());
    assertThat(wildcard.matcher("https://a.example.org").matches()).isTrue();
    assertThat(wildcard.matcher("https://a.example.org.evil.com").matches()).isFalse();
    assertThat(wildcard.matcher("https://aexample.org").matches()).isFalse();
    Pattern any = Pattern.compile(cors.allowOrigins().get(3).value());
    assertThat(any.matcher("https://x.example:8443").matches()).isTrue();
    assertThat(any.matcher("null").matches()).isFalse();
    assertThat(cors.allowMethods()).containsExactly("GET", "POST");
    assertThat(cors.allowHeaders()).containsExactly("x-request-id");
    assertThat(cors.exposeHeaders()).containsExactly("x-trace");
    assertThat(cors.maxAge()).isEqualTo(Duration.ofSeconds(600));
    assertThat(cors.allowCredentials()).isTrue();
    // Istio's gateway controller answers preflights that match no origin itself.
    assertThat(cors.unmatchedPreflights()).isEqualTo("IGNORE");
    assertThat(route(r, "/v1").route()).isNotEmpty();
  }

  @Test
  void aRetryRetriesConnectionErrorsAndTheListedCodesWithTheBackendTimeoutPerTry() {
    GatewayApiTranslation.Result r = GatewayApiTranslationTest.translate(ROUTE);
    VirtualService.Retry v1 = route(r, "/v1").retries();
    assertThat(v1.attempts()).isEqualTo(3);
    assertThat(v1.perTryTimeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(v1.retryOn()).isEqualTo("connect-failure,refused-stream,unavailable,cancelled,503,502");
    // Istio's default when attempts is unset is 2; attempts 0 turns retries off.
    assertThat(route(r, "/v2").retries().attempts()).isEqualTo(2);
    assertThat(route(r, "/v3").retries().attempts()).isZero();
    assertThat(route(r, "/v3").retries().retryOn()).isNull();
    // Weft's retry policy has no backoff: said, not silently dropped.
    assertThat(r.problems()).anySatisfy(p -> assertThat(p.message()).contains("retry.backoff"));
    assertThat(r.problems()).noneSatisfy(p -> assertThat(p.message()).contains("CORS"));
  }

  @Test
  void badOriginsAndCodesAreErrorsNamingTheField() {
    ParsedFile f = ResourceParser.parse("route.yaml", ROUTE
        .replace("\"https://www.example.com\"", "\"www.example.com/path\"")
        .replace("codes: [503, 502]", "codes: [503, 302]"));
    assertThat(f.problems()).filteredOn(p -> p.severity() == ConfigProblem.Severity.ERROR)
        .anySatisfy(p -> assertThat(p.message()).contains("cors.allowOrigins").contains("www.example.com/path"))
        .anySatisfy(p -> assertThat(p.message()).contains("retry.codes").contains("302"));
  }
}
