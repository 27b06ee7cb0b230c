package weft.model.parse;

import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What the {@code security.istio.io} kinds share: their workload selector ({@code selector: {matchLabels}})
 * and Istio's rules for the values of authorization rules. Checks report into the given report; those
 * returning a String return null when the value is fine.
 */
final class SecurityChecks {
  /** Istio's limit on service accounts in one list. */
  private static final int MAX_SERVICE_ACCOUNTS = 16;
  private static final int MAX_SERVICE_ACCOUNT_LENGTH = 320;
  private static final String MATCH_ONE = "{*}";
  private static final String MATCH_ANY = "{**}";
  /** RFC 3986 pchar, what Envoy allows in a literal segment of a URI template. */
  private static final Pattern PATH_LITERAL = Pattern.compile("[a-zA-Z0-9-._~%!$&'()+,;:@=]+");

  private SecurityChecks() {}

  /**
   * {@code selector: {matchLabels: ...}}: the labels, or null when the selector is absent or has no labels
   * (Istio then applies the policy to the whole namespace, and warns).
   */
  static Map<String, String> selector(Fields spec) {
    if (!spec.has("selector")) {
      spec.take("selector");
      return null;
    }
    Fields selector = spec.object("selector");
    Map<String, String> labels = selector.stringMap("matchLabels");
    selector.rejectUnknown("WorkloadSelector");
    Checks.workloadSelector(spec.report(), selector.at("matchLabels"), labels);
    return labels.isEmpty() ? null : labels;
  }

  /** Istio refuses empty strings in every list of a rule. */
  static void nonEmpty(Report report, String at, List<String> values) {
    for (int i = 0; i < values.size(); i++) {
      if (values.get(i).isEmpty()) {
        report.error(at + "[" + i + "]", at + "[" + i + "] is an empty string; remove it or give a value");
      }
    }
  }

  /**
   * Istio treats only a leading or trailing {@code *} as a wildcard and matches any other {@code *}
   * literally, without complaint: that is accepted, with a warning, since it is rarely what was meant.
   * Paths using URI template operators ({@code {*}}, {@code {**}}) are checked by {@link #pathTemplates}.
   */
  static void wildcards(Report report, String at, List<String> values) {
    for (int i = 0; i < values.size(); i++) {
      String v = values.get(i);
      if (isPathTemplate(v)) continue;
      long stars = v.chars().filter(c -> c == '*').count();
      if (stars == 0 || v.equals("*")) continue;
      if (stars > 1 || (!v.startsWith("*") && !v.endsWith("*"))) {
        report.warn(at + "[" + i + "]", at + "[" + i + "] \"" + v + "\" has a '*' that Istio matches literally: only "
            + "one '*', as the first or last character, is a wildcard (\"abc*\" prefix, \"*abc\" suffix, \"*\" any "
            + "value); rewrite it as a prefix or suffix match if a wildcard was meant");
      }
    }
  }

  /** Istio's trust domain values: at most one '*', first or last, and no '/'. */
  static void trustDomains(Report report, String at, List<String> values) {
    for (int i = 0; i < values.size(); i++) {
      String v = values.get(i);
      String where = at + "[" + i + "]";
      String bad = v.isEmpty() ? "is an empty string; remove it or give a value" : wildcardOnlyAtEnds(v);
      if (bad == null && v.contains("/")) {
        bad = "\"" + v + "\" is not a trust domain: it must not contain '/'; write the trust domain alone, e.g. "
            + "cluster.local";
      }
      if (bad != null) report.error(where, where + " " + bad);
    }
  }

  /** Values where Istio refuses any '*' but a single leading or trailing one. */
  static void strictWildcards(Report report, String at, List<String> values) {
    for (int i = 0; i < values.size(); i++) {
      String bad = wildcardOnlyAtEnds(values.get(i));
      if (bad != null) report.error(at + "[" + i + "]", at + "[" + i + "] " + bad);
    }
  }

  private static String wildcardOnlyAtEnds(String v) {
    long stars = v.chars().filter(c -> c == '*').count();
    if (stars > 1) {
      return "\"" + v + "\" has more than one '*'; use a single '*' as the first or last character (prefix, "
          + "suffix or \"*\" for any value)";
    }
    if (stars == 1 && !v.startsWith("*") && !v.endsWith("*")) {
      return "\"" + v + "\" has a '*' in the middle; a wildcard may only be the first or last character";
    }
    return null;
  }

