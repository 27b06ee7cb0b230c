package weft.model;

import java.util.regex.Pattern;

/**
 * Kubernetes' rules for names, and how to show a name that breaks them. Public because names also
 * arrive outside resources (a proxy's node metadata).
 */
public final class Names {
  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  /** Kubernetes' limit on one label (RFC 1123). */
  private static final int LABEL_MAX = 63;
  /** How much of a bad value a message repeats. */
  private static final int QUOTE_LIMIT = 100;

  private Names() {}

  /** A DNS-1123 label: what a namespace name (and a Service name) must be. */
  public static boolean isDnsLabel(String s) {
    return s != null && s.length() <= LABEL_MAX && DNS_LABEL.matcher(s).matches();
  }

  /**
   * User text quoted for a message: quotes, backslashes, control and non-ASCII characters escaped (so
   * a name cannot forge a log line or colour a terminal), and long text cut.
   */
  public static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    int max = Math.min(s.length(), QUOTE_LIMIT);
    for (int i = 0; i < max; i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < 0x20 || c >= 0x7f) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    if (s.length() > max) b.append("...(").append(s.length()).append(" characters)");
    return b.append('"').toString();
  }
}
