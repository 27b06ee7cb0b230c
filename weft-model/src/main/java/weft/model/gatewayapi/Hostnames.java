package weft.model.gatewayapi;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;

/** Gateway API hostname rules: a leading {@code *.} matches any one or more labels in front of the suffix. */
final class Hostnames {
  private Hostnames() {}

  /**
   * The hosts a route serves on a listener: every route hostname that the listener's hostname
   * admits, each as the more specific of the two; the listener's own (or {@code *}) when the route
   * names none. Empty when none intersect: the route does not attach to this listener.
   */
  static List<String> intersect(String listener, List<String> route) {
    if (route.isEmpty()) return List.of(listener == null ? "*" : listener);
    LinkedHashSet<String> out = new LinkedHashSet<>();
    for (String r : route) {
      if (listener == null) {
        out.add(r);
      } else if (covers(listener, r)) {
        out.add(r);
      } else if (covers(r, listener)) {
        out.add(listener);
      }
    }
    return new ArrayList<>(out);
  }

  /** Whether every name {@code specific} matches is matched by {@code general}. */
  static boolean covers(String general, String specific) {
    if (general.equals(specific)) return true;
    if (!general.startsWith("*.")) return false;
    String suffix = general.substring(1); // ".example.com"
    String rest = specific.startsWith("*.") ? specific.substring(1) : specific;
    return rest.endsWith(suffix) && rest.length() > suffix.length();
  }

  /** A host as part of a resource name: {@code *} spelt out. */
  static String forName(String host) {
    return host.equals("*") ? "wildcard" : host.replace("*", "wildcard");
  }
}
