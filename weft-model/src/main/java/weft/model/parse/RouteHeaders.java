package weft.model.parse;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import weft.model.VirtualService.HeaderOperations;
import weft.model.VirtualService.Headers;

/**
 * {@code headers: {request: {set, add, remove}, response: {...}}} of an HTTP route or destination,
 * checked as Istio's validateHTTPRoute checks it: valid header names, no pseudo-headers or Host, except
 * that requests may set (or add) the authority, which becomes a host rewrite.
 */
final class RouteHeaders {
  private RouteHeaders() {}

  static Headers read(Fields f) {
    if (!f.present()) return null;
    HeaderOperations request = operations(f.object("request"), true);
    HeaderOperations response = operations(f.object("response"), false);
    f.rejectUnknown("Headers");
    return new Headers(request, response);
  }

  /** True when the request side sets or adds {@code :authority} or {@code host}. */
  static boolean setsAuthority(Headers h) {
    if (h.request() == null) return false;
    return h.request().set().keySet().stream().anyMatch(RouteHeaders::isAuthority)
        || h.request().add().keySet().stream().anyMatch(RouteHeaders::isAuthority);
  }

  static boolean isAuthority(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return n.equals(":authority") || n.equals("host");
  }

  private static HeaderOperations operations(Fields f, boolean request) {
    if (!f.present()) return null;
    Map<String, String> set = checked(f, "set", f.stringMap("set"), request);
    Map<String, String> add = checked(f, "add", f.stringMap("add"), request);
    List<String> remove = new ArrayList<>();
    List<String> names = f.strings("remove");
    for (int i = 0; i < names.size(); i++) {
      String bad = badName(names.get(i), false);
      if (bad != null) {
        f.report().error(f.at("remove") + "[" + i + "]", bad);
      } else {
        remove.add(names.get(i));
      }
    }
    f.rejectUnknown("Headers.HeaderOperations");
    return new HeaderOperations(set, add, remove);
  }

  private static Map<String, String> checked(Fields f, String field, Map<String, String> in, boolean authorityAllowed) {
    Map<String, String> out = new LinkedHashMap<>();
    in.forEach((name, value) -> {
      String bad = badName(name, authorityAllowed);
      if (bad != null) {
        f.report().error(f.at(field) + "." + name, bad);
      } else {
        out.put(name, value);
      }
    });
    return out;
  }

  private static String badName(String name, boolean authorityAllowed) {
    if (authorityAllowed && isAuthority(name)) return null;
    if (name.startsWith(":") || name.equalsIgnoreCase("host")) {
      return "header " + Checks.quote(name) + " cannot be changed (pseudo-headers and Host are the proxy's own"
          + (authorityAllowed ? "; set :authority or host in request.set to rewrite the authority" : "") + ")";
    }
    if (!Checks.isHttpHeaderName(name)) {
      return "header name " + Checks.quote(name) + " is invalid; use letters, digits, '-' and '_'";
    }
    return null;
  }
}
