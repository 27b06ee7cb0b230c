package weft.model.parse;

import java.net.URI;
import java.time.Duration;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import weft.model.Jwks;
import weft.model.RequestAuthentication;
import weft.model.RequestAuthentication.ClaimToHeader;
import weft.model.RequestAuthentication.JwtRule;
import weft.model.RequestAuthentication.TokenHeader;

/**
 * A {@code security.istio.io} RequestAuthentication, checked field by field against Istio's schema
 * (security/v1beta1/request_authentication.proto and jwt.proto). An inline {@code jwks} is checked as a
 * key set ({@link Jwks}): Envoy would refuse the whole listener over one it cannot read.
 */
final class RequestAuthenticationParser {
  private RequestAuthenticationParser() {}

  static RequestAuthentication parse(Document d) {
    Fields spec = d.root().object("spec");
    boolean selectorSet = spec.has("selector");
    Map<String, String> selector = SecurityChecks.selector(spec);
    List<String> targetRefs = AuthorizationPolicyParser.targetRefs(spec, selectorSet);
    List<JwtRule> rules = new ArrayList<>();
    for (Fields rule : spec.objects("jwtRules")) {
      JwtRule r = jwtRule(rule);
      if (r != null) rules.add(r);
    }
    spec.rejectUnknown("RequestAuthentication");
    return new RequestAuthentication(d.id(), selector, targetRefs, rules);
  }

  /** One JWTRule, or null when it has no issuer (reported). */
  private static JwtRule jwtRule(Fields rule) {
    Report report = rule.report();
    String issuer = rule.string("issuer");
    if (issuer == null || issuer.isEmpty()) {
      report.error(rule.at("issuer"), rule.at("issuer") + " is missing; every JWT rule names the issuer it accepts, "
          + "e.g. issuer: https://accounts.example.com");
      issuer = null;
    }
    List<String> audiences = rule.strings("audiences");
    SecurityChecks.nonEmpty(report, rule.at("audiences"), audiences);
    String jwksUri = emptyToNull(rule.string("jwksUri"));
    if (jwksUri != null) {
      String bad = httpUri(jwksUri);
      if (bad != null) report.error(rule.at("jwksUri"), rule.at("jwksUri") + " " + bad);
    }
    String jwks = emptyToNull(rule.string("jwks"));
    if (jwks != null) {
      String bad = Jwks.problem(jwks);
      if (bad != null) {
        report.error(rule.at("jwks"), rule.at("jwks") + " is not a key set Envoy can read (" + bad + "); give the issuer's JSON Web Key Set, e.g. "
            + "{\"keys\": [{\"kty\": \"RSA\", \"n\": \"...\", \"e\": \"AQAB\"}]}, or its URL in jwksUri");
      }
    }
    List<TokenHeader> headers = new ArrayList<>();
    for (Fields header : rule.objects("fromHeaders")) {
      String name = header.string("name");
      if (name == null || name.isEmpty()) {
        report.error(header.at("name"), header.at("name") + " is missing; name the header that carries the token, "
            + "e.g. name: Authorization");
      }
      String prefix = header.string("prefix", "");
      header.rejectUnknown("JWTHeader");
      headers.add(new TokenHeader(name, prefix));
    }
    List<String> params = rule.strings("fromParams");
    SecurityChecks.nonEmpty(report, rule.at("fromParams"), params);
    List<String> cookies = rule.strings("fromCookies");
    SecurityChecks.nonEmpty(report, rule.at("fromCookies"), cookies);
    String payloadHeader = emptyToNull(rule.string("outputPayloadToHeader"));
    boolean forward = rule.bool("forwardOriginalToken", false);
    List<ClaimToHeader> claims = new ArrayList<>();
    for (Fields claim : rule.objects("outputClaimToHeaders")) {
      String header = claim.string("header");
      String name = claim.string("claim");
      for (String field : List.of("header", "claim")) {
        String v = field.equals("header") ? header : name;
        if (v == null || v.isEmpty()) {
          report.error(claim.at(field), claim.at(field) + " is missing; outputClaimToHeaders entries name a header "
              + "and a claim");
        }
      }
      claim.rejectUnknown("ClaimToHeader");
      claims.add(new ClaimToHeader(header, name));
    }
    Duration timeout = rule.duration("timeout", false);
    rule.rejectUnknown("JWTRule");
    if (issuer == null) return null;
    return new JwtRule(issuer, audiences, jwksUri, jwks, headers, params, cookies, payloadHeader, claims, forward,
        timeout);
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }

  private static String httpUri(String text) {
    try {
      URI uri = new URI(text);
      String scheme = uri.getScheme();
      if (("http".equals(scheme) || "https".equals(scheme)) && uri.getHost() != null) return null;
    } catch (URISyntaxException e) {
      // reported below
    }
    return Checks.quote(text) + " is not an http or https URL; give the URL of the issuer's JSON Web Key Set, e.g. "
        + "https://accounts.example.com/.well-known/jwks.json";
  }
}
