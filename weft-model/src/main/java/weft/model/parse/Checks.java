package weft.model.parse;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Syntax rules that Kubernetes and Istio apply to names, hosts, labels and addresses. Each check
 * returns null when the value is fine, otherwise a sentence saying what is wrong. Addresses are
 * checked textually: nothing here ever resolves a name.
 */
final class Checks {
  private static final Pattern DNS_SUBDOMAIN =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");
  /** Istio's wildcardPrefix (pkg/config/labels): its DNS label pattern admits upper-case letters. */
  private static final Pattern WILDCARD_LABEL = Pattern.compile("\\*|(\\*|\\*-)?[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?");
  /** Istio's DNS-1123 label (pkg/config/labels.IsDNS1123Label): Kubernetes' rule, but any letter case. */
  private static final Pattern ISTIO_LABEL = Pattern.compile("[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?");
  private static final Pattern LABEL_NAME = Pattern.compile("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");
  private static final Pattern IPV4 =
      Pattern.compile("(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");
  private static final Pattern IPV6_CHARS = Pattern.compile("[0-9A-Fa-f:.]+");
  private static final Pattern HTTP_HEADER = Pattern.compile("[-_A-Za-z0-9]+");

  /** Istio's port protocols, by lower-case spelling, in Istio's canonical spelling. */
  private static final Map<String, String> PROTOCOLS = Map.ofEntries(Map.entry("tcp", "TCP"),
      Map.entry("udp", "UDP"), Map.entry("grpc", "GRPC"), Map.entry("grpc-web", "GRPC-Web"), Map.entry("http", "HTTP"),
      Map.entry("http_proxy", "HTTP_PROXY"), Map.entry("http2", "HTTP2"), Map.entry("https", "HTTPS"),
      Map.entry("tls", "TLS"), Map.entry("mongo", "Mongo"), Map.entry("redis", "Redis"), Map.entry("mysql", "MySQL"));

  private Checks() {}

  static boolean isDnsLabel(String s) {
    return weft.model.Names.isDnsLabel(s);
  }

  /** A DNS-1123 subdomain, Kubernetes' rule for most object names: dot-separated labels, at most 253 characters. */
  static boolean isDnsSubdomain(String s) {
    return s != null && s.length() <= 253 && DNS_SUBDOMAIN.matcher(s).matches();
  }

  /** User text quoted for a message, escaped and cut ({@link weft.model.Names#quote}). */
  static String quote(String s) {
    return weft.model.Names.quote(s);
  }

  /**
   * Istio's label check for hosts, port names, subset names and namespaces inside a spec: as
   * Kubernetes' DNS-1123 label but case-insensitive (object names and namespaces of metadata stay
   * Kubernetes' lower-case rule).
   */
  static boolean isIstioLabel(String s) {
    return s != null && s.length() <= 63 && ISTIO_LABEL.matcher(s).matches();
  }

  static String istioLabel(String s, String what) {
    return isIstioLabel(s) ? null
        : what + " " + quote(s) + " is not a valid DNS-1123 label (letters, digits and '-', at most 63, starting "
            + "and ending with a letter or digit)";
  }

  static String dnsLabel(String s, String what) {
    return isDnsLabel(s) ? null
        : what + " \"" + s + "\" is not a valid DNS-1123 label (lower-case letters, digits and '-', at most 63, "
            + "starting and ending with a letter or digit)";
  }

  /** A fully qualified or short DNS name; a trailing dot is allowed; the last label must not be all digits. */
  static String fqdn(String name) {
    String pre = dnsPreconditions(name);
    return pre != null ? pre : dnsLabels(name, name);
  }

  /** A DNS name whose first label may be a wildcard ({@code *}, {@code *.example.com}, {@code *-foo.example.com}). */
  static String wildcardDomain(String name) {
    String pre = dnsPreconditions(name);
    if (pre != null) return pre;
    int dot = name.indexOf('.');
    String first = dot < 0 ? name : name.substring(0, dot);
    if (first.length() > 63 || !WILDCARD_LABEL.matcher(first).matches()) {
      return "host \"" + name + "\" is not a valid DNS name (label \"" + first + "\" is invalid; use "
          + "letters, digits and '-', with an optional leading '*')";
    }
    return dot < 0 ? null : dnsLabels(name, name.substring(dot + 1));
  }

  private static String dnsPreconditions(String name) {
    if (name == null || name.isEmpty()) return "host must not be empty";
    if (name.length() > 255) return "host \"" + name + "\" is longer than 255 characters";
    return null;
  }

  private static String dnsLabels(String whole, String domain) {
    String[] parts = domain.split("\\.", -1);
    String top = parts[parts.length - 1];
    if (!top.isEmpty() && top.chars().allMatch(Character::isDigit)) {
      return "host \"" + whole + "\" is not a valid DNS name (its last label \"" + top + "\" is all digits)";
    }
    for (int i = 0; i < parts.length; i++) {
      if (i == parts.length - 1 && parts[i].isEmpty() && parts.length > 1) return null; // trailing dot
      if (!isIstioLabel(parts[i])) {
        return "host \"" + whole + "\" is not a valid DNS name (label \"" + parts[i] + "\" is invalid; use "
            + "letters, digits and '-')";
      }
    }
    return null;
  }

  static boolean isIp(String s) {
    return s != null && (IPV4.matcher(s).matches() || isIpv6(s));
  }

  static boolean isIpv4(String s) {
    return s != null && IPV4.matcher(s).matches();
  }

