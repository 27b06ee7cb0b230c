package weft.xds.security;

import io.envoyproxy.envoy.config.rbac.v3.Principal;
import io.envoyproxy.envoy.type.matcher.v3.ListMatcher;
import io.envoyproxy.envoy.type.matcher.v3.MetadataMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.matcher.v3.ValueMatcher;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * AuthorizationPolicy's JWT attributes as RBAC metadata matchers on what Envoy's {@code jwt_authn} filter
 * writes: the verified payload of each provider, under the provider's issuer, in the filter's metadata
 * namespace (see {@code weft.xds.authn.JwtAuthn}). Istio reads the same attributes from its own
 * {@code istio_authn} filter, which exists only in Istio's Envoy build; the payload is what both read.
 *
 * <p>A request principal {@code ISS/SUB} matches when the payload under issuer {@code ISS} has {@code sub}
 * {@code SUB}; Istio's {@code *}, {@code prefix*} and {@code *suffix} forms are split at each known
 * issuer. A claim matches as a string or as any element of a list (audiences and groups are often
 * lists). Only issuers a RequestAuthentication of the workload names can have a payload: with none, these
 * attributes match no request, and their {@code not} forms every one.
 */
final class JwtMatchers {
  /** Envoy's jwt_authn filter name, its dynamic-metadata namespace. */
  static final String FILTER = "envoy.filters.http.jwt_authn";
  private static final Principal NEVER = Principal.newBuilder().setNotId(Principal.newBuilder().setAny(true)).build();

  private JwtMatchers() {}

  /** {@code requestPrincipals} and {@code request.auth.principal}. */
  static Principal requestPrincipal(String v, Collection<String> issuers) {
    List<Principal> any = new ArrayList<>();
    for (String issuer : issuers) {
      String head = issuer + "/";
      if (v.equals("*")) {
        any.add(present(issuer, "sub"));
      } else if (v.endsWith("*")) {
        String prefix = v.substring(0, v.length() - 1);
        if (prefix.startsWith(head)) {
          String sub = prefix.substring(head.length());
          any.add(sub.isEmpty() ? present(issuer, "sub") : string(issuer, List.of("sub"),
              StringMatcher.newBuilder().setPrefix(sub).build()));
        } else if (head.startsWith(prefix)) {
          any.add(present(issuer, "sub"));
        }
      } else if (v.startsWith("*")) {
        String suffix = v.substring(1);
        // All of the suffix within the subject, or its start at the end of "ISS/" and the rest the whole subject.
        any.add(string(issuer, List.of("sub"), StringMatcher.newBuilder().setSuffix(suffix).build()));
        for (int k = 1; k < suffix.length(); k++) {
          if (head.endsWith(suffix.substring(0, k))) {
            any.add(string(issuer, List.of("sub"), StringMatcher.newBuilder().setExact(suffix.substring(k)).build()));
          }
        }
      } else if (v.startsWith(head) && v.length() > head.length()) {
        any.add(string(issuer, List.of("sub"), StringMatcher.newBuilder().setExact(v.substring(head.length())).build()));
      }
    }
    return or(any);
  }

  /** {@code request.auth.claims[A][B]...}, {@code request.auth.audiences} and {@code request.auth.presenter}. */
  static Principal claim(List<String> path, String v, Collection<String> issuers) {
    List<Principal> any = new ArrayList<>();
    StringMatcher m = Matchers.string(v);
    for (String issuer : issuers) {
      any.add(metadata(issuer, path, ValueMatcher.newBuilder().setStringMatch(m).build()));
      any.add(metadata(issuer, path, ValueMatcher.newBuilder().setListMatch(ListMatcher.newBuilder()
          .setOneOf(ValueMatcher.newBuilder().setStringMatch(m))).build()));
    }
    return or(any);
  }

  /**
   * The claim path of a {@code request.auth.*} key other than the principal; null when the key is none of
   * them. {@code request.auth.claims[a][b]} is the nested claim {@code b} of {@code a}.
   */
  static List<String> claimPath(String key) {
    if (key.equals("request.auth.audiences")) return List.of("aud");
    if (key.equals("request.auth.presenter")) return List.of("azp");
    String prefix = "request.auth.claims[";
    if (!key.startsWith(prefix) || !key.endsWith("]")) return null;
    List<String> path = List.of(key.substring(prefix.length(), key.length() - 1).split("\\]\\[", -1));
    return path.stream().anyMatch(String::isEmpty) ? null : path;
  }

  private static Principal present(String issuer, String claim) {
    return metadata(issuer, List.of(claim), ValueMatcher.newBuilder().setPresentMatch(true).build());
  }

  private static Principal string(String issuer, List<String> path, StringMatcher m) {
    return metadata(issuer, path, ValueMatcher.newBuilder().setStringMatch(m).build());
  }

  private static Principal metadata(String issuer, List<String> path, ValueMatcher value) {
    MetadataMatcher.Builder m = MetadataMatcher.newBuilder().setFilter(FILTER)
        .addPath(MetadataMatcher.PathSegment.newBuilder().setKey(issuer));
    for (String p : path) m.addPath(MetadataMatcher.PathSegment.newBuilder().setKey(p));
    return Principal.newBuilder().setMetadata(m.setValue(value)).build();
  }

  private static Principal or(List<Principal> any) {
    if (any.isEmpty()) return NEVER;
    if (any.size() == 1) return any.get(0);
    return Principal.newBuilder().setOrIds(Principal.Set.newBuilder().addAllIds(any)).build();
  }
}
