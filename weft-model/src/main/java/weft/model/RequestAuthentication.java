package weft.model;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A {@code security.istio.io} RequestAuthentication: which JWT issuers the selected workloads accept,
 * where their keys are and where tokens are found. Envoy sidecars check the tokens ({@code jwt_authn});
 * proxyless gRPC servers cannot (grpc-java has no JWT filter), which generators report.
 *
 * <p>{@code selector} is the workload selector's {@code matchLabels}, or null for every workload of the
 * namespace (the mesh, in the root namespace); {@code targetRefs} lists {@code Kind/name} as for
 * {@link AuthorizationPolicy}. {@code jwtRules} keep their order, which names Envoy's providers.
 */
public record RequestAuthentication(ResourceId id, Map<String, String> selector, List<String> targetRefs,
    List<JwtRule> jwtRules) implements Resource {
  public RequestAuthentication {
    selector = selector == null ? null : Map.copyOf(selector);
    targetRefs = List.copyOf(targetRefs);
    jwtRules = List.copyOf(jwtRules);
  }

  /** The rules' issuers, in order. */
  public List<String> issuers() {
    return jwtRules.stream().map(JwtRule::issuer).toList();
  }

  /**
   * One issuer (Istio's JWTRule). {@code jwksUri} and {@code jwks} are null when absent; with neither, the
   * keys are found by OpenID discovery from the issuer. {@code fromHeaders}, {@code fromParams} and
   * {@code fromCookies} empty: the token is read from {@code Authorization: Bearer} and the
   * {@code access_token} parameter, as Envoy's defaults. {@code timeout} bounds a key fetch (null: default).
   */
  public record JwtRule(String issuer, List<String> audiences, String jwksUri, String jwks,
      List<TokenHeader> fromHeaders, List<String> fromParams, List<String> fromCookies, String outputPayloadToHeader,
      List<ClaimToHeader> outputClaimToHeaders, boolean forwardOriginalToken, Duration timeout) {
    public JwtRule {
      audiences = List.copyOf(audiences);
      fromHeaders = List.copyOf(fromHeaders);
      fromParams = List.copyOf(fromParams);
      fromCookies = List.copyOf(fromCookies);
      outputClaimToHeaders = List.copyOf(outputClaimToHeaders);
    }

    /** A rule with only an issuer and inline keys or a key URL (tests, tools). */
    public static JwtRule of(String issuer, String jwksUri, String jwks) {
      return new JwtRule(issuer, List.of(), jwksUri, jwks, List.of(), List.of(), List.of(), null, List.of(), false,
          null);
    }
  }

  /** A header that carries the token, and the prefix before it ({@code "Bearer "}), empty when none. */
  public record TokenHeader(String name, String prefix) {}

  /** A claim of a valid token copied into a request header. */
  public record ClaimToHeader(String header, String claim) {}
}