  static boolean isIpv6(String s) {
    if (s == null) return false;
    // The character check keeps InetAddress from ever treating the text as a host name to look up.
    // InetAddress parses a literal without a lookup when it starts with a hex digit or ':' and has a ':'.
    if (s.indexOf(':') < 0 || !IPV6_CHARS.matcher(s).matches() || s.charAt(0) == '.') return false;
    try {
      java.net.InetAddress.getByName(s);
      return true;
    } catch (java.net.UnknownHostException | RuntimeException e) {
      return false;
    }
  }

  static String ip(String s) {
    return isIp(s) ? null : "\"" + s + "\" is not a valid IP address";
  }

  /** An IP address or a CIDR block such as 10.0.0.0/8 or 2001:db8::/32. */
  static String ipOrCidr(String s) {
    if (s == null || s.isEmpty()) return "address must not be empty";
    int slash = s.indexOf('/');
    if (slash < 0) return ip(s);
    String addr = s.substring(0, slash);
    String bits = s.substring(slash + 1);
    int max = IPV4.matcher(addr).matches() ? 32 : isIpv6(addr) ? 128 : -1;
    if (max < 0 || bits.isEmpty() || bits.length() > 3 || !bits.chars().allMatch(Character::isDigit)
        || Integer.parseInt(bits) > max) {
      return "\"" + s + "\" is not a valid CIDR block (write it like 10.0.0.0/8 or 2001:db8::/32)";
    }
    return null;
  }

  /** Kubernetes label syntax for one key and value; null when valid. */
  static String label(String key, String value) {
    String keyProblem = labelKey(key);
    if (keyProblem != null) return keyProblem;
    if (value.length() > 63 || (!value.isEmpty() && !LABEL_NAME.matcher(value).matches())) {
      return "label value \"" + value + "\" of key \"" + key + "\" is invalid: a label value must be empty or at most "
          + "63 characters of letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
    }
    return null;
  }

  private static String labelKey(String key) {
    if (key.isEmpty()) return "label key must not be empty";
    int slash = key.indexOf('/');
    String name = slash < 0 ? key : key.substring(slash + 1);
    if (slash >= 0) {
      String prefix = key.substring(0, slash);
      if (prefix.isEmpty() || prefix.length() > 253 || dnsLabels(prefix, prefix) != null || prefix.endsWith(".")) {
        return "label key \"" + key + "\" has an invalid prefix: it must be a DNS subdomain such as example.com";
      }
    }
    if (name.isEmpty() || name.length() > 63 || !LABEL_NAME.matcher(name).matches()) {
      return "label key \"" + key + "\" is invalid: the name part must be at most 63 characters of letters, digits, "
          + "'-', '_' or '.', starting and ending with a letter or digit";
    }
    return null;
  }

  static boolean isHttpHeaderName(String name) {
    return HTTP_HEADER.matcher(name).matches();
  }

  /** Istio reads port protocols ignoring case; this returns its canonical spelling, or null when unknown. */
  static String protocol(String protocol) {
    return PROTOCOLS.get(protocol.toLowerCase(Locale.ROOT));
  }

  /**
   * Istio's exportTo rules: entries are {@code *}, {@code .}, a namespace name, or (ServiceEntry only)
   * {@code ~}; no duplicates; {@code *} and {@code ~} stand alone. Reports into {@code report}.
   */
  static void exportTo(Report report, String path, List<String> exportTo, String namespace, boolean serviceEntry,
      boolean workloadSelectorDr) {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < exportTo.size(); i++) {
      String e = exportTo.get(i);
      String at = path + "[" + i + "]";
      String key = e.equals(".") ? namespace : e;
      if (!seen.add(key)) {
        report.error(at, "duplicate exportTo entry \"" + e + "\"" + (e.equals(key) ? "" : " (\".\" is namespace "
            + namespace + ")") + "; remove the duplicate");
      } else if (e.equals("~") && !serviceEntry) {
        report.error(at, "exportTo \"~\" (export to no one) is only allowed on a ServiceEntry; use \".\" to keep "
            + "this resource in its own namespace");
      } else if (!e.equals("*") && !e.equals(".") && !e.equals("~") && !isDnsLabel(e)) {
        report.error(at, "exportTo entry \"" + e + "\" is invalid; use \"*\" (everyone), \".\" (this namespace)"
            + (serviceEntry ? ", \"~\" (no one)" : "") + " or a namespace name");
      }
    }
    if (exportTo.size() > 1 && seen.contains("*")) {
      report.error(path, "exportTo lists \"*\" with other entries; \"*\" already means every namespace, so use it alone");
    }
    if (exportTo.size() > 1 && seen.contains("~")) {
      report.error(path, "exportTo lists \"~\" (no one) with other entries; use \"~\" alone or drop it");
    }
    if (workloadSelectorDr && !exportTo.isEmpty()
        && (!seen.contains(namespace) || seen.size() > 1)) {
      report.error(path, "a DestinationRule with a workloadSelector can only be exported to its own namespace; set "
          + "exportTo to [\".\"] or remove it");
    }
  }

  /** Validates each label key/value of a selector or label map, reporting under {@code path}. */
  static void labels(Report report, String path, Map<String, String> labels) {
    labels.forEach((k, v) -> {
      String problem = label(k, v);
      if (problem != null) report.error(path + "." + k, problem + "; fix the label");
    });
  }

  /** Istio's workload selectors additionally forbid wildcards. */
  static void workloadSelector(Report report, String path, Map<String, String> labels) {
    if (labels.isEmpty()) {
      report.warn(path, "workload selector has no labels, so it selects every workload in the namespace; add labels "
          + "or remove the selector");
    }
    labels.forEach((k, v) -> {
      if (k.contains("*") || v.contains("*")) {
        report.error(path + "." + k, "wildcards are not allowed in a workload selector (\"" + k + "=" + v
            + "\"); list exact label values");
      }
    });
    labels(report, path, labels);
  }
}
