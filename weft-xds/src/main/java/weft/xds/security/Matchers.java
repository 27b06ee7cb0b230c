package weft.xds.security;

import io.envoyproxy.envoy.config.core.v3.CidrRange;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import com.google.protobuf.UInt32Value;

/**
 * Istio's string rules for authorization values ({@code abc} exact, {@code abc*} prefix,
 * {@code *abc} suffix, {@code *} any non-empty value) as Envoy matchers, in the forms both Envoy
 * and grpc-java's RBAC engine read: exact, prefix, suffix and RE2 {@code safe_regex} string
 * matchers, and header matchers by {@code string_match} or {@code present_match}.
 */
public final class Matchers {
  private static final String SPIFFE = "spiffe://";
  private static final String REGEX_META = "\\.+*?()|[]{}^$";

  private Matchers() {}

  /** A value matched as Istio matches paths and SNI. */
  static StringMatcher string(String v) {
    if (v.equals("*")) return regex(".+");
    if (v.startsWith("*")) return StringMatcher.newBuilder().setSuffix(v.substring(1)).build();
    if (v.endsWith("*")) return StringMatcher.newBuilder().setPrefix(v.substring(0, v.length() - 1)).build();
    return StringMatcher.newBuilder().setExact(v).build();
  }

  /** A peer principal such as {@code cluster.local/ns/default/sa/web} against the certificate's SPIFFE URI. */
  static StringMatcher principal(String v) {
    if (v.equals("*")) return regex(".+");
    if (v.startsWith("*")) return StringMatcher.newBuilder().setSuffix(v.substring(1)).build();
    if (v.endsWith("*")) return StringMatcher.newBuilder().setPrefix(SPIFFE + v.substring(0, v.length() - 1)).build();
    return StringMatcher.newBuilder().setExact(SPIFFE + v).build();
  }

  /** Istio's namespace match: the identity's {@code /ns/NAMESPACE/} segment, with {@code *} as any text. */
  static StringMatcher namespace(String v) {
    return regex(".*/ns/" + wildcards(v) + "/.*");
  }

  /** Istio's service-account match: {@code ns/name}, or {@code name} in the policy's namespace. */
  static StringMatcher serviceAccount(String v, String policyNamespace) {
    int slash = v.indexOf('/');
    String ns = slash < 0 ? policyNamespace : v.substring(0, slash);
    String sa = slash < 0 ? v : v.substring(slash + 1);
    return regex("spiffe://.+/ns/" + quote(ns) + "/(.+/|)sa/" + quote(sa) + "(/.+)?");
  }

  /** Istio's trust-domain match on the identity's first segment. */
  static StringMatcher trustDomain(String v) {
    if (v.equals("*")) return StringMatcher.newBuilder().setPrefix(SPIFFE).build();
    int star = v.indexOf('*');
    if (star < 0) return StringMatcher.newBuilder().setPrefix(SPIFFE + v + "/").build();
    return regex("spiffe://" + quote(v.substring(0, star)) + "[^/]*" + quote(v.substring(star + 1)) + "/.*");
  }

  /** A path, or a URI template with {@code {*}} (one segment) and {@code {**}} (the rest) as a regex. */
  static StringMatcher path(String v) {
    if (!v.contains("{*}") && !v.contains("{**}")) return string(v);
    StringBuilder re = new StringBuilder();
    for (int i = 0; i < v.length(); ) {
      if (v.startsWith("{**}", i)) {
        re.append(".*");
        i += 4;
      } else if (v.startsWith("{*}", i)) {
        re.append("[^/]+");
        i += 3;
      } else {
        re.append(quote(String.valueOf(v.charAt(i))));
        i++;
      }
    }
    return regex(re.toString());
  }

  /** Istio's header rule; {@code *} means the header is present. */
  static HeaderMatcher header(String name, String v, boolean ignoreCase) {
    HeaderMatcher.Builder h = HeaderMatcher.newBuilder().setName(name);
    if (v.equals("*")) return h.setPresentMatch(true).build();
    StringMatcher.Builder m = string(v).toBuilder();
    if (ignoreCase) m.setIgnoreCase(true);
    return h.setStringMatch(m).build();
  }

  static StringMatcher regex(String regex) {
    return StringMatcher.newBuilder().setSafeRegex(RegexMatcher.newBuilder().setRegex(regex)).build();
  }

  /** {@code 10.0.0.0/8} or a single address; null when the text is neither. */
  public static CidrRange cidr(String text) {
    int slash = text.indexOf('/');
    String ip = slash < 0 ? text : text.substring(0, slash);
    int max = ip.contains(":") ? 128 : 32;
    int len = max;
    if (slash >= 0) {
      try {
        len = Integer.parseInt(text.substring(slash + 1));
      } catch (NumberFormatException e) {
        return null;
      }
    }
    if (ip.isEmpty() || len < 0 || len > max) return null;
    return CidrRange.newBuilder().setAddressPrefix(ip).setPrefixLen(UInt32Value.of(len)).build();
  }

  private static String wildcards(String v) {
    StringBuilder out = new StringBuilder();
    String[] parts = v.split("\\*", -1);
    for (int i = 0; i < parts.length; i++) {
      if (i > 0) out.append(".*");
      out.append(quote(parts[i]));
    }
    return out.toString();
  }

  /** Escapes RE2's metacharacters, as Go's regexp.QuoteMeta. */
  static String quote(String s) {
    StringBuilder out = new StringBuilder(s.length());
    for (char c : s.toCharArray()) {
      if (REGEX_META.indexOf(c) >= 0) out.append('\\');
      out.append(c);
    }
    return out.toString();
  }
}