  /** Service accounts: {@code name} or {@code namespace/name}, no wildcard, at most 16 of them. */
  static void serviceAccounts(Report report, String at, List<String> values) {
    if (values.size() > MAX_SERVICE_ACCOUNTS) {
      report.error(at, at + " lists " + values.size() + " service accounts; Istio allows at most "
          + MAX_SERVICE_ACCOUNTS + ", so split the rule or use namespaces or principals");
    }
    for (int i = 0; i < values.size(); i++) {
      String v = values.get(i);
      String where = at + "[" + i + "]";
      String fix = "; write it as namespace/serviceaccount, e.g. default/productpage, or just the service account "
          + "name for one in this policy's namespace";
      int slash = v.indexOf('/');
      if (v.isEmpty()) {
        report.error(where, where + " is an empty string" + fix);
      } else if (v.contains("*")) {
        report.error(where, where + " \"" + v + "\" has a wildcard, which service accounts do not allow" + fix);
      } else if (slash != v.lastIndexOf('/')) {
        report.error(where, where + " \"" + v + "\" has more than one '/'" + fix);
      } else if (v.length() > MAX_SERVICE_ACCOUNT_LENGTH) {
        report.error(where, where + " is longer than " + MAX_SERVICE_ACCOUNT_LENGTH + " characters" + fix);
      } else if (slash == 0 || slash == v.length() - 1) {
        report.error(where, where + " \"" + v + "\" has an empty " + (slash == 0 ? "namespace" : "service account")
            + fix);
      }
    }
  }

  /** IP addresses or CIDR blocks. */
  static void ipBlocks(Report report, String at, List<String> values) {
    for (int i = 0; i < values.size(); i++) {
      String bad = Checks.ipOrCidr(values.get(i));
      if (bad != null) report.error(at + "[" + i + "]", at + "[" + i + "]: " + bad);
    }
  }

  /** Ports as decimal strings; Istio accepts 0 to 65535. */
  static void ports(Report report, String at, List<String> values) {
    for (int i = 0; i < values.size(); i++) {
      String bad = port(values.get(i));
      if (bad != null) report.error(at + "[" + i + "]", at + "[" + i + "] " + bad);
    }
  }

  static String port(String v) {
    if (v.isEmpty() || v.length() > 10 || !v.chars().allMatch(c -> c >= '0' && c <= '9')
        || Long.parseLong(v) > 65535) {
      return "\"" + v + "\" is not a port; write a port number from 1 to 65535 as a string, e.g. \"8080\"";
    }
    return null;
  }

  static boolean isPathTemplate(String path) {
    return path.contains(MATCH_ONE) || path.contains(MATCH_ANY);
  }

  /**
   * Istio's URI template rules: {@code {*}} and {@code {**}} must be whole segments, {@code {**}} only
   * last, no other braces, and in a template the other segments must be plain URI characters.
   */
  static void pathTemplates(Report report, String at, List<String> paths) {
    for (int i = 0; i < paths.size(); i++) {
      String bad = pathTemplate(paths.get(i));
      if (bad != null) report.error(at + "[" + i + "]", at + "[" + i + "] " + bad);
    }
  }

  private static String pathTemplate(String path) {
    boolean template = isPathTemplate(path);
    String trimmed = trimSlashes(path);
    boolean any = false;
    for (String segment : trimmed.split("/", -1)) {
      boolean operator = segment.equals(MATCH_ONE) || segment.equals(MATCH_ANY);
      if (operator && any) {
        return "\"" + path + "\" has a path template operator after {**}; {**} must be the last operator";
      }
      if (operator) {
        any = segment.equals(MATCH_ANY);
        continue;
      }
      if (segment.contains("{") || segment.contains("}")) {
        return "\"" + path + "\" has '{' or '}' outside a whole-segment {*} or {**} operator; write templates like "
            + "/foo/{*}/bar or /foo/{**}";
      }
      if (template && !PATH_LITERAL.matcher(segment).matches()) {
        return "\"" + path + "\" is a path template with the invalid segment \"" + segment + "\"; in a template the "
            + "other segments must be non-empty and use only URI path characters (no '*', no empty segment)";
      }
    }
    return null;
  }

  private static String trimSlashes(String s) {
    int start = 0;
    int end = s.length();
    while (start < end && s.charAt(start) == '/') start++;
    while (end > start && s.charAt(end - 1) == '/') end--;
    return s.substring(start, end);
  }
}
