package weft.model.parse;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import weft.model.RequestAuthentication;

/**
 * A {@code security.istio.io} RequestAuthentication, checked field by field against Istio's schema
 * (security/v1beta1/request_authentication.proto and jwt.proto). Weft does not check JWTs yet: a valid
 * policy is kept, with one warning that it is not enforced, as DESIGN's rule for known but unimplemented
 * input asks. Until then a request carrying an invalid token is not refused (Istio refuses it), while
 * AuthorizationPolicy rules on request principals match no request, so they fail closed.
 */
final class RequestAuthenticationParser {
  private RequestAuthenticationParser() {}

  static RequestAuthentication parse(Document d) {
    Fields spec = d.root().object("spec");
    Report report = d.report();
    boolean selectorSet = spec.has("selector");
    Map<String, String> selector = SecurityChecks.selector(spec);
    List<String> targetRefs = AuthorizationPolicyParser.targetRefs(spec, selectorSet);
    List<String> issuers = new ArrayList<>();
    for (Fields rule : spec.objects("jwtRules")) {
      String issuer = jwtRule(rule);
      if (issuer != null) issuers.add(issuer);
    }
    spec.rejectUnknown("RequestAuthentication");
    if (!report.hasErrors()) {
      report.warn(spec.at("jwtRules"), "RequestAuthentication is not enforced by Weft yet: JWTs are not validated "
          + "(a request with an invalid token is not refused) and request principals stay empty, so "
          + "AuthorizationPolicy rules on requestPrincipals or request.auth.* match no request; the policy is kept "
          + "and will apply once Weft checks JWTs");
    }
    return new RequestAuthentication(d.id(), selector, targetRefs, issuers);
  }

  /** One JWTRule; returns its issuer, or null when it has none. */
  private static String jwtRule(Fields rule) {
    Report report = rule.report();
    String issuer = rule.string("issuer");
    if (issuer == null || issuer.isEmpty()) {
      report.error(rule.at("issuer"), rule.at("issuer") + " is missing; every JWT rule names the issuer it accepts, "
          + "e.g. issuer: https://accounts.example.com");
      issuer = null;
    }
    SecurityChecks.nonEmpty(report, rule.at("audiences"), rule.strings("audiences"));
    String jwksUri = rule.string("jwksUri");
    if (jwksUri != null && !jwksUri.isEmpty()) {
      String bad = httpUri(jwksUri);
      if (bad != null) report.error(rule.at("jwksUri"), rule.at("jwksUri") + " " + bad);
    }
    rule.string("jwks");
    for (Fields header : rule.objects("fromHeaders")) {
      String name = header.string("name");
      if (name == null || name.isEmpty()) {
        report.error(header.at("name"), header.at("name") + " is missing; name the header that carries the token, "
            + "e.g. name: Authorization");
      }
      header.string("prefix");
      header.rejectUnknown("JWTHeader");
    }
    SecurityChecks.nonEmpty(report, rule.at("fromParams"), rule.strings("fromParams"));
    SecurityChecks.nonEmpty(report, rule.at("fromCookies"), rule.strings("fromCookies"));
    rule.string("outputPayloadToHeader");
    rule.bool("forwardOriginalToken");
    for (Fields claim : rule.objects("outputClaimToHeaders")) {
      for (String field : List.of("header", "claim")) {
        String v = claim.string(field);
        if (v == null || v.isEmpty()) {
          report.error(claim.at(field), claim.at(field) + " is missing; outputClaimToHeaders entries name a header "
              + "and a claim");
        }
      }
      claim.rejectUnknown("ClaimToHeader");
    }
    rule.duration("timeout", false);
    rule.rejectUnknown("JWTRule");
    return issuer;
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
