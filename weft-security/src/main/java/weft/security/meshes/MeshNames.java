package weft.security.meshes;

import com.google.common.net.InetAddresses;
import java.util.regex.Pattern;

/** The checks every name and address read from a peer or a MeshFederation goes through. */
public final class MeshNames {
  // RFC 1123 label, as Kubernetes names namespaces and Services.
  private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  // A mesh id is a DNS name: it becomes part of the imported host names.
  private static final Pattern DNS_NAME = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
      + "(\\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*");
  // SPIFFE ID spec: a trust domain is lower-case letters, digits, '.', '-' and '_'.
  private static final Pattern TRUST_DOMAIN = Pattern.compile("[a-z0-9._-]{1,255}");
  // SPIFFE ID spec: path segments of letters, digits, '.', '-' and '_'; no empty, '.' or '..' segment.
  private static final Pattern SPIFFE_PATH = Pattern.compile("(/[A-Za-z0-9._-]+)+");

  private MeshNames() {}

  public static boolean isLabel(String s) {
    return s != null && LABEL.matcher(s).matches();
  }

  /** A DNS name of at most 253 characters (no wildcard, no trailing dot). */
  public static boolean isDnsName(String s) {
    return s != null && s.length() <= 253 && DNS_NAME.matcher(s).matches();
  }

  public static boolean isTrustDomain(String s) {
    return s != null && TRUST_DOMAIN.matcher(s).matches();
  }

  /** {@code spiffe://TRUST_DOMAIN/PATH} in exactly {@code trustDomain}, at most 2048 characters. */
  public static boolean isSpiffeIdIn(String id, String trustDomain) {
    String prefix = "spiffe://" + trustDomain;
    if (id == null || id.length() > 2048 || !id.startsWith(prefix + "/")) return false;
    String path = id.substring(prefix.length());
    if (!SPIFFE_PATH.matcher(path).matches()) return false;
    for (String seg : path.substring(1).split("/")) {
      if (seg.equals(".") || seg.equals("..")) return false;
    }
    return true;
  }

  /** An IPv4 or IPv6 literal (never a name to look up). */
  public static boolean isIpLiteral(String s) {
    return s != null && s.length() <= 45 && !s.contains("%") && InetAddresses.isInetAddress(s);
  }

  public static boolean isPort(long p) {
    return p >= 1 && p <= 65535;
  }

  /**
   * {@code IP:PORT} or {@code [IPv6]:PORT} read as a gateway.
   *
   * @throws IllegalArgumentException saying what is wrong
   */
  public static MeshPeer.Gateway gateway(String s) {
    if (s == null || s.isEmpty()) throw new IllegalArgumentException("an empty gateway address");
    int colon = s.lastIndexOf(':');
    if (colon < 0) throw new IllegalArgumentException("gateway '" + s + "' has no port (IP:PORT, e.g. 198.18.0.10:15443)");
    String host = s.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
    if (!isIpLiteral(host)) {
      throw new IllegalArgumentException("gateway '" + s + "' is not IP:PORT (an IP address, never a name)");
    }
    int port;
    try {
      port = Integer.parseInt(s.substring(colon + 1));
    } catch (NumberFormatException e) {
      port = -1;
    }
    if (!isPort(port)) throw new IllegalArgumentException("gateway '" + s + "' has no port in 1..65535");
    return new MeshPeer.Gateway(InetAddresses.toAddrString(InetAddresses.forString(host)), port);
  }
}
