package weft.model;

/**
 * The rule for a cluster id, wherever one comes from: a remote secret's data key, {@code --cluster-id},
 * {@code --remote-config-dir ID=DIR}, a proxy's CLUSTER_ID metadata.
 *
 * <p>1 to 253 characters of {@code [A-Za-z0-9._-]}: exactly what Kubernetes allows as a Secret data
 * key, so every id can name a key of a remote secret and every key is a valid id (Istio's default id
 * {@code Kubernetes} included). Ids end up in log lines, metric labels, file names of saved state
 * and Envoy names; this rule keeps newlines, escape codes, slashes and separators out of all of them.
 */
public final class ClusterIds {
  /** Kubernetes' limit for a Secret data key (a DNS subdomain's length). */
  public static final int MAX_LENGTH = 253;

  private ClusterIds() {}

  /** Null when {@code id} is a valid cluster id, otherwise what is wrong, quoting it safely. */
  public static String problem(String id) {
    if (id == null || id.isEmpty()) {
      return "cluster id is empty; use 1 to " + MAX_LENGTH + " characters of letters, digits, '.', '_' and '-'";
    }
    if (id.length() > MAX_LENGTH) {
      return "cluster id " + quote(id) + " is " + id.length() + " characters long; at most " + MAX_LENGTH
          + " are allowed (the limit of a Secret data key)";
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      boolean ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_'
          || c == '-';
      if (!ok) {
        return "cluster id " + quote(id) + " has " + describe(c) + " at position " + (i + 1) + "; use only letters, "
            + "digits, '.', '_' and '-' (what a Secret data key allows)";
      }
    }
    return null;
  }

  /** {@code text} quoted for a message, escaped and cut as every name is ({@link Names#quote}). */
  public static String quote(String text) {
    return text == null ? "null" : Names.quote(text);
  }

  private static String describe(char c) {
    if (c < 0x20 || c == 0x7f) return "a control character (U+" + String.format("%04X", (int) c) + ")";
    if (c == ' ') return "a space";
    return "'" + (c < 0x7f ? String.valueOf(c) : String.format("\\u%04x", (int) c)) + "'";
  }
}
