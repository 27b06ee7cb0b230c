package weft.model.parse;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import weft.model.StringMatch;
import weft.model.VirtualService.CorsPolicy;

/** An HTTP route's {@code corsPolicy}, checked as Istio's validateCORSPolicy checks it. */
final class CorsPolicyParser {
  /** The methods Istio's validateAllowMethods accepts (Go's net/http method names). */
  private static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "CONNECT",
      "OPTIONS", "TRACE");

  private CorsPolicyParser() {}

  static CorsPolicy read(Fields f) {
    if (!f.present()) return null;
    Report report = f.report();
    List<StringMatch> origins = new ArrayList<>();
    for (Fields o : f.objects("allowOrigins")) {
      StringMatch m = StringMatchParser.read(o, false);
      if (m != null) origins.add(m);
    }
    // allowOrigin (exact strings) is the old spelling Istio still reads when allowOrigins is unset.
    List<String> old = f.strings("allowOrigin");
    if (!old.isEmpty()) {
      report.warn(f.at("allowOrigin"), f.at("allowOrigin") + " is deprecated; use allowOrigins with exact matches");
      if (origins.isEmpty()) old.forEach(o -> origins.add(new StringMatch(StringMatch.Kind.EXACT, o)));
    }
    List<String> methods = f.strings("allowMethods");
    for (int i = 0; i < methods.size(); i++) {
      if (!METHODS.contains(methods.get(i))) {
        report.error(f.at("allowMethods") + "[" + i + "]", "method " + Checks.quote(methods.get(i)) + " is not an "
            + "HTTP method; use upper-case names such as GET, POST, PUT, DELETE, OPTIONS");
      }
    }
    List<String> allowHeaders = headerNames(f, "allowHeaders");
    List<String> exposeHeaders = headerNames(f, "exposeHeaders");
    Duration maxAge = f.duration("maxAge", false);
    if (maxAge != null && maxAge.getNano() != 0) {
      report.error(f.at("maxAge"), f.at("maxAge") + " is " + maxAge + "; it counts whole seconds, e.g. 24h or 30s");
    }
    Boolean credentials = f.bool("allowCredentials");
    String preflights = f.enumOf("unmatchedPreflights", List.of("UNSPECIFIED", "FORWARD", "IGNORE"), null);
    f.rejectUnknown("CorsPolicy");
    return new CorsPolicy(origins, methods, allowHeaders, exposeHeaders, maxAge, credentials,
        "UNSPECIFIED".equals(preflights) ? null : preflights);
  }

  private static List<String> headerNames(Fields f, String field) {
    List<String> names = f.strings(field);
    for (int i = 0; i < names.size(); i++) {
      if (!Checks.isHttpHeaderName(names.get(i)) && !names.get(i).equals("*")) {
        f.report().error(f.at(field) + "[" + i + "]", "header name " + Checks.quote(names.get(i)) + " is invalid; "
            + "use letters, digits, '-' and '_'");
      }
    }
    return names;
  }
}
